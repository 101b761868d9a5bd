"""Meeting notifications: the kinds meetings registers, the planners meetings/services.py calls
inside its transactions, and the time-based planners the beat sweep runs (DOMAIN.md "Cadence",
"Counting": discipline; probation).

Occurrences: "r<revision>" for the invitation, "r<revision>:3d" / "r<revision>:2h" for reminders
(a moved meeting has a new revision, so its reminders are new rows); "2026-03" for a cell's month;
"2026:absence:warning" for a member's discipline level in a year.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from cells.models import PartyUnit, UnitSetting
from cells.tree_settings import DEFAULTS, settings_for
from members.models import DuesPayment, Member, Membership, Position, TemporaryAttachment, add_months
from members.notifications.models import Notification
from members.notifications.planning import NOBODY, Recipients, cancel, committee_recipients, plan
from members.notifications.registry import Attachment, NotificationKind, register_kind, register_planner

from . import ics
from .discipline import discipline_count
from .models import Attendance, Meeting

SCHEDULED = "meetings.scheduled"
MOVED = "meetings.moved"
CANCELLED = "meetings.cancelled"
REMINDER = "meetings.reminder"
MATERIALS = "meetings.materials"
COMMITTEE_MISSING = "meetings.committee_missing"
NOT_SCHEDULED = "meetings.regular_not_scheduled"
MATERIALS_MISSING = "meetings.materials_missing"
DISCIPLINE_WARNING = "meetings.discipline_warning"
DISCIPLINE_ALERT = "meetings.discipline_alert"
PROBATION = "meetings.probation_due"
MONTH_MISSED = "meetings.month_without_meeting"

# Rows that belong to one time of a meeting: a move or a cancel replaces them.
TIMED_KINDS = (SCHEDULED, MOVED, REMINDER, MATERIALS, COMMITTEE_MISSING, MATERIALS_MISSING)
MATERIALS_MAX_BYTES = 10 * 1024 * 1024  # larger sets go as a link only


# --- Attachments ----------------------------------------------------------------------------------


def _meeting_of(row: Notification) -> Meeting | None:
    return Meeting.objects.select_related("unit").filter(pk=row.object_id).first()


def calendar_attachments(row: Notification) -> list[Attachment]:
    meeting = _meeting_of(row)
    if meeting is None or not row.calendar:
        return []
    data = ics.meeting_ics(meeting, row.calendar)
    return [Attachment("lich-hop.ics", data, f"text/calendar; method={row.calendar}")]


def materials_attachments(row: Notification) -> list[Attachment]:
    meeting = _meeting_of(row)
    if meeting is None:
        return []
    files, total = [], 0
    for material in meeting.materials.all():
        total += material.size
        if total > MATERIALS_MAX_BYTES:
            return []
        with material.file.open("rb") as f:
            files.append(Attachment(material.original_name, f.read(), material.content_type))
    return files


def register() -> None:
    member_kinds = [
        (SCHEDULED, _("Meeting scheduled"), "meeting_scheduled", (), calendar_attachments),
        (MOVED, _("Meeting moved"), "meeting_moved", (), calendar_attachments),
        (CANCELLED, _("Meeting cancelled"), "meeting_cancelled", (), calendar_attachments),
        (
            REMINDER,
            _("Meeting reminder"),
            "meeting_reminder",
            ("reminder_days_before_meeting", "reminder_hours_before_meeting"),
            calendar_attachments,
        ),
        (
            MATERIALS,
            _("Meeting materials (members who work away)"),
            "meeting_materials",
            ("materials_lead_days",),
            materials_attachments,
        ),
    ]
    for key, label, template, lead, attachments in member_kinds:
        register_kind(NotificationKind(key, label, template, lead, attachments))
    committee_kinds = [
        (
            COMMITTEE_MISSING,
            _("No committee meeting before the regular meeting"),
            "committee_missing",
            ("committee_premeeting_days", "committee_premeeting_reminder_days"),
        ),
        (
            NOT_SCHEDULED,
            _("Regular meeting not yet scheduled"),
            "regular_not_scheduled",
            ("regular_meeting_schedule_by_day",),
        ),
        (
            MATERIALS_MISSING,
            _("Materials not available before the meeting"),
            "materials_missing",
            ("materials_lead_days",),
        ),
        (DISCIPLINE_WARNING, _("Discipline warning (2 months)"), "discipline_warning", ("discipline_warning_months",)),
        (DISCIPLINE_ALERT, _("Discipline alert (3 months)"), "discipline_alert", ("discipline_alert_months",)),
        (PROBATION, _("Probation reaching 12 months"), "probation_due", ("probation_months",)),
        (MONTH_MISSED, _("Month ended without a regular meeting"), "month_without_meeting", ()),
    ]
    for key, label, template, lead in committee_kinds:
        register_kind(NotificationKind(key, label, template, lead, audience="committee"))
    register_planner("meetings.committee_missing", plan_committee_missing)
    register_planner("meetings.regular_not_scheduled", plan_regular_not_scheduled)
    register_planner("meetings.materials_missing", plan_materials_missing)
    register_planner("meetings.discipline", plan_discipline)
    register_planner("meetings.probation", plan_probation)
    register_planner("meetings.month_without_meeting", plan_month_without_meeting)


# --- Helpers --------------------------------------------------------------------------------------


class TreeSettings:
    """One key's value for many units: every row of the key read once, then by path prefix."""

    def __init__(self, key: str):
        self.default = DEFAULTS[key]
        self.rows = dict(UnitSetting.objects.filter(key=key).values_list("unit__path", "value"))

    def for_unit(self, unit: PartyUnit):
        best, best_len = self.default, -1
        for path, value in self.rows.items():
            if unit.path.startswith(path) and len(path) > best_len:
                best, best_len = value, len(path)
        return best


