"""Members at risk (cells.stats.at_risk_list): the list is kept in the cache under the units' summary
stamps, so every write that changes it must give those units new stamps. Each test views the pages
first (the lists are then cached), writes through the services, and views them again."""

import datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cells import stats
from cells.models import PartyUnit
from meetings import summaries
from meetings.models import Attendance
from members import services as member_services
from members.models import Member, Position
from tests.dashboard.conftest import at, hold
from tests.factories import MemberFactory, PositionFactory, UnitFactory, UserFactory

pytestmark = pytest.mark.django_db
APRIL = datetime.datetime(2026, 4, 15, 9, 0)  # January to March have ended


@pytest.fixture(autouse=True)
def _in_april():
    with time_machine.travel(APRIL, tick=False):
        yield


@pytest.fixture
def paid(cast):
    """Every member paid January to March: nobody is at risk yet. A second ward with one cell, and
    a staff login on the province."""
    cast.ward2 = UnitFactory(kind=PartyUnit.Kind.COMMITTEE, name="Đảng bộ phường Hợp Châu", parent=cast.province)
    cast.cell_c = UnitFactory(kind=PartyUnit.Kind.CELL, name="Chi bộ Khu phố 3", parent=cast.ward2)
    cast.province_user = UserFactory(username="province-staff")
    PositionFactory(unit=cast.province, role=Position.Role.STAFF, user=cast.province_user, start="2020-01-01")
    for member in Member.objects.all():
        for month in (1, 2, 3):
            pay(cast, member, month)
    return cast


def pay(cast, member, month):
    member_services.dues_record(
        member=member, year=2026, month=month, amount=20000, paid_on=datetime.date(2026, month, 10), by=cast.staff_user
    )


def listed(client, unit, **params) -> dict[str, tuple]:
    """full name -> (absence months, unpaid months, level, cell) on the unit's at-risk page."""
    response = client.get(reverse("dashboard:at_risk", kwargs={"uid": unit.uid}), {"year": 2026, **params})
    assert response.status_code == 200
    return {
        r.member.full_name: (r.absence_months, r.unpaid_months, r.level, r.member.cell)
        for r in response.context["page"].object_list
    }


def reads_member_years(client, unit) -> bool:
    """Whether a view of the unit's page reads the member-year summary (else it came from the cache)."""
    with CaptureQueriesContext(connection) as ctx:
        client.get(reverse("dashboard:at_risk", kwargs={"uid": unit.uid}), {"year": 2026})
    return any("memberyear" in q["sql"] for q in ctx.captured_queries)


def test_a_repeat_view_comes_from_the_cache(client_for, paid):
    client = client_for(paid.province_user)
    member_services.dues_remove(member=paid.member, year=2026, month=2, by=paid.staff_user)
    member_services.dues_remove(member=paid.member, year=2026, month=3, by=paid.staff_user)
    assert listed(client, paid.province) == {paid.member.full_name: (0, 2, "warning", paid.cell_a.display_name)}
    assert not reads_member_years(client, paid.province)
    # A write elsewhere in the province retires the province's list but not the ward's.
    pay(paid, paid.outsider, 4)
    assert listed(client, paid.ward) == {paid.member.full_name: (0, 2, "warning", paid.cell_a.display_name)}
    assert not reads_member_years(client, paid.ward)


def test_the_cached_list_follows_an_absence_recorded(client_for, paid):
    client = client_for(paid.province_user)
    units = (paid.province, paid.ward, paid.cell_a)
    hold(paid.cell_a, at(2026, 1, 10), paid.secretary_user, statuses={paid.member: Attendance.Status.ABSENT_UNEXCUSED})
    assert all(listed(client, unit) == {} for unit in units)
    meeting = hold(paid.cell_a, at(2026, 2, 12), paid.secretary_user)
    assert all(listed(client, unit) == {} for unit in units)
    # The February minutes corrected: the member was absent without reason after all.
    from meetings import services

    services.attendance_record(
        meeting=meeting, member=paid.member, status=Attendance.Status.ABSENT_UNEXCUSED, by=paid.secretary_user
    )
    expected = {paid.member.full_name: (2, 0, "warning", paid.cell_a.display_name)}
    assert all(listed(client, unit) == expected for unit in units)
    assert listed(client, paid.cell_b) == {} and listed(client, paid.ward2) == {}
    hold(paid.cell_a, at(2026, 3, 12), paid.secretary_user, statuses={paid.member: Attendance.Status.ABSENT_UNEXCUSED})
    assert listed(client, paid.province)[paid.member.full_name][:3] == (3, 0, "alert")


