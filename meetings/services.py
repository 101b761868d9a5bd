"""Every write to meetings, attendance, minutes and votes goes through here.

A closed meeting (signed minutes) refuses every write except addenda and the signed scan.
"""

from __future__ import annotations

import datetime
import hashlib

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max, ProtectedError, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from cells.models import PartyUnit
from cells.tree_settings import get_setting
from members.models import Member, Membership, Position, StatusPeriod, TemporaryAttachment, User

from . import agenda, counting, notify, summaries
from .models import Addendum, AgendaItem, Attendance, Guest, Meeting, Speech, Vote

MEETING_FIELDS = (
    "kind",
    "combined_thematic",
    "period_year",
    "period_month",
    "topic",
    "scheduled_start",
    "planned_minutes",
    "place",
    "online_link",
)


class Conflict(Exception):
    """Someone else saved this text first; the caller keeps its text and shows both."""

    def __init__(self, current: AgendaItem):
        super().__init__(_("Someone else saved this item while you were typing."))
        self.current = current


def _lock(meeting: Meeting) -> Meeting:
    return Meeting.objects.select_for_update(of=("self",)).select_related("unit").get(pk=meeting.pk)


def _writable(meeting: Meeting) -> None:
    if meeting.status == Meeting.Status.CLOSED:
        raise ValidationError(_("The minutes of this meeting are closed; add a dated addendum instead."))
    if meeting.status == Meeting.Status.CANCELLED:
        raise ValidationError(_("This meeting was cancelled."))


def _touch(meeting: Meeting) -> None:
    # Cached fragments are keyed on updated_at: every write to a meeting's rows moves it.
    Meeting.objects.filter(pk=meeting.pk).update(updated_at=timezone.now())


def meeting_date(meeting: Meeting) -> datetime.date:
    return timezone.localdate(meeting.actual_start or meeting.scheduled_start)


# --- Scheduling ---------------------------------------------------------------------------------


def schedule_warnings(meeting: Meeting) -> list[str]:
    """Warnings, never blocks (DOMAIN.md "Cadence"): duplicate month, no committee pre-meeting,
    materials not available a day before."""
    warnings = []
    others = Meeting.objects.filter(unit=meeting.unit).exclude(pk=meeting.pk).exclude(status=Meeting.Status.CANCELLED)
    if meeting.kind == Meeting.Kind.REGULAR:
        if others.filter(
            kind=Meeting.Kind.REGULAR, period_year=meeting.period_year, period_month=meeting.period_month
        ).exists():
            warnings.append(
                _("A regular meeting already exists for %(month)02d/%(year)s.")
                % {"month": meeting.period_month, "year": meeting.period_year}
            )
        window = get_setting(meeting.unit, "committee_premeeting_days")
        start = meeting.scheduled_start
        if not others.filter(
            kind=Meeting.Kind.COMMITTEE,
            scheduled_start__lt=start,
            scheduled_start__gte=start - datetime.timedelta(days=window),
        ).exists():
            warnings.append(
                _("No committee meeting is scheduled in the %(days)s days before this meeting.") % {"days": window}
            )
    if meeting.kind in (Meeting.Kind.REGULAR, Meeting.Kind.THEMATIC) and meeting.status in (
        Meeting.Status.DRAFT,
        Meeting.Status.SCHEDULED,
    ):
        lead = get_setting(meeting.unit, "materials_lead_days")
        due = meeting.scheduled_start - datetime.timedelta(days=lead)
        if (meeting.pk is None or not meeting.materials.exists()) and timezone.now() >= due - datetime.timedelta(
            days=2
        ):
            warnings.append(
                _(
                    "Materials (agenda, draft resolution) must be available %(days)s day(s) before the "
                    "meeting; none are attached yet."
                )
                % {"days": lead}
            )
    return warnings


def _agenda_create(meeting: Meeting) -> None:
    # The titles go into the biên bản: stored in Vietnamese whatever the scheduler's language.
    with translation.override("vi"):
        AgendaItem.objects.bulk_create(
            AgendaItem(meeting=meeting, order=i, key=item.key, title=str(item.title))
            for i, item in enumerate(agenda.standard_items(meeting), start=1)
        )


