"""How a draft passes (DOMAIN.md "Counting"): a written consultation's base is the full members on the
roll at the deadline, less suspended members and those attached elsewhere; probationary members do
not vote; it passes when votes for > ½ of the base (meetings.counting, the one counting module).
A meeting-passed draft takes the vote record of the minutes, whose base subtracts approved absences."""

import datetime
from types import SimpleNamespace

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from meetings import counting
from meetings import services as meeting_services
from meetings.models import Meeting
from members.models import StatusPeriod, TemporaryAttachment
from resolutions.models import ConsultationVote, Draft
from resolutions.services import drafts, voting
from tests.factories import MemberFactory, UnitFactory
from tests.resolutions.conftest import soon


def row(full=True, exempted=False, suspended=False, here=False, elsewhere=False):
    return SimpleNamespace(
        is_full=full,
        is_exempted=exempted,
        is_suspended=suspended,
        is_attached_here=here,
        is_attached_elsewhere=elsewhere,
    )


def test_consultation_base_counts_full_members_including_exempted_only():
    roll = {
        1: row(),
        2: row(exempted=True),  # exempted: stays in the written base
        3: row(full=False),  # probationary: does not vote
        4: row(suspended=True),
        5: row(elsewhere=True),
        6: row(here=True),  # attached here from another cell: votes at home
    }
    tally = counting.consultation_tally(roll, {1: "for", 2: "for", 3: "for", 4: "for", 5: "for", 6: "for"})
    assert (tally.voting_base, tally.votes_for) == (2, 2) and tally.passed


@pytest.mark.parametrize(
    "choices, passed",
    [
        (["for", "for", "against", "against"], False),  # a tie
        (["for", "for", None, None], False),  # exactly half of the base is not more than half
        (["for", "for", "for", "other"], True),
        (["for", "for", "other", "other"], False),
    ],
)
def test_passes_only_when_for_is_more_than_half_of_the_base(choices, passed):
    roll = {i: row() for i in range(len(choices))}
    tally = counting.consultation_tally(roll, {i: c for i, c in enumerate(choices) if c})
    assert tally.passed is passed


@pytest.fixture
def cell_of_five(cast):
    """Cell A: the secretary, the member and three more: a probationary, an exempted and a suspended
    member, plus one attached elsewhere."""
    return SimpleNamespace(
        probationary=MemberFactory(
            full_name="Dự Bị", cell=cast.cell_a, full_member_on=None, admitted_on=datetime.date(2026, 1, 5)
        ),
        exempted=_with_period(MemberFactory(full_name="Miễn Sinh Hoạt", cell=cast.cell_a), StatusPeriod.Kind.EXEMPTED),
        suspended=_with_period(MemberFactory(full_name="Đình Chỉ", cell=cast.cell_a), StatusPeriod.Kind.SUSPENDED),
        away=_attached_elsewhere(MemberFactory(full_name="Đi Xa", cell=cast.cell_a), cast.cell_b),
    )


def _with_period(member, kind):
    StatusPeriod.objects.create(member=member, kind=kind, start=datetime.date(2025, 1, 1), reason="Lý do")
    return member


def _attached_elsewhere(member, cell):
    TemporaryAttachment.objects.create(member=member, cell=cell, start=datetime.date(2025, 1, 1))
    return member


@pytest.mark.django_db
def test_written_vote_base_and_who_may_vote(cast, cell_of_five, written):
    assert voting.voters(written) == {cast.secretary.pk, cast.member.pk, cell_of_five.exempted.pk}
    for member in (cell_of_five.probationary, cell_of_five.suspended, cell_of_five.away, cast.outsider):
        with pytest.raises(ValidationError):
            voting.vote_cast(draft=written, member=member, choice="for", by=None)
    voting.vote_cast(draft=written, member=cell_of_five.exempted, choice="for", by=None)
    voting.vote_cast(draft=written, member=cast.member, choice="for", by=cast.member_user)
    with time_machine.travel(written.vote_deadline + datetime.timedelta(minutes=1)):
        decided = voting.voting_close(draft=written, by=cast.secretary_user)
    assert (decided.votes_for, decided.voting_base, decided.status) == (2, 3, Draft.Status.PASSED)
    assert decided.passed_by == Draft.PassedBy.WRITTEN