def test_the_cached_list_follows_a_dues_payment(client_for, paid):
    client = client_for(paid.province_user)
    for month in (1, 2, 3):
        member_services.dues_remove(member=paid.secretary, year=2026, month=month, by=paid.staff_user)
    units = (paid.province, paid.ward, paid.cell_a)
    assert all(
        listed(client, unit) == {paid.secretary.full_name: (0, 3, "alert", paid.cell_a.display_name)} for unit in units
    )
    pay(paid, paid.secretary, 1)
    assert all(
        listed(client, unit) == {paid.secretary.full_name: (0, 2, "warning", paid.cell_a.display_name)}
        for unit in units
    )
    pay(paid, paid.secretary, 3)
    assert all(listed(client, unit) == {} for unit in units)
    # February still unpaid, and April unpaid counts once it has ended, with no write in between: the
    # key holds the number of months ended.
    with time_machine.travel(datetime.datetime(2026, 5, 2, 9, 0), tick=False):
        client.force_login(paid.province_user)  # the April session has expired
        assert listed(client, paid.ward) == {paid.secretary.full_name: (0, 2, "warning", paid.cell_a.display_name)}


def test_the_cached_list_follows_a_member_transferred_and_renamed(client_for, paid):
    client = client_for(paid.province_user)
    for month in (2, 3):
        member_services.dues_remove(member=paid.member, year=2026, month=month, by=paid.staff_user)
    february = hold(paid.cell_a, at(2026, 2, 12), paid.secretary_user)
    name = paid.member.full_name
    assert name in listed(client, paid.ward) and name in listed(client, paid.cell_a)
    assert listed(client, paid.ward2) == {} and listed(client, paid.cell_c) == {}
    assert listed(client, paid.province)[name][3] == paid.cell_a.display_name
    member_services.member_move(
        member=paid.member, to_cell=paid.cell_c, date=datetime.date(2026, 4, 10), by=paid.staff_user
    )
    assert listed(client, paid.ward) == {} and listed(client, paid.cell_a) == {}
    assert listed(client, paid.ward2)[name] == (0, 2, "warning", paid.cell_c.display_name)
    assert listed(client, paid.cell_c)[name] == (0, 2, "warning", paid.cell_c.display_name)
    assert listed(client, paid.province)[name] == (0, 2, "warning", paid.cell_c.display_name)
    # The old cell's February minutes corrected: the absence reaches the member's new units.
    from meetings import services

    services.attendance_record(
        meeting=february, member=paid.member, status=Attendance.Status.ABSENT_UNEXCUSED, by=paid.secretary_user
    )
    for unit in (paid.ward2, paid.cell_c, paid.province):
        assert listed(client, unit)[name] == (1, 2, "warning", paid.cell_c.display_name)
    # Renamed: the name shows (and the list is ordered by it) at once.
    member_services.member_update(
        member=Member.objects.get(pk=paid.member.pk), full_name="Lê Văn Đạt", by=paid.staff_user
    )
    assert set(listed(client, paid.province)) == {"Lê Văn Đạt"}
    # The cell renamed (a unit's write gives its ancestors and subtree new stamps).
    from cells import services as unit_services

    unit_services.unit_update(
        unit=PartyUnit.objects.get(pk=paid.cell_c.pk), name="Chi bộ Khu phố 3 mới", short_name="", by=paid.staff_user
    )
    assert listed(client, paid.province)["Lê Văn Đạt"][3] == "Chi bộ Khu phố 3 mới"


def test_pages_of_50_in_order_from_the_cache(client_for, paid):
    people = [MemberFactory(full_name=f"Đảng viên {i:02d}", cell=paid.cell_b) for i in range(60)]
    summaries.member_years_refresh([m.pk for m in people])  # nothing paid: January to March unpaid
    for m in people[:5]:
        pay(paid, m, 1)  # ... these five owe two months: a warning, after the 55 alerts
    client = client_for(paid.province_user)
    for _ in range(2):  # built, then from the cache
        first = client.get(reverse("dashboard:at_risk", kwargs={"uid": paid.province.uid}), {"year": 2026})
        second = client.get(reverse("dashboard:at_risk", kwargs={"uid": paid.province.uid}), {"year": 2026, "page": 2})
        beyond = client.get(reverse("dashboard:at_risk", kwargs={"uid": paid.province.uid}), {"year": 2026, "page": 9})
        rows = list(first.context["page"]) + list(second.context["page"])
        assert first.context["total"] == 60 and len(first.context["page"]) == 50
        assert [r.member.full_name for r in rows] == [f"Đảng viên {i:02d}" for i in [*range(5, 60), *range(5)]]
        assert [r.level for r in rows] == ["alert"] * 55 + ["warning"] * 5
        assert beyond.context["page"].number == 2 and len(beyond.context["page"]) == 10
        html = second.content.decode()
        assert reverse("dashboard:member", kwargs={"uid": people[0].uid}) + "?year=2026" in html
        assert "Page 2 of 2" in html or "Trang 2" in html
    # The same list as counted from the raw tables.
    today = APRIL.date()
    assert stats.members_at_risk(paid.province, 2026, today) == stats.live_members_at_risk(paid.province, 2026, today)