@transaction.atomic
def meeting_schedule(
    *, unit: PartyUnit, by: User, presenters=(), status: str = Meeting.Status.SCHEDULED, **fields
) -> Meeting:
    meeting = Meeting(
        unit=unit, created_by=by, status=status, **{k: v for k, v in fields.items() if k in MEETING_FIELDS}
    )
    if meeting.kind == Meeting.Kind.REGULAR and not meeting.period_year and meeting.scheduled_start:
        local = timezone.localtime(meeting.scheduled_start)
        meeting.period_year, meeting.period_month = local.year, local.month
    meeting.full_clean()
    meeting.save()
    if presenters:
        meeting.presenters.set(presenters)
    _agenda_create(meeting)
    summaries.meeting_changed(meeting)
    notify.meeting_scheduled(meeting)  # rows in this transaction; sending is kicked on commit
    return meeting


def _change_reason(reason: str) -> str | None:
    # simple_history keeps the reason on the history row, at most 100 characters.
    return reason.strip()[:100] or None


@transaction.atomic
def meeting_update(*, meeting: Meeting, by: User, presenters=None, reason: str = "", **fields) -> Meeting:
    meeting = _lock(meeting)
    _writable(meeting)
    moved = any(name in fields and fields[name] != getattr(meeting, name) for name in ("scheduled_start", "place"))
    for name, value in fields.items():
        if name in MEETING_FIELDS:
            setattr(meeting, name, value)
    if moved:
        meeting.revision += 1
    meeting.full_clean()
    meeting._change_reason = _change_reason(reason)
    meeting.save()
    if presenters is not None:
        meeting.presenters.set(presenters)
    summaries.meeting_changed(meeting)
    if moved:
        notify.meeting_moved(meeting)
    return meeting


@transaction.atomic
def meeting_cancel(*, meeting: Meeting, reason: str, by: User) -> Meeting:
    meeting = _lock(meeting)
    _writable(meeting)
    if meeting.status not in (Meeting.Status.DRAFT, Meeting.Status.SCHEDULED):
        raise ValidationError(_("Only a meeting that has not started can be cancelled."))
    if not reason.strip():
        raise ValidationError({"cancel_reason": _("Give the reason for cancelling.")})
    was_scheduled = meeting.status == Meeting.Status.SCHEDULED
    meeting.status, meeting.cancel_reason = Meeting.Status.CANCELLED, reason.strip()
    meeting.revision += 1
    meeting._change_reason = _change_reason(reason)
    meeting.save()
    summaries.meeting_changed(meeting)
    notify.meeting_cancelled(meeting, was_scheduled=was_scheduled)
    return meeting


@transaction.atomic
def meeting_open(*, meeting: Meeting, by: User) -> Meeting:
    """The meeting starts: the roll is taken for its date and check-in opens."""
    meeting = _lock(meeting)
    _writable(meeting)
    if meeting.status not in (Meeting.Status.DRAFT, Meeting.Status.SCHEDULED):
        raise ValidationError(_("This meeting has already started."))
    meeting.status = Meeting.Status.IN_PROGRESS
    if not meeting.actual_start:
        now = timezone.now()
        # Opened on the day: the real time; a past meeting recorded afterwards: its scheduled time.
        near = abs(now - meeting.scheduled_start) < datetime.timedelta(hours=12)
        meeting.actual_start = now if near else meeting.scheduled_start
    meeting.save()
    attendance_sync(meeting=meeting)
    return meeting


@transaction.atomic
def meeting_finish(*, meeting: Meeting, by: User, actual_end: datetime.datetime | None = None) -> Meeting:
    meeting = _lock(meeting)
    _writable(meeting)
    if meeting.status != Meeting.Status.IN_PROGRESS:
        raise ValidationError(_("Only a meeting in progress can be ended."))
    meeting.status = Meeting.Status.HELD
    meeting.actual_end = actual_end or meeting.actual_end or timezone.now()
    meeting.full_clean()
    meeting.save()
    summaries.meeting_changed(meeting)
    return meeting


# --- Attendance ------------------------------------------------------------------------------------


def _period_covers(day):
    return Q(start__lte=day) & (Q(end__isnull=True) | Q(end__gte=day))