def _meeting_url(meeting: Meeting) -> str:
    return reverse("meetings:detail", args=[meeting.uid])


def _meeting_context(meeting: Meeting) -> dict:
    local = timezone.localtime(meeting.scheduled_start)
    return {
        "meeting": meeting,
        "title": ics.meeting_summary(meeting),
        "unit": meeting.unit,
        "start": local,
        # Lazy: rendered in the message's language (render_text), not the planner's.
        "when": format_lazy(_("{time} on {date}"), time=local.strftime("%H:%M"), date=local.strftime("%d/%m/%Y")),
    }


@dataclass
class Roll:
    """Who a meeting's messages go to, with whether each works away: logins (inbox and e-mail) and
    members without a login (e-mail to the member record's address)."""

    users: dict[int, bool] = field(default_factory=dict)
    members: dict[int, bool] = field(default_factory=dict)

    def away(self) -> Roll:
        return Roll(
            users={pk: True for pk, away in self.users.items() if away},
            members={pk: True for pk, away in self.members.items() if away},
        )


def roll_users(meeting: Meeting) -> Roll:
    """The members invited: the cell's roll on the meeting date and members temporarily attached
    to it (a committee meeting: the cell committee's logins)."""
    day = timezone.localdate(meeting.scheduled_start)
    if meeting.kind == Meeting.Kind.COMMITTEE:
        committee = committee_recipients([meeting.unit_id], day).get(meeting.unit_id, NOBODY)
        return Roll(users=dict.fromkeys(committee.users, False), members=dict.fromkeys(committee.members, False))
    on_roll = Q(member__admitted_on__lte=day) & (Q(member__ended_on__isnull=True) | Q(member__ended_on__gt=day))
    roll = Roll()
    for model in (Membership, TemporaryAttachment):
        rows = model.objects.filter(Membership.active_on(day), on_roll, cell=meeting.unit)
        for member_id, user_id, works_away in rows.values_list("member_id", "member__user_id", "member__works_away"):
            if user_id:
                roll.users[user_id] = works_away
            else:
                roll.members[member_id] = works_away
    return roll


def committee_above(meeting: Meeting) -> Recipients:
    """The committee directly above the cell (DOMAIN.md "Cadence": the higher committee is
    notified in advance). A committee meeting is the cell committee's own business: nobody above."""
    parent_id = meeting.unit.parent_id
    if meeting.kind == Meeting.Kind.COMMITTEE or parent_id is None:
        return NOBODY
    day = timezone.localdate(meeting.scheduled_start)
    return committee_recipients([parent_id], day, roles=Position.RANK).get(parent_id, NOBODY)