def test_scope_another_units_user_gets_404(client_for, paid):
    for user, unit in (
        (paid.secretary_user, paid.ward),
        (paid.secretary_user, paid.cell_b),
        (paid.ward_user, paid.province),
        (paid.ward_user, paid.ward2),
        (paid.ward_user, paid.cell_c),
        (paid.member_user, paid.cell_a),
    ):
        response = client_for(user).get(reverse("dashboard:at_risk", kwargs={"uid": unit.uid}), {"year": 2026})
        assert response.status_code == 404, (user, unit)
    assert (
        client_for(paid.ward_user).get(reverse("dashboard:at_risk", kwargs={"uid": paid.cell_b.uid})).status_code == 200
    )


def _grow(cast, wards: int, cells: int):
    """More wards and cells under the province, each with members at risk."""
    for w in range(wards):
        ward = UnitFactory(kind=PartyUnit.Kind.COMMITTEE, name=f"Đảng bộ xã {w}", parent=cast.province)
        for c in range(cells):
            cell = UnitFactory(kind=PartyUnit.Kind.CELL, name=f"Chi bộ thôn {w}-{c}", parent=ward)
            people = [MemberFactory(full_name=f"Đảng viên {w}-{c}-{i}", cell=cell) for i in range(3)]
            summaries.member_years_refresh([m.pk for m in people])


def test_query_count_is_the_same_for_a_bigger_tree(client_for, paid, django_assert_max_num_queries):
    client = client_for(paid.province_user)
    url = reverse("dashboard:at_risk", kwargs={"uid": paid.province.uid})

    def views():
        """Queries of a first view (every child's list read), of one after a write in one cell, and
        of a repeat."""
        from django.core.cache import cache

        cache.clear()
        counts = []
        for write in (None, lambda: pay(paid, paid.member, 4), None):
            if write:
                write()
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(url, {"year": 2026}).status_code == 200
            counts.append(len(ctx.captured_queries))
        member_services.dues_remove(member=paid.member, year=2026, month=4, by=paid.staff_user)
        return counts

    for month in (2, 3):  # one member at risk: the page's rows are read
        member_services.dues_remove(member=paid.secretary, year=2026, month=month, by=paid.staff_user)
    small = views()
    _grow(paid, wards=12, cells=3)  # more children than are read one by one after a write
    big = views()
    assert small == big
    with django_assert_max_num_queries(max(big)):
        client.get(url, {"year": 2026, "page": 2})
    assert len(stats.at_risk_list(paid.province, 2026, APRIL.date())[0]) == 12 * 3 * 3 + 1


def test_the_cached_list_follows_a_members_import(client_for, paid):
    from members import imports
    from tests.members.test_imports import csv_file, member_row

    client = client_for(paid.province_user)
    assert listed(client, paid.ward) == {}
    rows = [member_row(1), member_row(2)]
    imports.members_import(
        cell=paid.cell_b,
        sheet=(sheet := imports.load(csv_file(rows), "danh-sach.csv")),
        mapping=sheet.mapping,
        joined_on=datetime.date(2026, 1, 1),
        by=paid.staff_user,
    )
    # On the roll since January and nothing paid: three months ended unpaid.
    expected = (0, 3, "alert", paid.cell_b.display_name)
    assert listed(client, paid.ward) == {"Nguyễn Văn Nhập 1": expected, "Nguyễn Văn Nhập 2": expected}