def roll_on(unit: PartyUnit, day: datetime.date, committee_only: bool = False) -> dict[int, dict[str, bool]]:
    """Members expected to be listed for a meeting of `unit` on `day`, with their standing.
    A committee meeting lists the cell committee (secretary, deputy, members) of that day."""
    own = set(
        Membership.objects.filter(Membership.active_on(day), cell=unit)
        .filter(member__admitted_on__lte=day)
        .filter(Q(member__ended_on__isnull=True) | Q(member__ended_on__gt=day))
        .values_list("member_id", flat=True)
    )
    if committee_only:
        own &= set(
            Position.objects.filter(Position.active_on(day), unit=unit, member__isnull=False)
            .exclude(role=Position.Role.STAFF)
            .values_list("member_id", flat=True)
        )
    # Members attached here attend the cell's meetings, not its committee's.
    attached_here = (
        set()
        if committee_only
        else set(
            TemporaryAttachment.objects.filter(Membership.active_on(day), cell=unit).values_list("member_id", flat=True)
        )
        - own
    )
    everyone = own | attached_here
    attached_elsewhere = set(
        TemporaryAttachment.objects.filter(Membership.active_on(day), member_id__in=own)
        .exclude(cell=unit)
        .values_list("member_id", flat=True)
    )
    periods = StatusPeriod.objects.filter(_period_covers(day), member_id__in=everyone).values_list("member_id", "kind")
    exempted = {m for m, kind in periods if kind == StatusPeriod.Kind.EXEMPTED}
    suspended = {m for m, kind in periods if kind == StatusPeriod.Kind.SUSPENDED}
    full = set(Member.objects.filter(pk__in=everyone, full_member_on__lte=day).values_list("pk", flat=True))
    return {
        member_id: {
            "is_full": member_id in full,
            "is_exempted": member_id in exempted,
            "is_suspended": member_id in suspended,
            "is_attached_here": member_id in attached_here,
            "is_attached_elsewhere": member_id in attached_elsewhere,
        }
        for member_id in everyone
    }


@transaction.atomic
def attendance_sync(*, meeting: Meeting) -> None:
    """List every member on the roll on the meeting date (and refresh their standing)."""
    _writable(meeting)
    roll = roll_on(meeting.unit, meeting_date(meeting), committee_only=meeting.kind == Meeting.Kind.COMMITTEE)
    existing = {row.member_id: row for row in Attendance.objects.filter(meeting=meeting)}
    new_rows = [Attendance(meeting=meeting, member_id=m, **flags) for m, flags in roll.items() if m not in existing]
    Attendance.objects.bulk_create(new_rows)
    for member_id, row in existing.items():
        flags = roll.get(member_id)
        if flags is None and not row.status:
            row.delete()  # left the roll before the meeting date and never recorded
        elif flags and any(getattr(row, k) != v for k, v in flags.items()):
            for k, v in flags.items():
                setattr(row, k, v)
            row.save()
    _touch(meeting)
    summaries.meeting_changed(meeting)


@transaction.atomic
def attendance_record(
    *,
    meeting: Meeting,
    member: Member,
    status: str,
    by: User,
    reason: str = "",
    reason_approved: bool = False,
    arrived_late: bool = False,
) -> Attendance:
    meeting = _lock(meeting)
    _writable(meeting)
    row = Attendance.objects.select_for_update().filter(meeting=meeting, member=member).first()
    if row is None:
        raise ValidationError(_("This member is not on the roll of this meeting."))
    if status not in Attendance.Status.values and status != "":
        raise ValidationError({"status": _("Unknown attendance status.")})
    row.status, row.reason = status, reason.strip()
    row.reason_approved = reason_approved if status == Attendance.Status.ABSENT_EXCUSED else False
    row.arrived_late = arrived_late if status in Attendance.PRESENT_STATUSES else False
    if status not in Attendance.PRESENT_STATUSES:
        row.checked_in_at = None
    row.full_clean()
    row.save()
    _touch(meeting)
    summaries.meeting_changed(meeting)
    return row


@transaction.atomic
def check_in(*, meeting: Meeting, member: Member) -> Attendance:
    """A member scanned the meeting's QR code: present, with the time (token checked by the view)."""
    meeting = _lock(meeting)
    if meeting.status != Meeting.Status.IN_PROGRESS:
        raise ValidationError(_("Check-in is open only while the meeting is in progress."))
    row = Attendance.objects.select_for_update().filter(meeting=meeting, member=member).first()
    if row is None:
        raise ValidationError(_("You are not on the roll of this meeting."))
    if row.status not in Attendance.PRESENT_STATUSES:
        row.status, row.reason, row.reason_approved = Attendance.Status.PRESENT, "", False
        row.checked_in_at = timezone.now()
        row.save()
        _touch(meeting)
        summaries.meeting_changed(meeting)
    return row


def counts_for(meeting: Meeting, rows=None) -> counting.Counts:
    rows = list(Attendance.objects.filter(meeting=meeting)) if rows is None else rows
    reduces = get_setting(meeting.unit, "approved_absence_reduces_voting_base")
    return counting.count(rows, approved_absence_reduces=reduces)


