"""Every metric of DOMAIN.md "Dashboard metrics" on a hand-built tree with known answers, and the
same figures from live aggregation over the raw tables."""

import datetime

import pytest

from cells import services as unit_services
from cells import stats
from cells.models import PartyUnit
from meetings.discipline import discipline_count
from meetings.models import Attendance, Meeting
from meetings.summaries import ym_of
from members import services as member_services
from members.models import Member, StatusPeriod
from tests.dashboard.conftest import at, hold
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db
A = Attendance.Status
Q1 = stats.Period.quarter(2026, 1)


@pytest.fixture
def tree(cast):
    by = cast.secretary_user
    probationary = MemberFactory(
        full_name="Vũ Thị Lan", cell=cast.cell_a, admitted_on=datetime.date(2025, 6, 1), full_member_on=None
    )
    exempted = MemberFactory(full_name="Hoàng Văn Cụ", cell=cast.cell_a, birth_date=datetime.date(1940, 1, 1))
    member_services.status_period_add(
        member=exempted, kind=StatusPeriod.Kind.EXEMPTED, start=datetime.date(2025, 1, 1), reason="Tuổi cao", by=by
    )
    leaver = MemberFactory(full_name="Đinh Văn Tâm", cell=cast.cell_b)
    cell_c = unit_services.unit_create(
        parent=cast.ward,
        kind=PartyUnit.Kind.CELL,
        name="Chi bộ UBND phường",
        unit_type=PartyUnit.UnitType.STATE_AGENCY,
        founded_on=datetime.date(2026, 2, 15),
        by=cast.staff_user,
    )
    newcomer = MemberFactory(full_name="Ngô Thị Mai", cell=cell_c, joined_on=datetime.date(2026, 2, 15))
    # Cell A: January with the committee 13 days before and a higher-level delegate; February with a
    # committee meeting 15 days before (does not count) and 80 minutes; March cancelled; a thematic.
    hold(cast.cell_a, at(2025, 12, 28), by, kind=Meeting.Kind.COMMITTEE)
    hold(
        cast.cell_a,
        at(2026, 1, 10),
        by,
        statuses={cast.member: A.ABSENT_UNEXCUSED, exempted: A.ABSENT_EXCUSED},
        guests=["Đồng chí Phó Bí thư Đảng ủy phường"],
    )
    hold(cast.cell_a, at(2026, 1, 28), by, kind=Meeting.Kind.COMMITTEE)
    hold(cast.cell_a, at(2026, 2, 12), by, statuses={cast.member: A.ABSENT_UNEXCUSED}, minutes=80)
    from meetings import services

    march = services.meeting_schedule(
        unit=cast.cell_a, kind="regular", scheduled_start=at(2026, 3, 12), place="Hội trường", by=by
    )
    services.meeting_cancel(meeting=march, reason="Mưa bão", by=by)
    hold(cast.cell_a, at(2026, 3, 20), by, kind=Meeting.Kind.THEMATIC, minutes=100)
    # Cell B: a member transferred out on 5 February; an excused absence; the committee before March.
    hold(cast.cell_b, at(2026, 1, 15), by, minutes=90)
    member_services.transfer_out(member=leaver, to_cell=cast.cell_a, date=datetime.date(2026, 2, 5), by=by)
    hold(cast.cell_b, at(2026, 2, 15), by, statuses={cast.ward_member: A.ABSENT_EXCUSED})
    hold(cast.cell_b, at(2026, 3, 1), by, kind=Meeting.Kind.COMMITTEE)
    hold(cast.cell_b, at(2026, 3, 14), by)
    # Cell C, founded 15 February: no meeting in February, one in March.
    hold(cell_c, at(2026, 3, 10), by, minutes=90)
    cast.cell_c, cast.probationary, cast.exempted, cast.leaver, cast.newcomer = (
        cell_c,
        probationary,
        exempted,
        leaver,
        newcomer,
    )
    return cast


def test_every_metric_of_the_ward_for_the_first_quarter(tree):
    f = stats.figures(tree.ward, Q1)
    assert f.cell_months == 8  # A and B three months, C from its founding in February
    assert f.held_months == 6
    assert f.on_schedule == pytest.approx(6 / 8)
    assert f.missed_months == 2  # A in March (cancelled), C in February
    assert f.regular_held == 6
    assert f.premeeting == 2  # A in January (13 days before), B in March; not A in February (15 days)
    assert f.higher_delegate == 1
    # A: Jan 3 expected (the exempted member stayed away), 2 present; Feb 4 expected (the exempted
    # member came), 3 present. B: 3/3, then 2 expected 1 present (the leaver is off the roll), 2/2. C: 1/1.
    assert (f.expected, f.present) == (15, 12)
    assert f.attendance == pytest.approx(12 / 15)
    assert f.unexcused == 2
    assert (f.timed_held, f.duration_ok) == (7, 6)  # A's February lasted 80 minutes
    assert (f.cell_quarters, f.thematic_quarters) == (3, 1)
    assert f.thematic == pytest.approx(1 / 3)
    assert f.meetings_held == 9  # the committee meeting of 28 December counts in December
    assert f.levels == {"attendance": "warn", "on_schedule": "bad", "premeeting": "bad", "thematic": "bad"}
    assert (f.resolutions, f.tasks_due, f.tasks_done) == (0, 0, 0)