def _already(kind: str, model, ids: Iterable[int]) -> set[tuple[int, str]]:
    """(object id, occurrence) pairs already planned for a kind: planners skip their rendering."""
    ids = list(ids)
    if not ids:
        return set()
    return set(
        Notification.objects.filter(
            kind=kind, content_type=ContentType.objects.get_for_model(model), object_id__in=ids
        ).values_list("object_id", "occurrence")
    )


def _month_end(year: int, month: int) -> datetime.date:
    return datetime.date(year + (month == 12), month % 12 + 1, 1) - datetime.timedelta(days=1)


# --- Planned by services (inside their transaction) ---------------------------------------------


def _plan_reminders(meeting: Meeting, now: datetime.datetime, invited: Roll | None = None) -> None:
    settings = settings_for(meeting.unit)
    context, url = _meeting_context(meeting), _meeting_url(meeting)
    invited = roll_users(meeting) if invited is None else invited
    days, hours = settings["reminder_days_before_meeting"], settings["reminder_hours_before_meeting"]
    for label, lead in ((f"{days}d", datetime.timedelta(days=days)), (f"{hours}h", datetime.timedelta(hours=hours))):
        due = meeting.scheduled_start - lead
        if lead and due > now:  # a lead of 0 switches that reminder off
            plan(
                kind=REMINDER,
                obj=meeting,
                recipient_ids=invited.users,
                member_ids=invited.members,
                occurrence=f"r{meeting.revision}:{label}",
                due_at=due,
                context={**context, "lead": label},
                url=url,
                calendar="REQUEST",
            )
    if meeting.kind != Meeting.Kind.COMMITTEE and meeting.scheduled_start > now:
        due = max(meeting.scheduled_start - datetime.timedelta(days=settings["materials_lead_days"]), now)
        plan(
            kind=MATERIALS,
            obj=meeting,
            recipient_ids=invited.away().users,
            member_ids=invited.away().members,
            occurrence=f"r{meeting.revision}",
            due_at=due,
            context=context,
            url=url,
            channels=(Notification.Channel.EMAIL,),
        )


def meeting_scheduled(meeting: Meeting) -> None:
    if meeting.status != Meeting.Status.SCHEDULED:
        return  # a draft tells nobody yet
    now = timezone.now()
    invited = roll_users(meeting)
    plan(
        kind=SCHEDULED,
        obj=meeting,
        **(Recipients(set(invited.users), set(invited.members)) | committee_above(meeting)).as_plan(),
        occurrence=f"r{meeting.revision}",
        due_at=now,
        context=_meeting_context(meeting),
        url=_meeting_url(meeting),
        calendar="REQUEST",
    )
    _plan_reminders(meeting, now, invited)


def meeting_moved(meeting: Meeting) -> None:
    """New time or place: what was planned for the old one is cancelled, the new one planned; the
    invitation carries the next SEQUENCE, so calendars update the event instead of adding one."""
    cancel(obj=meeting, kinds=TIMED_KINDS)
    if meeting.status != Meeting.Status.SCHEDULED:
        return
    now = timezone.now()
    invited = roll_users(meeting)
    plan(
        kind=MOVED,
        obj=meeting,
        **(Recipients(set(invited.users), set(invited.members)) | committee_above(meeting)).as_plan(),
        occurrence=f"r{meeting.revision}",
        due_at=now,
        context=_meeting_context(meeting),
        url=_meeting_url(meeting),
        calendar="REQUEST",
    )
    _plan_reminders(meeting, now, invited)


def meeting_cancelled(meeting: Meeting, was_scheduled: bool = True) -> None:
    cancel(obj=meeting, kinds=TIMED_KINDS)
    if not was_scheduled:
        return  # a draft was never announced
    invited = roll_users(meeting)
    plan(
        kind=CANCELLED,
        obj=meeting,
        **(Recipients(set(invited.users), set(invited.members)) | committee_above(meeting)).as_plan(),
        occurrence=f"r{meeting.revision}",
        due_at=timezone.now(),
        context=_meeting_context(meeting),
        url=_meeting_url(meeting),
        calendar="CANCEL",
    )