def test_lists_put_together_from_the_cache_equal_the_live_list(client_for, paid):
    """A deeper tree (province, ward, grassroots committee, cells): after each write the pages,
    built from the cached lists of the units the write did not touch and the database for those it
    did, show the live list in its order."""
    grassroots = UnitFactory(kind=PartyUnit.Kind.GRASSROOTS_COMMITTEE, name="Đảng ủy Công ty May", parent=paid.ward)
    cells = [UnitFactory(kind=PartyUnit.Kind.CELL, name=f"Chi bộ Phân xưởng {i}", parent=grassroots) for i in range(3)]
    people = [MemberFactory(full_name=f"Công nhân {i}-{j}", cell=c) for i, c in enumerate(cells) for j in range(2)]
    summaries.member_years_refresh([m.pk for m in people])  # nothing paid: three months, an alert
    client = client_for(paid.province_user)
    units = (paid.province, paid.ward, grassroots, *cells, paid.cell_a, paid.ward2)

    def check():
        for unit in units:
            response = client.get(reverse("dashboard:at_risk", kwargs={"uid": unit.uid}), {"year": 2026})
            shown = [(r.member.full_name, r.absence_months, r.unpaid_months, r.level) for r in response.context["page"]]
            live = stats.live_members_at_risk(unit, 2026, APRIL.date())
            assert shown == [(r.member.full_name, r.absence_months, r.unpaid_months, r.level) for r in live], unit

    check()
    assert len(listed(client, paid.province)) == 6
    pay(paid, people[0], 1)  # a warning now: the province, the ward and the committee read one cell again
    check()
    for month in (1, 2, 3):
        pay(paid, people[3], month)
    member_services.dues_remove(member=paid.outsider, year=2026, month=1, by=paid.staff_user)
    member_services.dues_remove(member=paid.outsider, year=2026, month=2, by=paid.staff_user)
    check()
    assert len(listed(client, paid.province)) == 6


def test_a_regular_meeting_retyped_leaves_the_list(client_for, paid):
    from meetings import services

    client = client_for(paid.province_user)
    absent = {paid.member: Attendance.Status.ABSENT_UNEXCUSED}
    hold(paid.cell_a, at(2026, 1, 10), paid.secretary_user, statuses=absent)
    february = hold(paid.cell_a, at(2026, 2, 12), paid.secretary_user, statuses=absent)
    assert listed(client, paid.ward) == {paid.member.full_name: (2, 0, "warning", paid.cell_a.display_name)}
    # Recorded as the regular meeting by mistake: it was a thematic one, whose absences do not count.
    services.meeting_update(meeting=february, kind="thematic", topic="Nghị quyết Trung ương", by=paid.secretary_user)
    assert listed(client, paid.ward) == {}
    assert stats.live_members_at_risk(paid.ward, 2026, APRIL.date()) == []


def test_corrections_in_the_admin_show_on_the_list_at_once(client, client_for, paid):
    """The admin bypasses the services; its saves tell the summaries what the services would."""
    from members.models import Membership
    from tests.test_admin import _resubmit, _url

    viewer = client_for(paid.province_user)
    for month in (2, 3):
        member_services.dues_remove(member=paid.member, year=2026, month=month, by=paid.staff_user)
    assert listed(viewer, paid.province) == {paid.member.full_name: (0, 2, "warning", paid.cell_a.display_name)}
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    url = _url(Member, "change", paid.member.pk)
    response = client.post(url, _resubmit(client.get(url), full_name="Lê Văn Đức Anh"))
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert listed(viewer, paid.province) == {"Lê Văn Đức Anh": (0, 2, "warning", paid.cell_a.display_name)}
    # On the roll only from March (a date corrected): February was never due, one month is not a risk.
    membership = Membership.objects.get(member=paid.member)
    response = client.post(_url(Membership, "change", membership.pk), {"group": "", "start": "2026-03-01", "end": ""})
    assert response.status_code == 302
    assert listed(viewer, paid.province) == {}


def test_lists_built_ahead_serve_the_first_view_of_a_month(client_for, paid):
    """When a month ends every list's key changes; beat's warm_at_risk_lists builds them ahead, so
    the first view reads a kept list, not the member-year rows."""
    from cells.dashboard_tasks import warm_at_risk_lists

    for month in (2, 3):
        member_services.dues_remove(member=paid.member, year=2026, month=month, by=paid.staff_user)
    client = client_for(paid.province_user)
    assert listed(client, paid.province) == {paid.member.full_name: (0, 2, "warning", paid.cell_a.display_name)}
    with time_machine.travel(datetime.datetime(2026, 5, 2, 9, 0), tick=False):  # April has ended: unpaid
        warm_at_risk_lists()
        client = client_for(paid.province_user)  # signed in again: the session is two weeks old
        for unit in (paid.province, paid.ward, paid.ward2, paid.cell_a):
            assert not reads_member_years(client, unit), unit
        # February to April unpaid now: an alert; the others paid to March, one month is no risk.
        assert listed(client, paid.province) == {paid.member.full_name: (0, 3, "alert", paid.cell_a.display_name)}
