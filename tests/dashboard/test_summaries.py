"""The summary tables agree with live aggregation after every write path and after a rebuild."""

import datetime

import pytest
from django.core.management import CommandError, call_command

from cells import services as unit_services
from cells.models import PartyUnit
from meetings import services, summaries
from meetings.models import Attendance, CellMonth, Meeting, MeetingCount, UnitMonth
from members import services as member_services
from tests.dashboard.conftest import at
from tests.factories import UnitFactory

pytestmark = pytest.mark.django_db


def agree():
    problems = summaries.check()
    assert problems == []


def row(unit, year, month, **filters):
    rows = UnitMonth.objects.filter(unit=unit, ym=summaries.ym_of(year, month), **filters)
    return {f: sum(getattr(r, f) for r in rows) for f in summaries.SUM_FIELDS}


def test_attendance_and_minutes_reach_every_ancestor(cast, held):
    meeting = held(at(2026, 3, 12), statuses={cast.member: Attendance.Status.ABSENT_UNEXCUSED})
    agree()
    for unit in (cast.cell_a, cast.ward, cast.province):
        figures = row(unit, 2026, 3)
        assert (figures["expected"], figures["present"], figures["unexcused"]) == (2, 1, 1)
        assert figures["held_months"] == 1
    services.attendance_record(meeting=meeting, member=cast.member, status="present", by=cast.secretary_user)
    assert row(cast.province, 2026, 3)["present"] == 2
    agree()
    services.minutes_header_save(
        meeting=meeting, actual_start=at(2026, 3, 12, 8), actual_end=at(2026, 3, 12, 9), by=cast.secretary_user
    )
    assert row(cast.ward, 2026, 3)["duration_ok"] == 0
    agree()


def test_committee_meeting_moved_across_a_month_changes_the_next_months_row(cast, held):
    regular = held(at(2026, 4, 3))
    assert row(cast.ward, 2026, 4)["premeeting"] == 0
    committee = held(at(2026, 3, 25), kind=Meeting.Kind.COMMITTEE)
    # Held in March, it serves April's regular meeting: the April row changes.
    assert row(cast.ward, 2026, 4)["premeeting"] == 1
    agree()
    # Moving a held meeting is refused by the services (only scheduled meetings move), so move it
    # while it is a draft in a second case: schedule, move across the month, then hold.
    assert MeetingCount.objects.get(pk=regular.pk).premeeting
    second = services.meeting_schedule(
        unit=cast.cell_a,
        kind=Meeting.Kind.COMMITTEE,
        scheduled_start=at(2026, 5, 28),
        place="P",
        by=cast.secretary_user,
    )
    held(at(2026, 6, 5))
    assert row(cast.ward, 2026, 6)["premeeting"] == 0
    services.meeting_update(meeting=second, scheduled_start=at(2026, 6, 1), by=cast.secretary_user)
    services.meeting_open(meeting=second, by=cast.secretary_user)
    services.meeting_finish(meeting=second, actual_end=at(2026, 6, 1, 10), by=cast.secretary_user)
    assert row(cast.ward, 2026, 6)["premeeting"] == 1
    agree()
    assert committee.pk


def test_regular_meeting_moved_to_another_month_and_cancelled(cast, held):
    meeting = services.meeting_schedule(
        unit=cast.cell_a, kind="regular", scheduled_start=at(2026, 7, 10), place="P", by=cast.secretary_user
    )
    services.meeting_update(meeting=meeting, period_month=8, scheduled_start=at(2026, 8, 10), by=cast.secretary_user)
    assert MeetingCount.objects.get(pk=meeting.pk).ym == summaries.ym_of(2026, 8)
    services.meeting_cancel(meeting=meeting, reason="Mưa bão", by=cast.secretary_user)
    assert row(cast.ward, 2026, 8)["held_months"] == 0
    assert row(cast.ward, 2026, 8)["cell_months"] == 2
    agree()