@pytest.mark.django_db
def test_a_vote_changed_before_the_deadline_counts_as_changed_and_history_keeps_both(cast, written):
    voting.vote_cast(draft=written, member=cast.member, choice="for", by=cast.member_user)
    voting.vote_cast(
        draft=written, member=cast.member, choice="against", text_="Chưa đồng ý mục II", by=cast.member_user
    )
    voting.vote_cast(draft=written, member=cast.secretary, choice="for", by=cast.secretary_user)
    vote = ConsultationVote.objects.get(member=cast.member)
    assert vote.choice == "against" and vote.text == "Chưa đồng ý mục II"
    assert [h.choice for h in vote.history.order_by("history_date")] == ["for", "against"]
    with time_machine.travel(written.vote_deadline + datetime.timedelta(seconds=1)):
        with pytest.raises(ValidationError):
            voting.vote_cast(draft=written, member=cast.member, choice="for", by=cast.member_user)
        decided = voting.voting_close(draft=written, by=cast.secretary_user)
    # 1 for of a base of 2: a tie is not a majority.
    assert (decided.votes_for, decided.votes_against, decided.status) == (1, 1, Draft.Status.REJECTED)


@pytest.mark.django_db
def test_voting_closes_early_only_when_everyone_has_answered(cast, written):
    voting.vote_cast(draft=written, member=cast.member, choice="for", by=cast.member_user)
    with pytest.raises(ValidationError):
        voting.voting_close(draft=written, by=cast.secretary_user)
    voting.vote_cast(draft=written, member=cast.secretary, choice="other", by=cast.secretary_user)
    decided = voting.voting_close(draft=written, by=cast.secretary_user)
    assert decided.status == Draft.Status.REJECTED  # 1 of 2 is exactly half


@pytest.mark.django_db
def test_voting_cannot_open_while_comments_are_open_or_for_a_meeting_draft(cast, make_draft):
    written = drafts.comments_open(
        draft=make_draft(is_written_consultation=True), deadline=soon(), by=cast.secretary_user
    )
    with pytest.raises(ValidationError):
        voting.voting_start(draft=written, vote_deadline=soon(48), by=cast.secretary_user)
    meeting_draft = drafts.comments_open(draft=make_draft(), deadline=soon(), by=cast.secretary_user)
    drafts.comments_close(draft=meeting_draft, by=cast.secretary_user)
    with pytest.raises(ValidationError):
        voting.voting_start(draft=meeting_draft, vote_deadline=soon(48), by=cast.secretary_user)


# --- Meeting votes --------------------------------------------------------------------------------------


@pytest.fixture
def meeting_of_four(cast):
    """A held regular meeting: 4 full members; one absent with an approved reason."""
    extra = [MemberFactory(cell=cast.cell_a) for _ in range(2)]
    meeting = meeting_services.meeting_schedule(
        unit=cast.cell_a,
        kind="regular",
        period_year=2026,
        period_month=3,
        scheduled_start=soon(-2),
        place="Hội trường",
        by=cast.secretary_user,
    )
    meeting_services.meeting_open(meeting=meeting, by=cast.secretary_user)
    for member in (cast.secretary, cast.member, extra[0]):
        meeting_services.attendance_record(meeting=meeting, member=member, status="present", by=cast.secretary_user)
    meeting_services.attendance_record(
        meeting=meeting, member=extra[1], status="excused", reason="Ốm", reason_approved=True, by=cast.secretary_user
    )
    return Meeting.objects.get(pk=meeting.pk)


@pytest.mark.django_db
def test_meeting_vote_decides_against_a_base_less_approved_absences(cast, make_draft, meeting_of_four):
    vote = meeting_services.vote_record(
        meeting=meeting_of_four, subject="Nghị quyết tháng 3", votes_for=2, by=cast.secretary_user
    )
    assert vote.voting_base == 3  # 4 full members less the approved absence
    draft = drafts.comments_open(draft=make_draft(meeting=meeting_of_four), deadline=soon(), by=cast.secretary_user)
    with pytest.raises(ValidationError):  # comments still open
        voting.meeting_vote_link(draft=draft, vote=vote, by=cast.secretary_user)
    drafts.comments_close(draft=draft, by=cast.secretary_user)
    decided = voting.meeting_vote_link(draft=draft, vote=vote, by=cast.secretary_user)
    assert decided.status == Draft.Status.PASSED and decided.meeting_vote == vote
    assert (decided.votes_for, decided.voting_base, decided.passed_by) == (2, 3, Draft.PassedBy.MEETING)