def test_a_month_or_quarter_in_progress_counts_only_where_its_meeting_is_held(tree):
    """On 16 March, March and the first quarter are still going: cell A's March meeting (cancelled,
    not yet held again) is not missed yet, and cells B and C have until the quarter ends to hold a
    thematic meeting. Each counts once held; every form of the figures agrees."""
    today = datetime.date(2026, 3, 16)
    ended = stats.figures(tree.ward, Q1, resolutions=False)
    for period in (stats.Period.quarter(2026, 1, today), stats.Period.year(2026, today)):
        assert period.current == ym_of(2026, 3)
        f = stats.figures(tree.ward, period, resolutions=False)
        assert (f.cell_months, f.held_months, f.missed_months) == (ended.cell_months - 1, ended.held_months, 1)
        assert (f.cell_quarters, f.thematic_quarters) == (1, 1)  # only A has held its thematic meeting
        assert f.thematic == 1.0
        assert f.sums == stats.live_figures(tree.ward, period).sums
        assert stats.headline_and_trend(tree.ward, period)[0].sums == f.sums
        kids = {u.pk: g for u, g in stats.by_child(tree.ward, period)}
        assert {pk: g.sums for pk, g in stats.child_figures(list(kids), period).items()} == {
            pk: g.sums for pk, g in kids.items()
        }
        assert (kids[tree.cell_a.pk].cell_months, kids[tree.cell_a.pk].missed_months) == (2, 0)
        assert sum(g.cell_months for _t, _l, g in stats.by_type(tree.ward, period)) == f.cell_months
        # The missed list: C's February only, not A's March (in the ORM and the page's SQL alike).
        assert [(r.cell_id, r.ym) for r in stats.missed_months(tree.ward, period)] == [(tree.cell_c.pk, ym_of(2026, 2))]
        assert [(r.cell_id, r.ym) for r in stats.missed_under([tree.ward.path], period)] == [
            (tree.cell_c.pk, ym_of(2026, 2))
        ]
    march = stats.Period.month(2026, 3, today)
    f = stats.figures(tree.ward, march, resolutions=False)
    assert (f.cell_months, f.held_months, f.on_schedule) == (2, 2, 1.0)
    point = dict(stats.trend(tree.ward, march, 3))[ym_of(2026, 3)]
    assert (point.cell_months, point.held_months) == (2, 2)
    assert dict(stats.headline_and_trend(tree.ward, march, 3)[1])[ym_of(2026, 3)].sums == point.sums
    # Once March has ended, A's March is missed again.
    after = stats.Period.quarter(2026, 1, datetime.date(2026, 4, 1))
    assert after.current is None and stats.figures(tree.ward, after, resolutions=False).sums == ended.sums


def test_groupings_by_child_type_and_month(tree):
    rows = {u.pk: f for u, f in stats.by_child(tree.ward, Q1)}
    assert set(rows) == {tree.cell_a.pk, tree.cell_b.pk, tree.cell_c.pk}
    assert (rows[tree.cell_a.pk].expected, rows[tree.cell_a.pk].present) == (7, 5)
    assert rows[tree.cell_c.pk].cell_months == 2
    types = {t: f for t, _label, f in stats.by_type(tree.province, Q1)}
    assert types[PartyUnit.UnitType.STATE_AGENCY].cell_months == 2
    assert types[PartyUnit.UnitType.RESIDENTIAL].cell_months == 6
    only_agencies = stats.figures(tree.province, Q1, PartyUnit.UnitType.STATE_AGENCY)
    assert (only_agencies.held_months, only_agencies.present) == (1, 1)
    months = dict(stats.by_month(tree.ward, Q1.low, Q1.high))
    assert [months[ym].held_months for ym in Q1.months] == [2, 2, 2]
    assert [months[ym].cell_months for ym in Q1.months] == [2, 3, 3]
    january = stats.figures(tree.ward, stats.Period.month(2026, 1))
    assert (january.expected, january.present, january.premeeting) == (6, 5, 1)
    # A month shows its quarter so far for the thematic cadence (cell C was founded later).
    assert (january.cell_quarters, january.thematic_quarters) == (2, 0)


def test_missed_months_and_cell_drill_down(tree):
    missed = [(r.cell_id, stats.month_label(r.ym)) for r in stats.missed_months(tree.ward, Q1)]
    assert sorted(missed) == sorted([(tree.cell_a.pk, "03/2026"), (tree.cell_c.pk, "02/2026")])
    meetings = list(stats.cell_meetings(tree.cell_a, Q1))
    assert [(m.kind, m.status) for m in meetings] == [
        ("regular", "held"),
        ("committee", "held"),
        ("regular", "held"),
        ("regular", "cancelled"),
        ("thematic", "held"),
    ]
    lines = {line.member.pk: line for line in stats.cell_members(tree.cell_a, Q1)}
    assert (lines[tree.member.pk].expected, lines[tree.member.pk].present, lines[tree.member.pk].unexcused) == (2, 0, 2)
    assert (lines[tree.exempted.pk].expected, lines[tree.exempted.pk].present) == (1, 1)


