"""A unit's history of stamps (SummaryStamp.recent) names the children each write changed, so a
committee's page reads again only those children after a write below it (cells.views_dashboard
._Children). What it shows must equal a page built from nothing, after every kind of write."""

import datetime
import re
import threading

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cells import services as unit_services
from cells.models import PartyUnit
from meetings import services, summaries
from meetings.models import Attendance, Meeting
from members.models import Position
from tests.dashboard.conftest import at, hold
from tests.factories import MemberFactory, PositionFactory, UnitFactory

pytestmark = pytest.mark.django_db
YEAR = {"period": "year", "year": "2026"}
MARCH = {"period": "month", "year": "2026", "month": "3"}


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def recent(unit) -> str:
    return summaries.SummaryStamp.objects.get(unit=unit).recent


def stamp(unit) -> int:
    return summaries.SummaryStamp.objects.get(unit=unit).stamp


# --- The history, read ---------------------------------------------------------------------------


def test_changed_children_reads_the_writes_between_two_stamps():
    history = ";5:0;7:12;9:12,14;11:3"
    assert summaries.changed_children(history, 11, 11) == set()
    assert summaries.changed_children(history, 11, 9) == {3}
    assert summaries.changed_children(history, 11, 7) == {3, 12, 14}
    # A write that could not name its children ("0") between them: not known.
    assert summaries.changed_children(history, 11, 2) is None  # before the history
    assert summaries.changed_children(";2:5;5:0;7:12", 7, 2) is None
    # The current stamp is not the history's last: a writer replaced it without the history.
    assert summaries.changed_children(history, 13, 9) is None
    assert summaries.changed_children("", 13, 9) is None
    assert summaries.changed_children(None, 13, 9) is None
    # Cut from the left: the first piece may be the end of an entry, never read as one.
    assert summaries.changed_children("2:13;7:12", 7, 2) is None
    assert summaries.changed_children("12;5:4;7:12", 7, 5) == {12}


# --- The history, written ------------------------------------------------------------------------


def test_a_write_in_a_cell_names_on_each_ancestor_the_child_it_came_through(cast):
    meeting = hold(cast.cell_a, at(2026, 3, 12), cast.secretary_user)
    before = {u: stamp(u) for u in (cast.province, cast.ward, cast.cell_a)}
    services.attendance_record(
        meeting=meeting, member=cast.member, status=Attendance.Status.ABSENT_UNEXCUSED, by=cast.secretary_user
    )
    # The province's children changed: the ward alone; the ward's: cell A alone.
    assert summaries.changed_children(recent(cast.province), stamp(cast.province), before[cast.province]) == {
        cast.ward.pk
    }
    assert summaries.changed_children(recent(cast.ward), stamp(cast.ward), before[cast.ward]) == {cast.cell_a.pk}
    # The cell itself is the end of the path: its own pages, "not known".
    assert summaries.changed_children(recent(cast.cell_a), stamp(cast.cell_a), before[cast.cell_a]) is None
    assert recent(cast.province).endswith(f";{stamp(cast.province)}:{cast.ward.pk}")


def test_a_move_names_both_wards_and_a_bump_by_id_names_none(cast):
    other = UnitFactory(kind=PartyUnit.Kind.COMMITTEE, name="Đảng bộ xã Hợp Châu", parent=cast.province)
    summaries.rebuild()
    before = stamp(cast.province)
    unit_services.unit_update(unit=cast.cell_a, parent=other, by=cast.staff_user)
    assert summaries.changed_children(recent(cast.province), stamp(cast.province), before) == {cast.ward.pk, other.pk}
    # The moved cell's subtree gets new stamps by id (its breadcrumb changed): "not known".
    before = stamp(cast.ward)
    summaries.bump_stamps(ids=[cast.ward.pk])
    assert summaries.changed_children(recent(cast.ward), stamp(cast.ward), before) is None


