"""How a draft passes: the meeting's vote record, or a written consultation counted by
meetings.counting (the one counting module: passes when votes for > ½ of the voting base)."""

from __future__ import annotations

import datetime
from types import SimpleNamespace

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from meetings import counting
from meetings.models import Meeting, Vote
from meetings.services import roll_on
from members.models import Member, User

from .. import notify
from ..models import ConsultationVote, Draft
from .drafts import comments_are_open, ensure_not_issued, local_time, lock


def consultation_roll(draft: Draft, day: datetime.date | None = None) -> dict[int, SimpleNamespace]:
    """The cell's roll with each member's standing on the day (the vote deadline's day by default)."""
    if day is None:
        now = timezone.now()
        day = timezone.localdate(min(draft.vote_deadline, now) if draft.vote_deadline else now)
    return {m: SimpleNamespace(**flags) for m, flags in roll_on(draft.unit, day).items()}


def voters(draft: Draft, day: datetime.date | None = None) -> set[int]:
    return {m for m, row in consultation_roll(draft, day).items() if counting.is_consultation_voter(row)}


def consultation_tally(draft: Draft, day: datetime.date | None = None) -> counting.Tally:
    choices = dict(ConsultationVote.objects.filter(draft=draft).values_list("member_id", "choice"))
    return counting.consultation_tally(consultation_roll(draft, day), choices)


def votes_are_open(draft: Draft, now: datetime.datetime | None = None) -> bool:
    now = now or timezone.now()
    return draft.status == Draft.Status.VOTING and draft.vote_deadline is not None and now < draft.vote_deadline


@transaction.atomic
def voting_start(*, draft: Draft, vote_deadline: datetime.datetime, by: User) -> Draft:
    """Open the written vote, once comments are closed."""
    draft = lock(draft)
    ensure_not_issued(draft)
    if not draft.is_written_consultation:
        raise ValidationError(_("This draft is voted on at a meeting; link the meeting's vote record instead."))
    if draft.status not in (Draft.Status.OPEN, Draft.Status.CLOSED) or comments_are_open(draft):
        raise ValidationError(_("Close the comments before opening the vote."))
    if vote_deadline <= timezone.now():
        raise ValidationError({"vote_deadline": _("The deadline for votes must be in the future.")})
    draft.status, draft.vote_deadline = Draft.Status.VOTING, vote_deadline
    draft.full_clean()
    draft.save()
    notify.draft_changed(draft)  # comment reminders end, vote reminders are planned
    return draft


@transaction.atomic
def vote_cast(*, draft: Draft, member: Member, choice: str, by: User, text_: str = "") -> ConsultationVote:
    """A full member's written vote; cast again before the deadline to change it (history keeps each)."""
    draft = lock(draft)
    ensure_not_issued(draft)
    if not votes_are_open(draft):
        if draft.status == Draft.Status.VOTING and draft.vote_deadline:
            raise ValidationError(
                _("Voting closed on %(deadline)s; votes can no longer be cast or changed.")
                % {"deadline": local_time(draft.vote_deadline)}
            )
        raise ValidationError(_("Voting on this draft is not open."))
    if choice not in ConsultationVote.Choice.values:
        raise ValidationError({"choice": _("Choose for, against or other opinion.")})
    if member is None or member.pk not in voters(draft, timezone.localdate()):
        raise ValidationError(
            _("Only full members on the cell's roll vote; probationary members may comment but do not vote.")
        )
    vote = ConsultationVote.objects.select_for_update().filter(draft=draft, member=member).first()
    vote = vote or ConsultationVote(draft=draft, member=member)
    if vote.pk and vote.choice == choice and vote.text == text_.strip():
        return vote
    vote.choice, vote.text = choice, (text_ or "").strip()[:5000]
    vote.full_clean()
    vote.save()
    notify.draft_changed(draft)
    return vote


@transaction.atomic
def voting_close(*, draft: Draft, by: User, early: bool = False) -> Draft:
    """Count the written vote against the base at the deadline (or now, when everyone has answered)."""
    draft = lock(draft)
    ensure_not_issued(draft)
    if draft.status != Draft.Status.VOTING:
        raise ValidationError(_("Voting on this draft is not open."))
    now = timezone.now()
    if now < draft.vote_deadline:
        tally = consultation_tally(draft, timezone.localdate(now))
        if tally.not_answered > 0:
            raise ValidationError(
                _("Voting is open until %(deadline)s and %(n)s members have not answered yet.")
                % {"deadline": local_time(draft.vote_deadline), "n": tally.not_answered}
            )
        draft.vote_deadline = now
    tally = consultation_tally(draft, timezone.localdate(draft.vote_deadline))
    _decide(draft, tally, Draft.PassedBy.WRITTEN)
    return draft


def _decide(draft: Draft, tally: counting.Tally, passed_by: str) -> None:
    draft.votes_for, draft.votes_against, draft.votes_other = tally.votes_for, tally.votes_against, tally.votes_other
    draft.voting_base = tally.voting_base
    draft.status = Draft.Status.PASSED if tally.passed else Draft.Status.REJECTED
    draft.passed_by, draft.decided_at = passed_by, timezone.now()
    draft.full_clean()
    draft.save()
    notify.draft_changed(draft)  # decided: reminders still waiting are cancelled


@transaction.atomic
def meeting_vote_link(*, draft: Draft, vote: Vote, by: User) -> Draft:
    """The meeting's vote record (meetings.Vote) decides the draft: passed when for > ½ of its base."""
    draft = lock(draft)
    ensure_not_issued(draft)
    if draft.is_written_consultation:
        raise ValidationError(_("This draft is decided by written consultation."))
    if draft.status not in (Draft.Status.OPEN, Draft.Status.CLOSED, Draft.Status.VOTING) or comments_are_open(draft):
        raise ValidationError(_("Close the comments before recording the vote."))
    vote = Vote.objects.select_related("meeting").get(pk=vote.pk)
    meeting = vote.meeting
    if meeting.unit_id != draft.unit_id or meeting.kind == Meeting.Kind.COMMITTEE:
        raise ValidationError({"vote": _("Choose a vote recorded at a meeting of this cell.")})
    if draft.meeting_id and draft.meeting_id != meeting.pk:
        raise ValidationError({"vote": _("Choose a vote recorded at the draft's own meeting.")})
    if Draft.objects.filter(meeting_vote=vote).exclude(pk=draft.pk).exists():
        raise ValidationError({"vote": _("That vote already decided another draft.")})
    draft.meeting, draft.meeting_vote = meeting, vote
    tally = counting.Tally(vote.votes_for, vote.votes_against, vote.votes_other, vote.voting_base)
    _decide(draft, tally, Draft.PassedBy.MEETING)
    return draft