# --- Time-based planners (members.tasks.plan_notifications) --------------------------------------


def _committees(unit_ids: Iterable[int], day: datetime.date) -> dict[int, Recipients]:
    return committee_recipients(unit_ids, day)


def plan_committee_missing(now: datetime.datetime) -> int:
    """A scheduled regular meeting with no committee meeting in the window before it, once the
    reminder lead has come (DOMAIN.md: the same 14-day window everywhere)."""
    window, lead = TreeSettings("committee_premeeting_days"), TreeSettings("committee_premeeting_reminder_days")
    longest = max([lead.default, *[v for v in lead.rows.values() if isinstance(v, int)]])
    meetings = list(
        Meeting.objects.filter(
            kind=Meeting.Kind.REGULAR,
            status=Meeting.Status.SCHEDULED,
            scheduled_start__gt=now,
            scheduled_start__lte=now + datetime.timedelta(days=longest),
        ).select_related("unit")
    )
    done = _already(COMMITTEE_MISSING, Meeting, [m.pk for m in meetings])
    meetings = [
        m
        for m in meetings
        if (m.pk, f"r{m.revision}") not in done
        and m.scheduled_start - datetime.timedelta(days=lead.for_unit(m.unit)) <= now
    ]
    if not meetings:
        return 0
    committee_starts = defaultdict(list)
    for unit_id, start in (
        Meeting.objects.filter(kind=Meeting.Kind.COMMITTEE, unit_id__in={m.unit_id for m in meetings})
        .exclude(status=Meeting.Status.CANCELLED)
        .values_list("unit_id", "scheduled_start")
    ):
        committee_starts[unit_id].append(start)
    committees = _committees({m.unit_id for m in meetings}, now.date())
    planned = 0
    for meeting in meetings:
        days = window.for_unit(meeting.unit)
        since = meeting.scheduled_start - datetime.timedelta(days=days)
        if any(since <= s < meeting.scheduled_start for s in committee_starts[meeting.unit_id]):
            continue
        planned += plan(
            kind=COMMITTEE_MISSING,
            obj=meeting,
            **committees.get(meeting.unit_id, NOBODY).as_plan(),
            occurrence=f"r{meeting.revision}",
            due_at=now,
            context={**_meeting_context(meeting), "days": days},
            url=_meeting_url(meeting),
        )
    return planned


def _active_cells(first: datetime.date, last: datetime.date):
    return (
        PartyUnit.objects.filter(kind=PartyUnit.Kind.CELL)
        .filter(Q(founded_on__isnull=True) | Q(founded_on__lte=last))
        .filter(Q(dissolved_on__isnull=True) | Q(dissolved_on__gte=first))
    )


def plan_regular_not_scheduled(now: datetime.datetime) -> int:
    """By day N of the month (tree setting) the month's regular meeting should be on the calendar."""
    today = timezone.localdate(now)
    by_day = TreeSettings("regular_meeting_schedule_by_day")
    occurrence = f"{today.year}-{today.month:02d}"
    cells = _active_cells(today, today).exclude(
        meetings__kind=Meeting.Kind.REGULAR,
        meetings__period_year=today.year,
        meetings__period_month=today.month,
        meetings__status__in=[s for s in Meeting.Status.values if s != Meeting.Status.CANCELLED],
    )
    cells = [c for c in cells if today.day >= by_day.for_unit(c)]
    done = _already(NOT_SCHEDULED, PartyUnit, [c.pk for c in cells])
    cells = [c for c in cells if (c.pk, occurrence) not in done]
    committees = _committees([c.pk for c in cells], today)
    planned = 0
    for cell in cells:
        planned += plan(
            kind=NOT_SCHEDULED,
            obj=cell,
            **committees.get(cell.pk, NOBODY).as_plan(),
            occurrence=occurrence,
            due_at=now,
            context={"unit": cell, "month": today.month, "year": today.year, "day": by_day.for_unit(cell)},
            url=reverse("meetings:calendar", args=[cell.uid]),
        )
    return planned


