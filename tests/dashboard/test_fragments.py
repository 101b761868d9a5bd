"""The dashboard's cached fragments (headline, trend, child table, missed months) never outlive a
write: every summary writer gives the units it touches a new stamp in the same transaction."""

import datetime
import re

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from cells import services as unit_services
from cells import stats
from cells.models import PartyUnit
from meetings import services, summaries
from meetings.models import Attendance
from members.models import Position
from tests.dashboard.conftest import TZ, at, hold
from tests.factories import PositionFactory, UnitFactory
from tests.resolutions.conftest import _media, issue, make_draft, passed_draft, term, written  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db
YEAR = {"period": "year", "year": "2026"}


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def province_staff(cast):
    PositionFactory(unit=cast.province, role=Position.Role.STAFF, user=cast.ward_user, start=datetime.date(2020, 1, 1))
    return cast.ward_user


def page(client, unit, params=YEAR) -> str:
    response = client.get(reverse("dashboard:unit", kwargs={"uid": unit.uid}), params)
    assert response.status_code == 200
    return response.content.decode()


def metric(html: str, key: str) -> str:
    return re.search(rf'data-testid="metric-{key}">([^<]*)<', html).group(1)


def row_cells(html: str, name: str) -> list[str]:
    """The figures of the child table's row for a unit: on schedule, attendance, ..."""
    row = re.search(rf">{re.escape(name)}</a>.*?</tr>", html, re.S).group(0)
    return re.findall(r'<td class="text-end[^"]*">(?:<span[^>]*>)?([^<]*)', row)


def queries(client, unit, params=YEAR) -> int:
    with CaptureQueriesContext(connection) as ctx:
        page(client, unit, params)
    return len(ctx.captured_queries)


def test_a_second_view_is_served_from_the_cache(client_for, cast):
    hold(cast.cell_a, at(2026, 3, 12), cast.secretary_user)
    client = client_for(cast.ward_user)
    first = queries(client, cast.ward)
    second = queries(client, cast.ward)
    assert second < first
    # A new sort builds only the table, from the children's values kept with the ward's stamp:
    # no query reads the children again.
    assert queries(client, cast.ward, {**YEAR, "sort": "attendance"}) <= second


def test_an_attendance_change_shows_at_once_on_every_ancestor(client_for, cast):
    meeting = hold(cast.cell_a, at(2026, 3, 12), cast.secretary_user)
    client = client_for(province_staff(cast))
    assert metric(page(client, cast.ward), "attendance") == "100,0%"
    assert metric(page(client, cast.province), "attendance") == "100,0%"
    assert metric(page(client, cast.cell_a), "attendance") == "100,0%"
    services.attendance_record(
        meeting=meeting, member=cast.member, status=Attendance.Status.ABSENT_UNEXCUSED, by=cast.secretary_user
    )
    for unit in (cast.ward, cast.province, cast.cell_a):
        assert metric(page(client, unit), "attendance") == "50,0%"
    # The province's table row of the ward (its figures cached under the ward's own stamp) too.
    assert row_cells(page(client, cast.province), cast.ward.display_name)[1] == "50,0%"


def test_a_unit_renamed_moved_or_retyped_shows_on_its_ancestors_pages(client_for, cast):
    hold(cast.cell_a, at(2026, 3, 12), cast.secretary_user)
    other = UnitFactory(kind=PartyUnit.Kind.COMMITTEE, name="Đảng bộ xã Hợp Châu", parent=cast.province)
    summaries.rebuild()
    client = client_for(province_staff(cast))
    assert f">{cast.cell_a.display_name}</a>" in page(client, cast.ward)  # a link, not escaped text
    unit_services.unit_update(unit=cast.cell_a, name="Chi bộ Khu phố Một", by=cast.staff_user)
    assert "Chi bộ Khu phố Một" in page(client, cast.ward)
    unit_services.unit_update(unit=cast.cell_a, unit_type=PartyUnit.UnitType.STATE_AGENCY, by=cast.staff_user)
    with translation.override("vi"):
        assert str(PartyUnit.UnitType.STATE_AGENCY.label) in page(client, cast.ward)
    # The ward renamed: its cells' pages show the new name in their breadcrumb.
    page(client, cast.cell_a)
    unit_services.unit_update(unit=cast.ward, short_name="Phường Tam Đảo mới", by=cast.staff_user)
    assert "Phường Tam Đảo mới" in page(client, cast.cell_a)
    page(client, other)
    unit_services.unit_update(unit=cast.cell_a, parent=other, by=cast.staff_user)
    assert "Chi bộ Khu phố Một" not in page(client, cast.ward)
    assert "Chi bộ Khu phố Một" in page(client, other)