def test_an_absence_names_the_cells_of_the_members_lists(cast):
    """member_lists_changed (the members-at-risk list) writes the history the same way."""
    before = stamp(cast.province)
    summaries.member_lists_changed([cast.member.pk, cast.outsider.pk])
    assert summaries.changed_children(recent(cast.province), stamp(cast.province), before) == {cast.ward.pk}
    assert summaries.changed_children(recent(cast.ward), stamp(cast.ward), stamp(cast.ward)) == set()
    last = recent(cast.ward).rsplit(";", 1)[1]
    assert last == f"{stamp(cast.ward)}:{min(cast.cell_a.pk, cast.cell_b.pk)},{max(cast.cell_a.pk, cast.cell_b.pk)}"


def test_the_history_keeps_the_last_writes_only(cast):
    stamps = []
    for _ in range(120):
        summaries.bump_stamps(paths=[cast.province.path, cast.ward.path])
        stamps.append(stamp(cast.province))
    history = recent(cast.province)
    assert len(history) <= summaries.RECENT_CHARS
    assert summaries.changed_children(history, stamps[-1], stamps[-10]) == {cast.ward.pk}
    assert summaries.changed_children(history, stamps[-1], stamps[0]) is None  # fell out: read every child


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_writers_at_once_both_enter_the_history(cast):
    """Writers of one unit queue on its stamp row: the second appends to what the first committed,
    so no write is lost from the history, whichever commits first."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL (DATABASE_URL=postgres://…); SQLite serialises writers")
    other = UnitFactory(kind=PartyUnit.Kind.COMMITTEE, name="Đảng bộ xã Hợp Châu", parent=cast.province)
    summaries.bump_stamps(paths=[cast.province.path])
    before = stamp(cast.province)
    first_in, release = threading.Event(), threading.Event()
    errors = []

    def write(child, hold_open):
        from django.db import connection as thread_connection

        try:
            with transaction.atomic():
                summaries.bump_stamps(paths=[cast.province.path, child.path])
                if hold_open:
                    first_in.set()
                    release.wait(20)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            thread_connection.close()

    first = threading.Thread(target=write, args=(cast.ward, True))
    first.start()
    assert first_in.wait(20)
    second = threading.Thread(target=write, args=(other, False))
    second.start()
    second.join(0.5)
    assert second.is_alive()  # waiting for the first writer's row lock
    release.set()
    first.join(20)
    second.join(20)
    assert not errors, errors
    assert summaries.changed_children(recent(cast.province), stamp(cast.province), before) == {cast.ward.pk, other.pk}


# --- The page: after each write, what a page built from nothing shows ------------------------------


def province_staff(cast):
    PositionFactory(unit=cast.province, role=Position.Role.STAFF, user=cast.ward_user, start=datetime.date(2020, 1, 1))
    return cast.ward_user


def shown(client, unit, params) -> str:
    """The page's body without what changes on every request (the csrf token)."""
    response = client.get(reverse("dashboard:unit", kwargs={"uid": unit.uid}), params)
    assert response.status_code == 200
    html = response.content.decode()
    return re.sub(r"\b[A-Za-z0-9]{64}\b", "csrf", html)


def same_as_built_from_nothing(client, unit, params=YEAR) -> str:
    kept = shown(client, unit, params)
    cache.clear()
    built = shown(client, unit, params)
    assert kept == built
    return kept


@pytest.fixture
def tree(cast):
    """The province with a second ward of three cells, every cell with a member."""
    other = UnitFactory(kind=PartyUnit.Kind.COMMITTEE, name="Đảng bộ xã Hợp Châu", parent=cast.province)
    cells = [UnitFactory(kind=PartyUnit.Kind.CELL, name=f"Chi bộ thôn {i}", parent=other) for i in range(3)]
    for cell in cells:
        MemberFactory(full_name=f"Nguyễn Văn {cell.pk}", cell=cell)
    summaries.rebuild()
    return other, cells