def plan_materials_missing(now: datetime.datetime) -> int:
    """Materials (agenda, draft resolution) must be available a day before (HD 42)."""
    lead = TreeSettings("materials_lead_days")
    longest = max([lead.default, *[v for v in lead.rows.values() if isinstance(v, int)]])
    meetings = list(
        Meeting.objects.filter(
            kind__in=(Meeting.Kind.REGULAR, Meeting.Kind.THEMATIC),
            status=Meeting.Status.SCHEDULED,
            scheduled_start__gt=now,
            scheduled_start__lte=now + datetime.timedelta(days=longest),
            materials__isnull=True,
        ).select_related("unit")
    )
    done = _already(MATERIALS_MISSING, Meeting, [m.pk for m in meetings])
    meetings = [
        m
        for m in meetings
        if (m.pk, f"r{m.revision}") not in done
        and m.scheduled_start - datetime.timedelta(days=lead.for_unit(m.unit)) <= now
    ]
    committees = _committees({m.unit_id for m in meetings}, timezone.localdate(now))
    planned = 0
    for meeting in meetings:
        planned += plan(
            kind=MATERIALS_MISSING,
            obj=meeting,
            **committees.get(meeting.unit_id, NOBODY).as_plan(),
            occurrence=f"r{meeting.revision}",
            due_at=now,
            context={**_meeting_context(meeting), "days": lead.for_unit(meeting.unit)},
            url=_meeting_url(meeting),
        )
    return planned


def _discipline_candidates(year: int, today: datetime.date, threshold: int) -> set[int]:
    """Members who may have reached `threshold` months in `year` (a cheap over-estimate in two
    queries); discipline_count() then decides for each of them."""
    absent = set(
        Attendance.objects.filter(
            status=Attendance.Status.ABSENT_UNEXCUSED,
            meeting__kind=Meeting.Kind.REGULAR,
            meeting__period_year=year,
            meeting__status__in=Meeting.HELD_STATUSES,
        )
        .values("member_id")
        .annotate(n=Count("meeting__period_month", distinct=True))
        .filter(n__gte=threshold)
        .values_list("member_id", flat=True)
    )
    ended_months = 12 if year < today.year else today.month - 1
    if ended_months < threshold:
        return absent
    first, last = datetime.date(year, 1, 1), _month_end(year, ended_months)
    members = Member.objects.filter(admitted_on__lte=last).filter(Q(ended_on__isnull=True) | Q(ended_on__gt=first))
    paid = dict(
        DuesPayment.objects.filter(year=year, month__lte=ended_months)
        .values("member_id")
        .annotate(n=Count("month", distinct=True))
        .values_list("member_id", "n")
    )
    unpaid = set()
    for pk, admitted_on, ended_on in members.values_list("pk", "admitted_on", "ended_on"):
        start = max(admitted_on, first)
        stop = min(ended_on or last, last)
        months_on_roll = (stop.year - start.year) * 12 + stop.month - start.month + 1
        if months_on_roll - paid.get(pk, 0) >= threshold:
            unpaid.add(pk)
    return absent | unpaid