def test_a_rebuild_retires_every_fragment(client_for, cast):
    meeting = hold(cast.cell_a, at(2026, 3, 12), cast.secretary_user)
    client = client_for(cast.ward_user)
    assert metric(page(client, cast.ward), "attendance") == "100,0%"
    # A write that bypassed the services (a restore, a hand edit): the summaries and the page lag...
    Attendance.objects.filter(meeting=meeting, member=cast.member).update(status=Attendance.Status.ABSENT_UNEXCUSED)
    assert metric(page(client, cast.ward), "attendance") == "100,0%"
    # ... until the rebuild recomputes the rows and gives every unit a new stamp.
    call_command("rebuild_summaries", verbosity=0)
    assert metric(page(client, cast.ward), "attendance") == "50,0%"


def test_each_language_has_its_own_fragments(client_for, cast):
    hold(cast.cell_a, at(2026, 3, 12), cast.secretary_user)
    client = client_for(cast.ward_user)
    vietnamese = page(client, cast.ward)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = page(client, cast.ward)
    assert "100,0%" in vietnamese and "100.0%" in english


def test_missing_fragments_cost_the_same_queries_for_5_and_60_cells(client_for, cast):
    small = UnitFactory(kind=PartyUnit.Kind.COMMITTEE, name="Đảng bộ xã Nhỏ", parent=cast.province)
    large = UnitFactory(kind=PartyUnit.Kind.COMMITTEE, name="Đảng bộ xã Lớn", parent=cast.province)
    for parent, n in ((small, 5), (large, 60)):
        for i in range(n):
            UnitFactory(kind=PartyUnit.Kind.CELL, name=f"Chi bộ thôn {i}", parent=parent)
    summaries.rebuild()
    client = client_for(province_staff(cast))
    page(client, cast.province)  # warm the session
    counts = []
    for unit in (small, large):
        cache.clear()
        counts.append(queries(client, unit))
    assert counts[0] == counts[1]


def missed_list(html: str) -> list[str]:
    block = re.search(r'data-testid="missed">(.*?)</ul>', html, re.S)
    return re.findall(r'<a href="[^"]*">([^<]*)</a><span class="text-danger">([^<]*)<', block.group(1)) if block else []