@transaction.atomic
def guest_add(*, meeting: Meeting, name: str, title: str = "", is_higher_delegate: bool = True, by: User) -> Guest:
    _writable(_lock(meeting))
    guest = Guest(meeting=meeting, name=name.strip(), title=title.strip(), is_higher_delegate=is_higher_delegate)
    guest.full_clean()
    guest.save()
    _touch(meeting)
    summaries.meeting_changed(meeting)
    return guest


@transaction.atomic
def guest_remove(*, guest: Guest, by: User) -> None:
    _writable(_lock(guest.meeting))
    guest.delete()
    _touch(guest.meeting)
    summaries.meeting_changed(guest.meeting)


# --- Minutes ------------------------------------------------------------------------------------------


@transaction.atomic
def minutes_header_save(*, meeting: Meeting, by: User, **fields) -> Meeting:
    meeting = _lock(meeting)
    _writable(meeting)
    for name in ("chair", "minutes_secretary", "actual_start", "actual_end"):
        if name in fields:
            setattr(meeting, name, fields[name])
    meeting.full_clean()
    meeting.minutes_version += 1
    meeting.save()
    summaries.meeting_changed(meeting)
    return meeting


@transaction.atomic
def agenda_item_save(*, item: AgendaItem, base_version: int, by: User, **fields) -> AgendaItem:
    """Save an item's text if nobody saved it since `base_version`; else raise Conflict."""
    _writable(_lock(item.meeting))
    current = AgendaItem.objects.select_for_update().get(pk=item.pk)
    if current.version != base_version:
        raise Conflict(current)
    for name in ("title", "content", "conclusion"):
        if name in fields:
            setattr(current, name, fields[name])
    if not current.title.strip():
        raise ValidationError({"title": _("An agenda item needs a title.")})
    current.version += 1
    current.updated_by = by
    current.save()
    _touch(item.meeting)
    return current


@transaction.atomic
def agenda_item_add(*, meeting: Meeting, title: str, by: User) -> AgendaItem:
    _writable(_lock(meeting))
    if not title.strip():
        raise ValidationError({"title": _("An agenda item needs a title.")})
    last = meeting.agenda.aggregate(m=Max("order"))["m"] or 0
    item = AgendaItem.objects.create(meeting=meeting, order=last + 1, title=title.strip(), updated_by=by)
    _touch(meeting)
    return item


@transaction.atomic
def agenda_reorder(*, meeting: Meeting, item_ids: list[int], by: User) -> None:
    _writable(_lock(meeting))
    items = {i.pk: i for i in meeting.agenda.select_for_update()}
    if set(item_ids) != set(items):
        raise ValidationError(_("The new order must list every agenda item once."))
    for order, pk in enumerate(item_ids, start=1):
        if items[pk].order != order:
            items[pk].order = order
            items[pk].save(update_fields=["order"])  # the unique constraint is checked at commit
    _touch(meeting)


@transaction.atomic
def agenda_item_remove(*, item: AgendaItem, by: User) -> None:
    _writable(_lock(item.meeting))
    if item.content.strip() or item.conclusion.strip() or item.speeches.exists():
        raise ValidationError(_("This item already has minutes; clear them before removing it."))
    item.delete()
    _touch(item.meeting)


@transaction.atomic
def speech_add(
    *, item: AgendaItem, summary: str, by: User, member: Member | None = None, speaker_name: str = ""
) -> Speech:
    _writable(_lock(item.meeting))
    last = item.speeches.aggregate(m=Max("order"))["m"] or 0
    speech = Speech(
        item=item, member=member, speaker_name=speaker_name.strip(), summary=summary.strip(), order=last + 1
    )
    if not speech.summary:
        raise ValidationError({"summary": _("Write the speaker's opinion.")})
    if member is None and not speech.speaker_name:
        raise ValidationError({"member": _("Choose the speaker.")})
    speech.full_clean()
    speech.save()
    _touch(item.meeting)
    return speech


@transaction.atomic
def speech_remove(*, speech: Speech, by: User) -> None:
    _writable(_lock(speech.item.meeting))
    speech.delete()
    _touch(speech.item.meeting)