@pytest.mark.django_db
def test_meeting_vote_of_exactly_half_rejects_and_a_vote_decides_one_draft_only(cast, make_draft, meeting_of_four):
    vote = meeting_services.vote_record(
        meeting=meeting_of_four, subject="Kết luận", votes_for=1, votes_against=1, by=cast.secretary_user
    )
    first = drafts.comments_close(
        draft=drafts.comments_open(draft=make_draft(), deadline=soon(), by=cast.secretary_user), by=cast.secretary_user
    )
    assert voting.meeting_vote_link(draft=first, vote=vote, by=cast.secretary_user).status == Draft.Status.REJECTED
    second = drafts.comments_close(
        draft=drafts.comments_open(draft=make_draft(), deadline=soon(), by=cast.secretary_user), by=cast.secretary_user
    )
    with pytest.raises(ValidationError):
        voting.meeting_vote_link(draft=second, vote=vote, by=cast.secretary_user)


@pytest.mark.django_db
def test_a_vote_of_another_cells_meeting_is_refused(cast, make_draft):
    other = meeting_services.meeting_schedule(
        unit=cast.cell_b,
        kind="thematic",
        topic="Chuyên đề",
        scheduled_start=soon(-2),
        place="Hội trường",
        by=cast.secretary_user,
    )
    from meetings.models import Vote

    vote = Vote.objects.create(meeting=other, subject="NQ", votes_for=3, voting_base=3)
    draft = drafts.comments_close(
        draft=drafts.comments_open(draft=make_draft(), deadline=soon(), by=cast.secretary_user), by=cast.secretary_user
    )
    with pytest.raises(ValidationError):
        voting.meeting_vote_link(draft=draft, vote=vote, by=cast.secretary_user)


# --- Views ---------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_members_vote_and_change_their_vote_on_the_page(cast, client_for, written, cell_of_five):
    client = client_for(cast.member_user)
    url = reverse("resolutions:draft", args=[written.uid])
    assert 'data-testid="vote-panel"' in client.get(url).content.decode()
    client.post(reverse("resolutions:vote", args=[written.uid]), {"choice": "for"})
    client.post(reverse("resolutions:vote", args=[written.uid]), {"choice": "other", "text": "Cần làm rõ"})
    assert ConsultationVote.objects.get(member=cast.member).choice == "other"
    page = client.get(url).content.decode()
    assert 'data-testid="my-vote"' in page
    probationary = cell_of_five.probationary
    from tests.conftest import make_login

    user = make_login(probationary, "dubi")
    response = client_for(user).post(reverse("resolutions:vote", args=[written.uid]), {"choice": "for"})
    assert response.status_code == 302 and not ConsultationVote.objects.filter(member=probationary).exists()


@pytest.mark.django_db
def test_an_unknown_id_unit_is_missing_not_unknown(cast, client_for, written):
    assert (
        client_for(cast.member_user).get(reverse("resolutions:unit_drafts", args=[UnitFactory().uid])).status_code
        == 404
    )


@pytest.mark.django_db
def test_a_vote_that_decided_a_draft_cannot_be_removed_from_the_minutes(cast, make_draft, meeting_of_four):
    vote = meeting_services.vote_record(meeting=meeting_of_four, subject="NQ", votes_for=3, by=cast.secretary_user)
    draft = drafts.comments_close(
        draft=drafts.comments_open(draft=make_draft(), deadline=soon(), by=cast.secretary_user), by=cast.secretary_user
    )
    voting.meeting_vote_link(draft=draft, vote=vote, by=cast.secretary_user)
    with pytest.raises(ValidationError):
        meeting_services.vote_remove(vote=vote, by=cast.secretary_user)
    assert meeting_of_four.votes.filter(pk=vote.pk).exists()