def test_a_write_below_reads_only_the_child_it_came_through(client_for, cast, tree):
    other, _cells = tree
    client = client_for(province_staff(cast))
    for params in (YEAR, MARCH):
        shown(client, cast.province, params)
    hold(cast.cell_a, at(2026, 3, 12), cast.secretary_user)
    with CaptureQueriesContext(connection) as ctx:
        html = shown(client, cast.province, YEAR)
    sqls = [q["sql"] or "" for q in ctx.captured_queries]
    assert not [sql for sql in sqls if "u.parent_id =" in sql]  # not every child of the province
    (read,) = [sql for sql in sqls if "s.recent FROM" in sql]
    assert str(cast.ward.pk) in read and str(other.pk) not in read.split("WHERE")[1]
    assert html == same_as_built_from_nothing(client, cast.province, YEAR)


WRITES = [
    "attendance",
    "held",
    "cancelled",
    "moved",
    "new ward",
    "renamed",
    "ancestor renamed",
    "retyped",
    "dissolved",
    "rebuild",
]


@pytest.mark.parametrize("write", WRITES)
def test_after_each_write_the_kept_page_equals_one_built_from_nothing(client_for, cast, tree, write):
    other, cells = tree
    meeting = hold(cells[0], at(2026, 3, 12), cast.staff_user)
    client = client_for(province_staff(cast))
    for unit in (cast.province, other):
        for params in (YEAR, MARCH):
            shown(client, unit, params)
    if write == "attendance":
        row = Attendance.objects.filter(meeting=meeting).first()
        services.attendance_record(
            meeting=meeting, member=row.member, status=Attendance.Status.ABSENT_UNEXCUSED, by=cast.staff_user
        )
    elif write == "held":  # a missed month no longer missed
        hold(cells[1], at(2026, 3, 14), cast.staff_user)
    elif write == "cancelled":
        scheduled = services.meeting_schedule(
            unit=cells[2],
            kind=Meeting.Kind.REGULAR,
            scheduled_start=at(2026, 3, 20),
            by=cast.staff_user,
            place="Nhà văn hóa",
        )
        services.meeting_cancel(meeting=scheduled, reason="Mưa bão", by=cast.staff_user)
    elif write == "moved":
        unit_services.unit_update(unit=cells[0], parent=cast.ward, by=cast.staff_user)
    elif write == "new ward":
        ward = unit_services.unit_create(
            kind=PartyUnit.Kind.COMMITTEE, name="Đảng bộ xã Đại Đình", parent=cast.province, by=cast.staff_user
        )
        unit_services.unit_create(
            kind=PartyUnit.Kind.CELL,
            name="Chi bộ thôn Sơn Đình",
            parent=ward,
            founded_on=datetime.date(2025, 1, 1),
            by=cast.staff_user,
        )
    elif write == "renamed":
        unit_services.unit_update(unit=other, name="Đảng bộ xã Hợp Châu mới", short_name="", by=cast.staff_user)
    elif write == "ancestor renamed":  # the breadcrumb of every page below
        unit_services.unit_update(unit=cast.province, short_name="Tỉnh ủy mới", by=cast.staff_user)
    elif write == "retyped":
        unit_services.unit_update(unit=cells[1], unit_type=PartyUnit.UnitType.STATE_AGENCY, by=cast.staff_user)
    elif write == "dissolved":
        unit_services.unit_update(unit=cells[2], dissolved_on=datetime.date(2026, 2, 10), by=cast.staff_user)
    else:  # a write that bypassed the services, then the rebuild
        Attendance.objects.filter(meeting=meeting).update(status=Attendance.Status.ABSENT_UNEXCUSED)
        summaries.rebuild()
    views = [(unit, params) for unit in (cast.province, other) for params in (YEAR, MARCH)]
    kept = [shown(client, unit, params) for unit, params in views]
    cache.clear()
    assert kept == [shown(client, unit, params) for unit, params in views]


