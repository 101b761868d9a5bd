"""Drafts, their versions, members' comments and the committee's responses.

The state of a draft moves only forward, under a row lock: being drafted → open for comments →
comments closed → (voting) → passed / rejected → issued. Comments are taken while the draft is
open and its deadline has not passed; the server checks the clock on every write, so a page left
open past the deadline cannot slip a comment in. An issued draft refuses every write here.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, Max, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from cells.models import PartyUnit
from meetings.models import Meeting
from members.models import Member, Membership, StatusPeriod, TemporaryAttachment, User

from .. import notify, text
from ..models import Comment, Draft, DraftVersion, Response, VersionSection

DRAFT_FIELDS = ("kind", "title", "summary", "meeting", "comment_visibility", "is_written_consultation")
TEXT_MAX = 10_000


def lock(draft: Draft) -> Draft:
    return Draft.objects.select_for_update(of=("self",)).select_related("unit", "current_version").get(pk=draft.pk)


def ensure_not_issued(draft: Draft) -> None:
    if draft.status == Draft.Status.ISSUED:
        raise ValidationError(_("This resolution has been issued and can no longer be changed; issue an amendment."))


def _ensure_text_editable(draft: Draft) -> None:
    ensure_not_issued(draft)
    if draft.status not in Draft.EDITABLE_STATUSES:
        raise ValidationError(_("The text can no longer be changed once voting has started."))


def local_time(moment: datetime.datetime) -> str:
    return date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")


# --- Drafts and versions -----------------------------------------------------------------------------


def _version_create(
    *, draft: Draft, title: str, summary: str, body: str, change_note: str, by: User | None
) -> DraftVersion:
    if not body.strip():
        raise ValidationError({"body": _("Write the text of the draft.")})
    if len(body) > 200_000:
        raise ValidationError({"body": _("The text is too long.")})
    keyed_body, sections = text.assign_keys(body)
    number = (draft.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    version = DraftVersion(
        draft=draft,
        number=number,
        title=title.strip(),
        summary=summary.strip(),
        body=keyed_body,
        change_note=change_note.strip(),
        created_by=by,
    )
    version.full_clean()
    version.save()
    VersionSection.objects.bulk_create(
        VersionSection(version=version, key=s.key, order=s.order, heading=s.heading[:300], body=s.body)
        for s in sections
    )
    return version


def _check_meeting(unit: PartyUnit, meeting: Meeting | None) -> None:
    if meeting is not None and meeting.unit_id != unit.pk:
        raise ValidationError({"meeting": _("The meeting must be one of this unit's meetings.")})
    if meeting is not None and meeting.kind == Meeting.Kind.COMMITTEE:
        raise ValidationError(
            {"meeting": _("A committee meeting does not vote on resolutions; choose a cell meeting.")}
        )


@transaction.atomic
def draft_create(
    *,
    unit: PartyUnit,
    title: str,
    body: str,
    by: User,
    kind: str = "NQ",
    summary: str = "",
    meeting: Meeting | None = None,
    comment_visibility: str = Draft.Visibility.ALL_MEMBERS,
    is_written_consultation: bool = False,
) -> Draft:
    _check_meeting(unit, meeting)
    draft = Draft(
        unit=unit,
        kind=kind,
        title=title.strip(),
        summary=summary.strip(),
        meeting=meeting,
        comment_visibility=comment_visibility,
        is_written_consultation=is_written_consultation,
        created_by=by,
    )
    if is_written_consultation and meeting is not None:
        raise ValidationError({"meeting": _("A written consultation is not tied to a meeting.")})
    draft.full_clean()
    draft.save()
    draft.current_version = _version_create(
        draft=draft, title=draft.title, summary=draft.summary, body=body, change_note="", by=by
    )
    draft.save(update_fields=["current_version"])
    return draft


@transaction.atomic
def draft_update(*, draft: Draft, by: User, **fields) -> Draft:
    """Title, kind, meeting and settings; the text changes only through a new version."""
    draft = lock(draft)
    _ensure_text_editable(draft)
    unknown = set(fields) - set(DRAFT_FIELDS)
    if unknown:
        raise TypeError(f"draft_update does not change {unknown}")
    if "meeting" in fields:
        _check_meeting(draft.unit, fields["meeting"])
    if draft.status != Draft.Status.DRAFT and fields.get("is_written_consultation", draft.is_written_consultation) != (
        draft.is_written_consultation
    ):
        raise ValidationError(_("Choose written consultation before the draft is sent for comments."))
    for name, value in fields.items():
        setattr(draft, name, value.strip() if isinstance(value, str) and name in ("title", "summary") else value)
    if draft.is_written_consultation and draft.meeting_id:
        raise ValidationError({"meeting": _("A written consultation is not tied to a meeting.")})
    draft.full_clean()
    draft.save()
    return draft


@transaction.atomic
def version_add(
    *, draft: Draft, body: str, by: User, title: str | None = None, summary: str | None = None, change_note: str = ""
) -> DraftVersion:
    """A new version of the text (the old ones stay, with the comments written on them)."""
    draft = lock(draft)
    _ensure_text_editable(draft)
    title = draft.title if title is None else title
    summary = draft.summary if summary is None else summary
    if not title.strip():
        raise ValidationError({"title": _("Give the draft a title.")})
    current = draft.current_version
    if current and current.body == text.assign_keys(body)[0] and current.title == title.strip():
        if current.summary == summary.strip():
            raise ValidationError({"body": _("Nothing changed since version %(n)s.") % {"n": current.number}})
    version = _version_create(draft=draft, title=title, summary=summary, body=body, change_note=change_note, by=by)
    draft.current_version = version
    draft.title, draft.summary = version.title, version.summary
    draft.full_clean()
    draft.save()
    return version


@transaction.atomic
def comments_open(*, draft: Draft, deadline: datetime.datetime, by: User, visibility: str | None = None) -> Draft:
    """Send the draft to the members: comments are taken until the deadline."""
    draft = lock(draft)
    ensure_not_issued(draft)
    if draft.status not in (Draft.Status.DRAFT, Draft.Status.OPEN, Draft.Status.CLOSED):
        raise ValidationError(_("Comments can no longer be opened: voting has started."))
    if deadline <= timezone.now():
        raise ValidationError({"comment_deadline": _("The deadline for comments must be in the future.")})
    if draft.is_written_consultation and draft.vote_deadline and draft.vote_deadline < deadline:
        raise ValidationError({"comment_deadline": _("Comments must close before voting closes.")})
    draft.status, draft.comment_deadline = Draft.Status.OPEN, deadline
    if visibility is not None:
        draft.comment_visibility = visibility
    draft.full_clean()
    draft.save()
    notify.draft_changed(draft)  # reminders before the (new) deadline
    return draft


@transaction.atomic
def comments_close(*, draft: Draft, by: User) -> Draft:
    """Close comments now (before the deadline, or to record that it has passed)."""
    draft = lock(draft)
    ensure_not_issued(draft)
    if draft.status != Draft.Status.OPEN:
        raise ValidationError(_("Comments on this draft are not open."))
    now = timezone.now()
    draft.status = Draft.Status.CLOSED
    if draft.comment_deadline is None or draft.comment_deadline > now:
        draft.comment_deadline = now
    draft.save()
    notify.draft_changed(draft)
    return draft


def comments_are_open(draft: Draft, now: datetime.datetime | None = None) -> bool:
    now = now or timezone.now()
    return draft.status == Draft.Status.OPEN and draft.comment_deadline is not None and now < draft.comment_deadline


# --- Comments ---------------------------------------------------------------------------------------


def may_comment(draft: Draft, member: Member | None, day: datetime.date | None = None) -> bool:
    """Members of the cell only: on its roll (or temporarily attached to it) today, not suspended."""
    if member is None or member.ended_on is not None:
        return False
    day = day or timezone.localdate()
    on_roll = Membership.objects.filter(Membership.active_on(day), cell_id=draft.unit_id, member=member)
    attached = TemporaryAttachment.objects.filter(Membership.active_on(day), cell_id=draft.unit_id, member=member)
    suspended = StatusPeriod.objects.filter(
        Q(end__isnull=True) | Q(end__gte=day), member=member, kind=StatusPeriod.Kind.SUSPENDED, start__lte=day
    )
    return Member.objects.filter(Q(Exists(on_roll)) | Q(Exists(attached)), ~Q(Exists(suspended)), pk=member.pk).exists()


def _clean_text(value: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({"text": _("Write your comment.")})
    if len(value) > TEXT_MAX:
        raise ValidationError({"text": _("A comment may have at most %(n)s characters.") % {"n": TEXT_MAX}})
    return value


def _ensure_comments_open(draft: Draft) -> None:
    ensure_not_issued(draft)
    if draft.status == Draft.Status.DRAFT:
        raise ValidationError(_("This draft has not been sent for comments yet."))
    if not comments_are_open(draft):
        deadline = draft.comment_deadline
        if deadline is not None:
            raise ValidationError(
                _("The deadline for comments passed on %(deadline)s; comments can no longer be added or changed.")
                % {"deadline": local_time(deadline)}
            )
        raise ValidationError(_("Comments on this draft are closed."))


@transaction.atomic
def comment_add(*, draft: Draft, member: Member, text_: str, by: User, section_key: str = "") -> Comment:
    draft = lock(draft)
    _ensure_comments_open(draft)
    if not may_comment(draft, member):
        raise ValidationError(_("Only members of this cell can comment on its drafts."))
    version = draft.current_version
    section_key = (section_key or "").strip()
    if section_key and not version.sections.filter(key=section_key).exists():
        raise ValidationError({"section_key": _("That section is not in the current version of the draft.")})
    comment = Comment(draft=draft, version=version, section_key=section_key, author=member, text=_clean_text(text_))
    comment.full_clean()
    comment.save()
    notify.draft_changed(draft)  # no reminder for someone who has commented
    return comment


def _own_comment_writable(comment: Comment, member: Member | None) -> Draft:
    draft = lock(comment.draft)
    if member is None or comment.author_id != member.pk:
        raise ValidationError(_("You can change only your own comments."))
    _ensure_comments_open(draft)
    if comment.withdrawn:
        raise ValidationError(_("This comment was withdrawn."))
    return draft


@transaction.atomic
def comment_edit(*, comment: Comment, member: Member, text_: str, by: User) -> Comment:
    _own_comment_writable(comment, member)
    comment = Comment.objects.select_for_update().get(pk=comment.pk)
    if hasattr(comment, "response"):
        raise ValidationError(_("The committee has already answered this comment; add a new comment instead."))
    comment.text = _clean_text(text_)
    comment.full_clean()
    comment.save()
    return comment


@transaction.atomic
def comment_withdraw(*, comment: Comment, member: Member, by: User) -> Comment:
    draft = _own_comment_writable(comment, member)
    comment = Comment.objects.select_for_update().get(pk=comment.pk)
    comment.withdrawn, comment.withdrawn_at = True, timezone.now()
    comment.save()
    Response.objects.filter(comment=comment).delete()
    notify.draft_changed(draft)
    return comment


def awaiting_comment(member: Member | None, now: datetime.datetime | None = None) -> QuerySet[Draft]:
    """Drafts of the member's cells open for comments, on which the member has not commented yet."""
    if member is None:
        return Draft.objects.none()
    now = now or timezone.now()
    day = timezone.localdate(now)
    cells = Membership.objects.filter(Membership.active_on(day), member=member).values("cell_id")
    attached = TemporaryAttachment.objects.filter(Membership.active_on(day), member=member).values("cell_id")
    mine = Comment.objects.filter(draft=OuterRef("pk"), author=member, withdrawn=False)
    return (
        Draft.objects.filter(Q(unit__in=cells) | Q(unit__in=attached))
        .filter(status=Draft.Status.OPEN, comment_deadline__gt=now)
        .exclude(Exists(mine))
        .select_related("unit", "current_version")
        .order_by("comment_deadline")
    )


# --- Responses ---------------------------------------------------------------------------------------


@transaction.atomic
def response_save(*, comment: Comment, decision: str, explanation: str, by: User) -> Response:
    """The committee's answer (accepted / partly accepted / not accepted, with an explanation)."""
    draft = lock(comment.draft)
    ensure_not_issued(draft)
    if draft.status == Draft.Status.DRAFT:
        raise ValidationError(_("This draft has not been sent for comments yet."))
    comment = Comment.objects.select_for_update().get(pk=comment.pk)
    if comment.withdrawn:
        raise ValidationError(_("This comment was withdrawn by its author."))
    if decision not in Response.Decision.values:
        raise ValidationError({"decision": _("Choose accepted, partly accepted or not accepted.")})
    response = Response.objects.filter(comment=comment).first() or Response(comment=comment)
    response.decision, response.explanation, response.responded_by = decision, (explanation or "").strip(), by
    response.full_clean()
    response.save()
    return response