def test_members_at_risk_count_absence_and_unpaid_months_apart(tree):
    # Dues through the services: each write keeps the member-year summary the list reads.
    for m in Member.objects.all():
        for month in (1, 2, 3):
            member_services.dues_record(
                member=m,
                year=2026,
                month=month,
                amount=20000,
                paid_on=datetime.date(2026, month, 12),
                by=tree.staff_user,
            )
    for month in (2, 3):
        member_services.dues_remove(member=tree.secretary, year=2026, month=month, by=tree.staff_user)
    april = datetime.date(2026, 4, 2)
    at_risk = {r.member.pk: r for r in stats.members_at_risk(tree.ward, 2026, today=april)}
    assert set(at_risk) == {tree.member.pk, tree.secretary.pk}
    assert (at_risk[tree.member.pk].absence_months, at_risk[tree.member.pk].level) == (2, "warning")
    assert (at_risk[tree.secretary.pk].unpaid_months, at_risk[tree.secretary.pk].absence_months) == (2, 0)
    # Scope: cell B's committee sees none of cell A's members.
    assert stats.members_at_risk(tree.cell_b, 2026, today=april) == []
    # The same list as counted from the raw tables, and as the one rule counts each member.
    for unit in (tree.province, tree.ward, tree.cell_a, tree.cell_b):
        assert stats.members_at_risk(unit, 2026, today=april) == stats.live_members_at_risk(unit, 2026, today=april)
    for r in at_risk.values():
        count = discipline_count(r.member, 2026, april)
        assert (len(count.absence_months), len(count.unpaid_months)) == (r.absence_months, r.unpaid_months)
    # Months count as unpaid only once they have ended: in March, February alone has.
    march = {r.member.pk: r for r in stats.members_at_risk(tree.ward, 2026, today=datetime.date(2026, 3, 2))}
    assert tree.secretary.pk not in march


@pytest.mark.parametrize("unit_name", ["province", "ward", "cell_a", "cell_b", "cell_c"])
def test_summaries_give_the_same_figures_as_live_aggregation(tree, unit_name):
    unit = getattr(tree, unit_name)
    for period in (Q1, stats.Period.month(2026, 2), stats.Period.year(2026), stats.Period.year(2025)):
        for unit_type in (None, PartyUnit.UnitType.STATE_AGENCY):
            assert stats.figures(unit, period, unit_type).sums == stats.live_figures(unit, period, unit_type).sums


@pytest.mark.parametrize("unit_name", ["province", "ward", "cell_a", "cell_c"])
def test_the_one_query_headline_trend_children_and_missed_agree_with_the_orm_forms(tree, unit_name):
    """The page reads the headline and trend in one query, the children's figures and the missed
    cell-months in SQL written once: the same figures and rows as figures(), trend(), by_child()
    and missed_months(), for months, quarters, years and ranges wider than the trend."""
    unit = getattr(tree, unit_name)
    periods = (
        Q1,
        stats.Period.month(2026, 2),
        stats.Period.year(2026),
        stats.Period.year(2025),
        stats.Period.make("range", ym_of(2023, 2), ym_of(2026, 3)),
    )
    for period in periods:
        for unit_type in (None, PartyUnit.UnitType.STATE_AGENCY, PartyUnit.UnitType.RESIDENTIAL):
            headline, points = stats.headline_and_trend(unit, period, 24, unit_type)
            assert headline.sums == stats.figures(unit, period, unit_type, resolutions=False).sums
            assert [(ym, f.sums) for ym, f in points] == [
                (ym, f.sums) for ym, f in stats.trend(unit, period, 24, unit_type)
            ]
            kids = {u.pk: f.sums for u, f in stats.by_child(unit, period, unit_type)}
            assert {pk: f.sums for pk, f in stats.child_figures(list(kids), period, unit_type).items()} == kids
            orm = [
                (r.cell_id, r.ym, r.cell.uid, r.cell.display_name) for r in stats.missed_months(unit, period, unit_type)
            ]
            rows = [
                (r.cell_id, r.ym, r.uid, r.display_name) for r in stats.missed_under([unit.path], period, unit_type)
            ]
            assert sorted(rows) == sorted(orm)
    assert {r.cell_id for r in stats.missed_under([tree.cell_a.path, tree.cell_c.path], Q1)} == {
        tree.cell_a.pk,
        tree.cell_c.pk,
    }
    assert stats.missed_under([], Q1) == []


def test_children_and_ancestors_in_one_query(tree, django_assert_num_queries):
    for unit in (tree.province, tree.ward, tree.cell_a):
        with django_assert_num_queries(1):
            kids, above = stats.children_and_ancestors(unit)
        assert kids == stats.children(unit, with_stamps=True)
        assert [a.pk for a in above] == [a.pk for a in unit.ancestors().exclude(pk=unit.pk)]
