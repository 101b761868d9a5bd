"""Discipline counters: months with unexcused absence and months with unpaid dues, per calendar year."""

import datetime

from meetings import services
from meetings.discipline import discipline_count
from members import services as member_services
from tests.meetings.conftest import at

D = datetime.date


def _regular(cast, schedule, year, month, status):
    meeting = schedule(start=at(year, month, 10), period_year=year, period_month=month)
    services.meeting_open(meeting=meeting, by=cast.secretary_user)
    services.attendance_record(
        meeting=meeting,
        member=cast.member,
        status=status,
        reason="Ốm" if status == "excused" else "",
        by=cast.secretary_user,
    )
    services.meeting_finish(meeting=meeting, by=cast.secretary_user, actual_end=at(year, month, 10, 10))
    return meeting


def test_absences_are_counted_per_calendar_year_across_the_boundary(cast, schedule):
    for year, month in [(2025, 11), (2025, 12), (2026, 1)]:
        _regular(cast, schedule, year, month, "unexcused")
    _regular(cast, schedule, 2026, 2, "excused")
    count_2025 = discipline_count(cast.member, 2025, today=D(2026, 3, 1))
    assert count_2025.absence_months == (11, 12)
    count_2026 = discipline_count(cast.member, 2026, today=D(2026, 3, 1))
    assert count_2026.absence_months == (1,)  # December does not carry over into January
    for year, month in [(2026, 1), (2026, 2)]:
        member_services.dues_record(
            member=cast.member, year=year, month=month, amount=10000, paid_on=D(year, month, 10), by=cast.secretary_user
        )
    assert discipline_count(cast.member, 2026, today=D(2026, 3, 1)).level() == "ok"


def test_three_unexcused_months_raise_the_alert(cast, schedule):
    for month in (1, 2, 3):
        _regular(cast, schedule, 2026, month, "unexcused")
    count = discipline_count(cast.member, 2026, today=D(2026, 12, 31))
    assert count.absence_months == (1, 2, 3) and count.level() == "alert"


def test_dues_count_as_unpaid_only_once_the_month_has_ended(cast):
    for month in (1, 2):
        member_services.dues_record(
            member=cast.member, year=2026, month=month, amount=10000, paid_on=D(2026, month, 10), by=cast.secretary_user
        )
    count = discipline_count(cast.member, 2026, today=D(2026, 5, 15))
    assert count.unpaid_months == (3, 4)  # May has not ended yet
    assert count.level() == "warning"
    # December of the year before is that year's business.
    assert 12 in discipline_count(cast.member, 2025, today=D(2026, 5, 15)).unpaid_months


def test_dues_are_not_due_before_joining_the_roll(cast):
    from tests.factories import MemberFactory

    newcomer = MemberFactory(cell=cast.cell_a, joined_on=D(2026, 3, 15))
    # On the roll at the end of March: March is due; January and February are not.
    assert discipline_count(newcomer, 2026, today=D(2026, 6, 1)).unpaid_months == (3, 4, 5)