@transaction.atomic
def vote_record(
    *, meeting: Meeting, subject: str, votes_for: int, votes_against: int = 0, votes_other: int = 0, by: User
) -> Vote:
    """Votes per subject: for + against + other may not exceed the full members present."""
    meeting = _lock(meeting)
    _writable(meeting)
    counts = counts_for(meeting)
    if min(votes_for, votes_against, votes_other) < 0:
        raise ValidationError(_("Vote counts cannot be negative."))
    if votes_for + votes_against + votes_other > counts.full_present:
        raise ValidationError(
            _(
                "For + against + other (%(total)s) cannot exceed the full members present (%(present)s); "
                "probationary members do not vote."
            )
            % {"total": votes_for + votes_against + votes_other, "present": counts.full_present}
        )
    if not subject.strip():
        raise ValidationError({"subject": _("Name what was voted on.")})
    last = meeting.votes.aggregate(m=Max("order"))["m"] or 0
    vote = Vote.objects.create(
        meeting=meeting,
        subject=subject.strip(),
        order=last + 1,
        votes_for=votes_for,
        votes_against=votes_against,
        votes_other=votes_other,
        voting_base=counts.voting_base,
    )
    _touch(meeting)
    return vote


@transaction.atomic
def vote_remove(*, vote: Vote, by: User) -> None:
    _writable(_lock(vote.meeting))
    try:
        with transaction.atomic():
            vote.delete()
    except ProtectedError:
        # A higher app's record rests on this vote (a draft resolution it decided).
        raise ValidationError(_("This vote has decided a draft resolution and can no longer be removed.")) from None
    _touch(vote.meeting)


def close_problems(meeting: Meeting) -> list[str]:
    """What still stops the minutes from being closed (shown on the page before the button)."""
    problems = []
    if not meeting.chair_id:
        problems.append(_("Choose the chair."))
    if not meeting.minutes_secretary_id:
        problems.append(_("Choose the minutes secretary."))
    if not meeting.actual_start:
        problems.append(_("Enter the actual start time."))
    if not meeting.actual_end:
        problems.append(_("Enter the end time."))
    missing = meeting.attendance.filter(status="").count()
    if missing:
        problems.append(_("Record the attendance of every member on the roll (%(n)s missing).") % {"n": missing})
    return problems


@transaction.atomic
def minutes_close(*, meeting: Meeting, by: User) -> Meeting:
    """Lock the minutes: rendered once, stored with its SHA-256; every download returns those bytes."""
    from .pdf import render_minutes_pdf

    meeting = _lock(meeting)
    _writable(meeting)
    if meeting.status not in (Meeting.Status.IN_PROGRESS, Meeting.Status.HELD):
        raise ValidationError(_("Only a meeting that was held can have its minutes closed."))
    problems = close_problems(meeting)
    if problems:
        raise ValidationError(problems)
    meeting.status = Meeting.Status.CLOSED
    meeting.closed_at, meeting.closed_by = timezone.now(), by
    pdf = render_minutes_pdf(meeting, draft=False)
    meeting.minutes_sha256 = hashlib.sha256(pdf).hexdigest()
    meeting.minutes_pdf.save(f"bien-ban-{meeting.uid}.pdf", ContentFile(pdf), save=False)
    meeting.save()
    summaries.meeting_changed(meeting)
    return meeting


@transaction.atomic
def addendum_add(*, meeting: Meeting, text: str, by: User) -> Addendum:
    from .pdf import render_addendum_pdf

    meeting = _lock(meeting)
    if meeting.status != Meeting.Status.CLOSED:
        raise ValidationError(_("Addenda are for closed minutes; edit the minutes directly."))
    if not text.strip():
        raise ValidationError({"text": _("Write the correction.")})
    addendum = Addendum.objects.create(meeting=meeting, text=text.strip(), created_by=by)
    pdf = render_addendum_pdf(addendum)
    addendum.sha256 = hashlib.sha256(pdf).hexdigest()
    addendum.pdf.save(f"phu-luc-{addendum.uid}.pdf", ContentFile(pdf), save=False)
    addendum.save()
    return addendum


@transaction.atomic
def signed_scan_upload(*, meeting: Meeting, upload, by: User) -> Meeting:
    meeting = _lock(meeting)
    if meeting.status != Meeting.Status.CLOSED:
        raise ValidationError(_("Upload the signed copy after closing the minutes."))
    meeting.signed_scan.save(f"ban-ky-{meeting.uid}{_suffix(upload.name)}", upload, save=False)
    meeting.save()
    return meeting


def _suffix(name: str) -> str:
    dot = name.rfind(".")
    return name[dot:].lower() if dot != -1 else ""