def test_member_transferred_and_cell_dissolved(cast, held):
    meeting = services.meeting_schedule(
        unit=cast.cell_a, kind="regular", scheduled_start=at(2026, 2, 10), place="P", by=cast.secretary_user
    )
    services.meeting_open(meeting=meeting, by=cast.secretary_user)
    assert MeetingCount.objects.get(pk=meeting.pk).expected == 2
    # The member leaves on 1 February, before the meeting; the open roll is taken again.
    member_services.transfer_out(
        member=cast.member, to_cell=cast.cell_b, date=datetime.date(2026, 2, 1), by=cast.secretary_user
    )
    assert MeetingCount.objects.get(pk=meeting.pk).expected == 1
    services.attendance_record(meeting=meeting, member=cast.secretary, status="present", by=cast.secretary_user)
    services.meeting_finish(meeting=meeting, actual_end=at(2026, 2, 10, 11), by=cast.secretary_user)
    agree()
    unit_services.unit_update(unit=cast.cell_b, dissolved_on=datetime.date(2026, 5, 20), by=cast.staff_user)
    assert row(cast.ward, 2026, 5)["cell_months"] == 2
    assert row(cast.ward, 2026, 6)["cell_months"] == 1
    agree()


def test_cell_founded_moved_and_retyped(cast, held):
    other_ward = UnitFactory(kind=PartyUnit.Kind.COMMITTEE, name="Đảng bộ xã Hợp Châu", parent=cast.province)
    cell = unit_services.unit_create(
        parent=cast.ward,
        kind=PartyUnit.Kind.CELL,
        name="Chi bộ Trường Tiểu học",
        unit_type=PartyUnit.UnitType.PUBLIC_SERVICE,
        founded_on=datetime.date(2026, 3, 15),
        by=cast.staff_user,
    )
    assert row(cast.ward, 2026, 2)["cell_months"] == 2
    assert row(cast.ward, 2026, 3)["cell_months"] == 3
    held(at(2026, 3, 12))
    unit_services.unit_update(unit=cast.cell_a, parent=other_ward, by=cast.staff_user)
    assert row(other_ward, 2026, 3)["held_months"] == 1
    assert row(cast.ward, 2026, 3)["held_months"] == 0
    agree()
    unit_services.unit_update(unit=cast.cell_a, unit_type=PartyUnit.UnitType.STATE_AGENCY, by=cast.staff_user)
    assert row(cast.province, 2026, 3, unit_type=PartyUnit.UnitType.STATE_AGENCY)["held_months"] == 1
    agree()
    assert cell.pk


def test_rebuild_agrees_and_check_fails_on_a_difference(cast, held):
    held(at(2026, 1, 8), guests=["Nguyễn Văn An"])
    held(at(2026, 1, 20), kind=Meeting.Kind.THEMATIC, minutes=80)
    before = {(r.unit_id, r.unit_type, r.ym): r.values() for r in UnitMonth.objects.all() if any(r.values().values())}
    call_command("rebuild_summaries", verbosity=0)
    after = {(r.unit_id, r.unit_type, r.ym): r.values() for r in UnitMonth.objects.all()}
    assert before == after
    call_command("rebuild_summaries", "--check", verbosity=0)
    CellMonth.objects.filter(cell=cast.cell_a, ym=summaries.ym_of(2026, 1)).update(present=0)
    with pytest.raises(CommandError):
        call_command("rebuild_summaries", "--check", verbosity=0)


def test_a_cell_retyped_outside_the_services_moves_its_rows_on_the_next_write(cast, held):
    held(at(2026, 4, 9))
    PartyUnit.objects.filter(pk=cast.cell_a.pk).update(unit_type=PartyUnit.UnitType.POLICE)  # e.g. the admin
    cast.cell_a.refresh_from_db()
    held(at(2026, 5, 9))
    assert row(cast.ward, 2026, 4, unit_type=PartyUnit.UnitType.POLICE)["held_months"] == 1
    agree()


def test_extend_adds_the_missing_months_and_member_years(cast, held):
    import time_machine

    from meetings.models import MemberYear

    held(at(2026, 2, 10), statuses={cast.member: Attendance.Status.ABSENT_UNEXCUSED})
    # A year on, the horizon has moved: the new months and member years are missing until --extend.
    with time_machine.travel(datetime.datetime(2027, 1, 5, 9, 0), tick=False):
        last = summaries.member_years()[-1]
        assert not MemberYear.objects.filter(year=last).exists()
        assert summaries.check()
        call_command("rebuild_summaries", "--extend", verbosity=0)
        agree()
        assert MemberYear.objects.filter(year=last, member=cast.member).exists()
