"""DOMAIN.md "Counting": expected attendees, attendance rate, voting base, pass threshold."""

import datetime
from types import SimpleNamespace

import pytest

from meetings import counting, services
from meetings.models import Attendance
from members.models import StatusPeriod, TemporaryAttachment
from tests.factories import MemberFactory
from tests.meetings.conftest import at

D = datetime.date


def row(status="present", full=True, exempted=False, suspended=False, here=False, elsewhere=False, approved=False):
    return SimpleNamespace(
        status=status,
        is_full=full,
        is_exempted=exempted,
        is_suspended=suspended,
        is_attached_here=here,
        is_attached_elsewhere=elsewhere,
        reason_approved=approved,
        arrived_late=False,
    )


def test_exempted_member_who_stays_away_is_not_expected_but_one_who_comes_is_present_and_expected():
    c = counting.count([row(), row("excused", exempted=True), row("present", exempted=True)])
    assert (c.expected, c.present, c.rate) == (2, 2, 1.0)
    assert c.exempted == 2


def test_probationary_members_are_expected_but_do_not_vote():
    c = counting.count([row(), row(full=False), row(full=False)])
    assert (c.expected, c.voting_base, c.probationary, c.full) == (3, 1, 2, 1)


def test_attached_here_counts_attached_elsewhere_and_suspended_do_not():
    c = counting.count([row(), row(here=True), row("unexcused", elsewhere=True), row("", suspended=True)])
    assert c.expected == 2 and c.attached_here == 1 and c.on_roll == 3
    assert c.unexcused == 1  # shown by name in the minutes, but not in the rate's base
    assert c.voting_base == 2


def test_approved_absence_reduces_the_voting_base_only_when_configured():
    rows = [row(), row(), row("excused", approved=True), row("excused", approved=False)]
    assert counting.count(rows).voting_base == 3
    assert counting.count(rows, approved_absence_reduces=False).voting_base == 4


def test_rate_is_present_over_expected_and_pooled_as_sums():
    c = counting.count([row(), row("online"), row("unexcused"), row("excused")])
    assert c.rate_percent == 50 and c.online == 1
    assert counting.rate(3 + 45, 4 + 50) == pytest.approx(48 / 54)


@pytest.mark.parametrize(
    ("votes_for", "base", "passes"),
    [(5, 9, True), (4, 8, False), (5, 8, True), (0, 0, False), (1, 1, True), (4, 9, False)],
)
def test_a_text_passes_with_more_than_half_of_the_voting_base(votes_for, base, passes):
    # Exactly half (4 of 8) is not more than half; the base is the voting base, not those present.
    assert counting.passes(votes_for, base) is passes


def test_roll_on_the_meeting_date_uses_the_standing_of_that_date(cast, schedule):
    cell = cast.cell_a
    probation = MemberFactory(
        full_name="Ngô Thị Dự Bị", cell=cell, admitted_on=D(2025, 6, 1), full_member_on=None, birth_date=D(1995, 1, 1)
    )
    exempt = MemberFactory(full_name="Hồ Văn Miễn", cell=cell)
    StatusPeriod.objects.create(member=exempt, kind="exempted", start=D(2025, 1, 1), reason="Tuổi cao")
    suspended = MemberFactory(full_name="Bùi Văn Đình", cell=cell)
    StatusPeriod.objects.create(
        member=suspended, kind="suspended", start=D(2026, 1, 1), end=D(2026, 6, 30), reason="Kỷ luật"
    )
    visitor = MemberFactory(full_name="Vũ Tạm Thời", cell=cast.cell_b)
    TemporaryAttachment.objects.create(member=visitor, cell=cell, start=D(2026, 1, 1))
    away = MemberFactory(full_name="Lý Đi Xa", cell=cell)
    TemporaryAttachment.objects.create(member=away, cell=cast.cell_b, start=D(2026, 2, 1))
    late_joiner = MemberFactory(full_name="Mới Chuyển Đến", cell=cell, joined_on=D(2026, 4, 1))

    meeting = schedule(start=at(2026, 3, 12))
    services.meeting_open(meeting=meeting, by=cast.secretary_user)
    rows = {a.member_id: a for a in Attendance.objects.filter(meeting=meeting)}
    assert late_joiner.pk not in rows
    assert not rows[probation.pk].is_full and rows[exempt.pk].is_exempted and rows[suspended.pk].is_suspended
    assert rows[visitor.pk].is_attached_here and rows[away.pk].is_attached_elsewhere

    # Probation ends after the meeting: for this meeting he stays probationary.
    probation.full_member_on = D(2026, 6, 1)
    probation.save()
    services.attendance_sync(meeting=meeting)
    assert not Attendance.objects.get(meeting=meeting, member=probation).is_full

    for member in (cast.secretary, cast.member, probation, visitor):
        services.attendance_record(meeting=meeting, member=member, status="present", by=cast.secretary_user)
    services.attendance_record(meeting=meeting, member=exempt, status="excused", reason="Ốm", by=cast.secretary_user)
    c = services.counts_for(meeting)
    # expected: secretary, member, probation, visitor (exempt absent, suspended, attached elsewhere out)
    assert (c.expected, c.present, c.voting_base) == (4, 4, 3)
    assert c.on_roll == 6 and c.attached_here == 1


def test_vote_cannot_exceed_full_members_present(cast, schedule):
    from django.core.exceptions import ValidationError

    meeting = schedule()
    services.meeting_open(meeting=meeting, by=cast.secretary_user)
    services.attendance_record(meeting=meeting, member=cast.secretary, status="present", by=cast.secretary_user)
    services.attendance_record(meeting=meeting, member=cast.member, status="present", by=cast.secretary_user)
    vote = services.vote_record(meeting=meeting, subject="Nghị quyết tháng 3", votes_for=2, by=cast.secretary_user)
    assert vote.voting_base == 2 and vote.passed
    with pytest.raises(ValidationError):
        services.vote_record(meeting=meeting, subject="X", votes_for=2, votes_against=1, by=cast.secretary_user)


def test_a_committee_meeting_lists_the_cell_committee_only(cast, schedule):
    meeting = schedule(kind="committee", start=at(2026, 3, 5))
    services.meeting_open(meeting=meeting, by=cast.secretary_user)
    assert list(Attendance.objects.filter(meeting=meeting).values_list("member", flat=True)) == [cast.secretary.pk]
