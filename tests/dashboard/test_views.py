"""Dashboard pages: scope (exactly the user's subtree), drill-down, exports, constant query counts."""

import datetime
import io
import shutil
import subprocess

import pytest
from django.urls import reverse

from cells.models import PartyUnit
from meetings import summaries
from meetings.models import Attendance
from members.models import MemberReadLog
from tests.dashboard.conftest import at, hold
from tests.factories import MemberFactory, UnitFactory

pytestmark = pytest.mark.django_db
YEAR = {"period": "year", "year": "2026"}


@pytest.fixture
def with_meetings(cast):
    hold(cast.cell_a, at(2026, 3, 12), cast.secretary_user, statuses={cast.member: Attendance.Status.ABSENT_UNEXCUSED})
    hold(cast.cell_b, at(2026, 3, 14), cast.secretary_user)
    return cast


def url(name, obj, **kwargs):
    return reverse(f"dashboard:{name}", kwargs={"uid": obj.uid, **kwargs})


def test_ward_committee_member_sees_the_ward_and_drills_down(client_for, with_meetings):
    cast = with_meetings
    client = client_for(cast.ward_user)
    page = client.get(url("unit", cast.ward), YEAR)
    assert page.status_code == 200
    html = page.content.decode()
    assert cast.cell_a.display_name in html and cast.cell_b.display_name in html
    assert 'data-testid="metric-attendance"' in html
    cell = client.get(url("unit", cast.cell_a), YEAR)
    assert cell.status_code == 200 and cast.member.full_name in cell.content.decode()
    member = client.get(url("member", cast.member), {"year": 2026})
    assert member.status_code == 200
    assert MemberReadLog.objects.filter(user=cast.ward_user, member=cast.member).exists()
    assert client.get(reverse("dashboard:home")).url == url("unit", cast.ward)


def test_secretary_sees_her_cell_only(client_for, cast):
    client = client_for(cast.secretary_user)
    assert client.get(url("unit", cast.cell_a)).status_code == 200
    assert client.get(url("unit", cast.ward)).status_code == 404
    assert client.get(url("unit", cast.cell_b)).status_code == 404
    assert client.get(url("member", cast.outsider)).status_code == 404
    assert client.get(reverse("dashboard:home")).url == url("unit", cast.cell_a)


def test_a_plain_member_has_no_dashboard(client_for, cast):
    client = client_for(cast.member_user)
    assert client.get(url("unit", cast.cell_a)).status_code == 404
    assert client.get(reverse("dashboard:home")).status_code == 404


def test_period_type_group_and_sort_parameters(client_for, with_meetings):
    client = client_for(with_meetings.ward_user)
    for params in (
        {"period": "month", "year": "2026", "month": "3"},
        {"period": "quarter", "year": "2026", "quarter": "1", "type": "residential"},
        {"period": "range", "start": "2025-11", "end": "2026-04", "group": "type"},
        {"period": "year", "year": "2026", "sort": "attendance", "dir": "desc"},
    ):
        assert client.get(url("unit", with_meetings.ward), params).status_code == 200
    bad = client.get(url("unit", with_meetings.ward), {"period": "range", "start": "2026-05", "end": "2026-01"})
    assert bad.status_code == 200 and bad.context["form"].errors


def test_empty_states(client_for, cast):
    page = client_for(cast.ward_user).get(url("unit", cast.ward), {"period": "month", "year": "2025", "month": "1"})
    html = page.content.decode()
    assert 'data-testid="trend-empty"' in html


def _tree(parent, cells: int):
    for i in range(cells):
        cell = UnitFactory(kind=PartyUnit.Kind.CELL, name=f"Chi bộ thôn {i}", parent=parent)
        MemberFactory(cell=cell)


def test_query_count_is_the_same_for_5_and_60_cells(client_for, cast, django_assert_num_queries):
    small = UnitFactory(kind=PartyUnit.Kind.COMMITTEE, name="Đảng bộ xã Nhỏ", parent=cast.province)
    large = UnitFactory(kind=PartyUnit.Kind.COMMITTEE, name="Đảng bộ xã Lớn", parent=cast.province)
    _tree(small, 5)
    _tree(large, 60)
    summaries.rebuild()
    client = client_for(cast.ward_user)
    from members.models import Position
    from tests.factories import PositionFactory

    PositionFactory(unit=cast.province, role=Position.Role.STAFF, user=cast.ward_user, start=datetime.date(2020, 1, 1))
    counts = []
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for unit in (small, large):
        client.get(url("unit", unit), YEAR)  # warm the session
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url("unit", unit), YEAR).status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]
    assert counts[0] <= 20