def test_the_missed_months_list_follows_a_write_in_one_child_and_keeps_the_others(client_for, cast):
    """The province's missed list merges its children's lists, each cached under the child's stamp:
    a meeting held in a ward's cell leaves the list at once; another ward's cell stays listed."""
    other = UnitFactory(kind=PartyUnit.Kind.COMMITTEE, name="Đảng bộ xã Hợp Châu", parent=cast.province)
    far = UnitFactory(kind=PartyUnit.Kind.CELL, name="Chi bộ thôn Đồng Bùa", parent=other)
    summaries.rebuild()
    client = client_for(province_staff(cast))
    march = {"period": "month", "year": "2026", "month": "3"}
    listed = missed_list(page(client, cast.province, march))
    names = {name for name, _month in listed}
    assert {cast.cell_a.display_name, cast.cell_b.display_name, far.display_name} <= names
    hold(cast.cell_a, at(2026, 3, 12), cast.secretary_user)
    with CaptureQueriesContext(connection) as ctx:
        html = page(client, cast.province, march)
    names = {name for name, _month in missed_list(html)}
    assert cast.cell_a.display_name not in names
    assert {cast.cell_b.display_name, far.display_name} <= names
    # The other ward's list came from the cache: the missed-months query read the ward alone.
    missed_sql = [q["sql"] for q in ctx.captured_queries if "held_months = 0" in (q["sql"] or "")]
    assert len(missed_sql) == 1 and missed_sql[0].count("c.path LIKE") == 1
    # Its row in the province's table moved too, the other ward's did not.
    assert row_cells(html, cast.ward.display_name)[0] == "50,0%"
    assert row_cells(html, other.display_name)[0] == "0,0%"
    # A rename of the far cell shows in the province's list (the name rides in the cached list).
    unit_services.unit_update(unit=far, name="Chi bộ thôn Đồng Bùa mới", short_name="", by=cast.staff_user)
    assert "Chi bộ thôn Đồng Bùa mới" in {name for name, _m in missed_list(page(client, cast.province, march))}


def test_the_missed_months_list_pages_in_order(client_for, cast):
    ward2 = UnitFactory(kind=PartyUnit.Kind.COMMITTEE, name="Đảng bộ xã Kim Long", parent=cast.province)
    for i in range(12):
        UnitFactory(kind=PartyUnit.Kind.CELL, name=f"Chi bộ thôn {i:02d}", parent=ward2 if i % 2 else cast.ward)
    summaries.rebuild()
    client = client_for(province_staff(cast))
    quarter = {"period": "quarter", "year": "2026", "quarter": "1"}
    pages = [missed_list(page(client, cast.province, {**quarter, "missed_page": str(n)})) for n in (1, 2, 3)]
    assert [len(p) for p in pages] == [20, 20, 2]  # 14 cells, three months each
    expected = sorted(
        (u.search_name, u.pk, month)
        for u in PartyUnit.objects.filter(kind=PartyUnit.Kind.CELL)
        for month in ("01/2026", "02/2026", "03/2026")
    )
    names = {u.pk: u.display_name for u in PartyUnit.objects.filter(kind=PartyUnit.Kind.CELL)}
    assert pages[0] + pages[1] + pages[2] == [(names[pk], month) for _s, pk, month in expected]


def test_a_committee_page_s_breadcrumb_follows_a_renamed_ancestor(client_for, cast):
    """A committee's breadcrumb is read with its children and cached under its stamp."""
    client = client_for(province_staff(cast))
    assert f">{cast.province.display_name}</a></li>" in page(client, cast.ward)
    unit_services.unit_update(unit=cast.province, short_name="Tỉnh ủy mới", by=cast.staff_user)
    html = page(client, cast.ward)
    assert ">Tỉnh ủy mới</a></li>" in html and row_cells(html, cast.cell_a.display_name) is not None


def test_a_miss_sends_the_resolution_counts_with_the_figures(client_for, cast, issue, passed_draft):  # noqa: F811
    """When fragments are built, the resolutions and tasks are read in the same statement as the
    figures; a repeat view reads them on their own. Both show a resolution issued at once (issuing
    writes its month rows, resolutions/counts.py, but moves no stamp: the counts are read each view)."""
    hold(cast.cell_a, at(2026, 3, 12), cast.secretary_user)
    client = client_for(province_staff(cast))
    year = {"period": "year", "year": str(timezone.localdate().year)}
    assert resolutions_shown(page(client, cast.ward, year)) == "0"
    issue(passed_draft)
    assert resolutions_shown(page(client, cast.ward, year)) == "1"  # a repeat view
    summaries.bump_stamps(paths=[cast.ward.path])
    with CaptureQueriesContext(connection) as ctx:
        assert resolutions_shown(page(client, cast.ward, year)) == "1"  # a miss
    sqls = [q["sql"] or "" for q in ctx.captured_queries]
    assert [sql for sql in sqls if "resolutions_resolution" in sql] == [sql for sql in sqls if "CAST(NULL" in sql]
    period = stats.Period.year(timezone.localdate().year)
    counts = stats.read_parts([stats.resolution_counts_part(cast.ward, period)]).resolution_counts
    assert counts == stats.resolution_counts(cast.ward, period) == stats.live_resolution_counts(cast.ward, period)
    assert counts[0] == 1