def test_children_s_lists_lost_from_the_cache_are_read_again(client_for, cast, tree):
    _other, cells = tree
    client = client_for(province_staff(cast))
    before = shown(client, cast.province, YEAR)
    cache.delete_many([k for k in _cache_keys() if k.startswith(("dash:cmissed:", "dash:missedpage:"))])
    hold(cast.cell_a, at(2026, 3, 12), cast.secretary_user)
    after = shown(client, cast.province, YEAR)
    assert before != after
    assert after == same_as_built_from_nothing(client, cast.province, YEAR)


def _cache_keys() -> list[str]:
    backend = cache._cache if hasattr(cache, "_cache") else None
    if isinstance(backend, dict):  # local memory: keys are stored made
        return [key.split(":", 2)[2] for key in backend]
    client = cache._cache.get_client()
    return [key.decode().split(":", 2)[2] for key in client.keys("*")]


# --- Members at risk: the same history, the same answers ------------------------------------------


def at_risk_shown(client, unit) -> list[tuple]:
    response = client.get(reverse("dashboard:at_risk", kwargs={"uid": unit.uid}), {"year": 2026})
    assert response.status_code == 200
    return [(r.member.full_name, r.absence_months, r.unpaid_months, r.level) for r in response.context["page"]]


def at_risk_live(unit, today) -> list[tuple]:
    from cells import stats

    return [
        (r.member.full_name, r.absence_months, r.unpaid_months, r.level)
        for r in stats.live_members_at_risk(unit, 2026, today)
    ]


@pytest.mark.parametrize("keep", [5000, 1])
def test_members_at_risk_after_a_write_read_only_the_changed_children(client_for, cast, tree, monkeypatch, keep):
    """After an absence in one cell the province's list is put together from its children's kept
    lists, the children named by its history: no query reads every child of the province. With
    keep=1 the province's list is too long to keep whole: its pages are merged as they are read."""
    import time_machine

    from cells import stats

    monkeypatch.setattr(stats, "_RISK_KEEP", keep)
    _other, cells = tree
    client = client_for(province_staff(cast))
    with time_machine.travel(datetime.datetime(2026, 4, 15, 9, 0), tick=False):
        today = datetime.date(2026, 4, 15)
        # Nothing paid by anyone: every member has three months unpaid, all on the lists.
        assert at_risk_shown(client, cast.province) == at_risk_live(cast.province, today)
        absent = {cast.member: Attendance.Status.ABSENT_UNEXCUSED}
        hold(cast.cell_a, at(2026, 2, 12), cast.secretary_user, statuses=absent)
        # The first write below the ward: the province reads it again, and the ward's children
        # whole (kept from now on with the ward's stamp).
        assert at_risk_shown(client, cast.province) == at_risk_live(cast.province, today)
        hold(cast.cell_a, at(2026, 3, 12), cast.secretary_user, statuses=absent)
        with CaptureQueriesContext(connection) as ctx:
            shown_now = at_risk_shown(client, cast.province)
        assert shown_now == at_risk_live(cast.province, today)
        assert ("Lê Văn Đức", 2, 3, "alert") in shown_now
        sqls = [q["sql"] or "" for q in ctx.captured_queries]
        assert not [sql for sql in sqls if "u.parent_id =" in sql]  # no level read whole
        assert len([sql for sql in sqls if "s.recent FROM" in sql]) == 2  # the ward, then cell A
        # The PDF's list (members_at_risk) and a second page agree too.
        assert [(r.member.full_name, r.level) for r in stats.members_at_risk(cast.province, 2026, today)] == [
            (name, level) for name, _a, _u, level in at_risk_live(cast.province, today)
        ]
        for unit in (cast.ward, cells[0], _other):
            assert at_risk_shown(client, unit) == at_risk_live(unit, today)