def test_xlsx_csv_and_pdf_exports(client_for, with_meetings):
    from openpyxl import load_workbook

    cast = with_meetings
    client = client_for(cast.ward_user)
    response = client.get(url("export", cast.ward, fmt="xlsx"), YEAR)
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet["A1"].font.bold and sheet.freeze_panes == "B2"
    names = [row[0].value for row in sheet.iter_rows(min_row=2)]
    assert cast.cell_a.name in names and cast.cell_b.name in names
    attendance = sheet.cell(row=names.index(cast.cell_a.name) + 2, column=8)  # present / expected
    assert attendance.value == pytest.approx(0.5) and attendance.number_format == "0.0%"
    csv = client.get(url("export", cast.ward, fmt="csv"), YEAR)
    assert csv.content.startswith("\ufeff".encode()) and cast.cell_b.name in csv.content.decode("utf-8-sig")
    assert client.get(url("export", cast.ward, fmt="exe")).status_code == 404
    pdf = client.get(url("report", cast.ward), YEAR)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-", "-"], input=pdf.content, capture_output=True, check=True).stdout
        text = text.decode()
        assert "ĐẢNG CỘNG SẢN VIỆT NAM" in text and "BÁO CÁO" in text and cast.cell_a.name in text
    # The secretary's export holds her cell only.
    mine = client_for(cast.secretary_user).get(url("export", cast.cell_a, fmt="csv"), YEAR).content.decode("utf-8-sig")
    assert cast.cell_b.name not in mine


def test_members_at_risk_page_is_paginated_and_scoped(client_for, with_meetings):
    page = client_for(with_meetings.ward_user).get(url("at_risk", with_meetings.ward), {"year": 2026})
    assert page.status_code == 200
    assert client_for(with_meetings.secretary_user).get(url("at_risk", with_meetings.ward)).status_code == 404


def test_cell_and_member_pages_keep_their_query_count_as_the_cell_grows(client_for, cast):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(cast.ward_user)

    def queries(path, params):
        client.get(path, params)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(path, params).status_code == 200
        return len(ctx.captured_queries)

    hold(cast.cell_a, at(2026, 1, 8), cast.secretary_user)
    small = (queries(url("unit", cast.cell_a), YEAR), queries(url("member", cast.member), {"year": 2026}))
    for i in range(10):
        MemberFactory(full_name=f"Đảng viên {i}", cell=cast.cell_a)
    for month in (2, 3, 4):
        hold(cast.cell_a, at(2026, month, 8), cast.secretary_user)
    large = (queries(url("unit", cast.cell_a), YEAR), queries(url("member", cast.member), {"year": 2026}))
    assert small == large


def test_members_at_risk_come_from_the_member_year_summary_50_a_page(client_for, cast):
    import time_machine

    # 60 members who never paid dues: each has the year's ended months unpaid (factories bypass the
    # services, so their member years are built the way a bulk import would: a refresh).
    people = [MemberFactory(full_name=f"Đảng viên {i:02d}", cell=cast.cell_b) for i in range(60)]
    summaries.member_years_refresh([m.pk for m in people])
    client = client_for(cast.ward_user)
    at_risk = url("at_risk", cast.ward)
    with time_machine.travel(datetime.datetime(2026, 6, 15, 9, 0), tick=False):
        first = client.get(at_risk, {"year": 2026})
        second = client.get(at_risk, {"year": 2026, "page": 2})
    assert first.context["page"].paginator.count >= 60
    assert len(first.context["page"].object_list) == 50
    assert all(r.unpaid_months == 5 and r.level == "alert" for r in first.context["page"].object_list)
    names = {r.member.full_name for r in first.context["page"]} | {r.member.full_name for r in second.context["page"]}
    assert {m.full_name for m in people} <= names