def plan_discipline(now: datetime.datetime) -> int:
    """Warn the committee at 2 months, alert at 3, counted apart for absences and unpaid dues, per
    calendar year (QĐ 24-QĐ/TW §8.1). In January the year just ended is checked too: December's
    dues count as unpaid only once December is over."""
    today = timezone.localdate(now)
    warning, alert = TreeSettings("discipline_warning_months"), TreeSettings("discipline_alert_months")
    lowest = min([warning.default, *[v for v in warning.rows.values() if isinstance(v, int)]])
    years = [today.year - 1, today.year] if today.month == 1 else [today.year]
    planned = 0
    for year in years:
        candidates = _discipline_candidates(year, today, lowest)
        if not candidates:
            continue
        members = {
            m.pk: m
            for m in Member.objects.filter(pk__in=candidates, home_unit__isnull=False).select_related("home_unit")
        }
        done = _already(DISCIPLINE_WARNING, Member, members) | _already(DISCIPLINE_ALERT, Member, members)
        committees = _committees({m.home_unit_id for m in members.values()}, today)
        for member in members.values():
            w, a = warning.for_unit(member.home_unit), alert.for_unit(member.home_unit)
            # Skip the count when both counters already reached the alert this year.
            if {(member.pk, f"{year}:absence:alert"), (member.pk, f"{year}:dues:alert")} <= done:
                continue
            count = discipline_count(member, year, today)
            for counter, months in (("absence", count.absence_months), ("dues", count.unpaid_months)):
                level = "alert" if len(months) >= a else "warning" if len(months) >= w else None
                if level is None or (member.pk, f"{year}:{counter}:{level}") in done:
                    continue
                planned += plan(
                    kind=DISCIPLINE_ALERT if level == "alert" else DISCIPLINE_WARNING,
                    obj=member,
                    **committees.get(member.home_unit_id, NOBODY).as_plan(),
                    occurrence=f"{year}:{counter}:{level}",
                    due_at=now,
                    context={
                        "member": member,
                        "unit": member.home_unit,
                        "year": year,
                        "counter": counter,
                        "months": ", ".join(str(m) for m in months),
                        "count": len(months),
                    },
                    url=reverse("meetings:member_attendance", args=[member.uid]),
                )
    return planned


def plan_probation(now: datetime.datetime) -> int:
    """A probationary member reaching 12 months must be reviewed for full membership."""
    today = timezone.localdate(now)
    months = TreeSettings("probation_months")
    longest_ago = add_months(today, -min([months.default, *[v for v in months.rows.values() if isinstance(v, int)]]))
    members = list(
        Member.objects.filter(
            full_member_on__isnull=True, ended_on__isnull=True, admitted_on__lte=longest_ago, home_unit__isnull=False
        ).select_related("home_unit")
    )
    members = [m for m in members if add_months(m.admitted_on, months.for_unit(m.home_unit)) <= today]
    done = _already(PROBATION, Member, [m.pk for m in members])
    members = [m for m in members if (m.pk, m.admitted_on.isoformat()) not in done]
    committees = _committees({m.home_unit_id for m in members}, today)
    planned = 0
    for member in members:
        due_on = add_months(member.admitted_on, months.for_unit(member.home_unit))
        planned += plan(
            kind=PROBATION,
            obj=member,
            **committees.get(member.home_unit_id, NOBODY).as_plan(),
            occurrence=member.admitted_on.isoformat(),
            due_at=now,
            context={"member": member, "unit": member.home_unit, "due_on": due_on},
            url=reverse("members:detail", args=[member.uid]),
        )
    return planned


def plan_month_without_meeting(now: datetime.datetime) -> int:
    """The month just ended without a regular meeting held: the cell's committee and the committee
    above are told. A meeting for that month still scheduled later holds the message back."""
    today = timezone.localdate(now)
    last = today.replace(day=1) - datetime.timedelta(days=1)
    year, month = last.year, last.month
    occurrence = f"{year}-{month:02d}"
    waiting = [s for s in Meeting.Status.values if s != Meeting.Status.CANCELLED]
    cells = list(
        _active_cells(last.replace(day=1), last).exclude(
            meetings__kind=Meeting.Kind.REGULAR,
            meetings__period_year=year,
            meetings__period_month=month,
            meetings__status__in=waiting,
        )
    )
    done = _already(MONTH_MISSED, PartyUnit, [c.pk for c in cells])
    cells = [c for c in cells if (c.pk, occurrence) not in done]
    committees = _committees({c.pk for c in cells}, today)
    above = committee_recipients({c.parent_id for c in cells if c.parent_id}, today, roles=Position.RANK)
    planned = 0
    for cell in cells:
        recipients = committees.get(cell.pk, NOBODY) | above.get(cell.parent_id, NOBODY)
        planned += plan(
            kind=MONTH_MISSED,
            obj=cell,
            **recipients.as_plan(),
            occurrence=occurrence,
            due_at=now,
            context={"unit": cell, "month": month, "year": year},
            url=reverse("meetings:calendar", args=[cell.uid]),
        )
    return planned