def resolutions_shown(html: str) -> str:
    return re.search(r'data-testid="resolutions">([^<]*)<', html).group(1)


def test_the_merged_missed_lists_page_as_the_sorted_whole():
    """A province's missed list is its children's lists merged a page at a time (no sort of every row)."""
    from django.core.paginator import Paginator

    from cells.stats import MergedLists

    lists = [
        [("An Hòa", 7, m) for m in (3, 5)],
        [],
        [("Bình Minh", 2, m) for m in range(1, 13)],
        [("An Hòa", 4, 1), ("Cầu Gỗ", 9, 2)],
    ]
    whole = sorted(row for rows in lists for row in rows)
    merged = MergedLists(lists)
    assert len(merged) == len(whole) == 16
    assert merged[0:16] == whole and merged[5:9] == whole[5:9]
    pages = Paginator(merged, 5)
    assert [list(pages.page(n).object_list) for n in pages.page_range] == [whole[i : i + 5] for i in range(0, 16, 5)]


def test_a_month_in_progress_is_not_missed_until_it_ends(client_for, cast):
    """The page kept during March is not served once March has ended: its keys say whether the
    period's last month was in progress."""
    import time_machine

    hold(cast.cell_a, at(2026, 3, 12), cast.secretary_user)
    march = {"period": "month", "year": "2026", "month": "3"}
    with time_machine.travel(datetime.datetime(2026, 3, 31, 23, 0, tzinfo=TZ), tick=False):
        client = client_for(cast.ward_user)
        html = page(client, cast.ward, march)
        assert metric(html, "on_schedule") == "100,0%"
        assert missed_list(html) == []
        assert 'data-testid="in-progress"' in html  # the page says why
    with time_machine.travel(datetime.datetime(2026, 4, 1, 0, 30, tzinfo=TZ), tick=False):  # kept fragments live on
        html = page(client, cast.ward, march)
        assert metric(html, "on_schedule") == "50,0%"
        assert missed_list(html) == [(cast.cell_b.display_name, "03/2026")]
        assert 'data-testid="in-progress"' not in html


def test_beat_builds_each_committee_s_default_view_ahead(client_for, cast):
    """cells.dashboard_tasks.warm_dashboards: after a month's end (new keys) or an emptied cache, the
    first visitor of a committee's default view (this year) reads it kept, as a repeat view does."""
    from cells.dashboard_tasks import warm_dashboards

    hold(cast.cell_a, at(2026, 3, 12), cast.secretary_user)
    client = client_for(province_staff(cast))
    this_year = {}  # the default view: no query string
    repeat = [queries(client, unit, this_year) for unit in (cast.province, cast.ward)]
    repeat = [queries(client, unit, this_year) for unit in (cast.province, cast.ward)]
    kept = {unit: page(client, unit, this_year) for unit in (cast.province, cast.ward)}
    cache.clear()
    cold = queries(client, cast.province, this_year)
    cache.clear()
    warm_dashboards()
    client.get(reverse("dashboard:at_risk", kwargs={"uid": cast.province.uid}))  # the session kept again
    assert [queries(client, unit, this_year) for unit in (cast.province, cast.ward)] == repeat
    assert cold > repeat[0]
    for unit, html in kept.items():  # the same page, in Vietnamese
        assert re.sub(r"\b[A-Za-z0-9]{64}\b", "", page(client, unit, this_year)) == re.sub(
            r"\b[A-Za-z0-9]{64}\b", "", html
        )
