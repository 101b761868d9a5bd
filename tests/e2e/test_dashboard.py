"""A ward committee member reads the dashboard on a phone: period, type filter, drill-down to a
cell and a member, and downloads the .xlsx and the PDF report."""

import io
import shutil
import subprocess

import pytest
from playwright.sync_api import expect

from cells.models import PartyUnit
from meetings import summaries
from meetings.models import Attendance
from tests.dashboard.conftest import at, hold
from tests.e2e.conftest import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def data(e2e):
    summaries.rebuild()
    by = e2e.secretary_user
    hold(e2e.cell_a, at(2026, 3, 12), by, statuses={e2e.member: Attendance.Status.ABSENT_UNEXCUSED})
    hold(e2e.cell_b, at(2026, 3, 14), by)
    e2e.cell_b.unit_type = PartyUnit.UnitType.STATE_AGENCY
    e2e.cell_b.save()
    summaries.rebuild()
    return e2e


def test_committee_member_reads_filters_drills_down_and_downloads(data, page, tmp_path):
    sign_in(page, data.url, "ward")
    page.locator('[data-testid="dashboard-link"]').first.click()
    expect(page.locator('[data-testid="headline"]')).to_be_visible()
    # Period: March 2026.
    page.select_option("#id_period", "month")
    page.fill("#id_year", "2026")
    page.select_option("#id_month", "3")
    page.locator('[data-testid="period-form"] button[type=submit]').click()
    expect(page.locator('[data-testid="period-label"]')).to_contain_text("3/2026")
    expect(page.locator('[data-testid="metric-attendance"]')).to_contain_text("75")
    page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
    shutil.copy(tmp_path / "dashboard.png", "/tmp/dashboard-e2e.png")
    # Type filter: residential cells only (cell A); cell B is a state agency now.
    page.select_option("#id_type", PartyUnit.UnitType.RESIDENTIAL)
    page.locator('[data-testid="period-form"] button[type=submit]').click()
    table = page.locator('[data-testid="unit-table"]')
    expect(table).to_contain_text(data.cell_a.display_name)
    expect(table).not_to_contain_text(data.cell_b.display_name)
    expect(page.locator('[data-testid="metric-attendance"]')).to_contain_text("50")
    # The .xlsx of what is shown.
    with page.expect_download() as download:
        page.locator('[data-testid="export-xlsx"]').click()
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(open(download.value.path(), "rb").read())).active
    names = [row[0].value for row in sheet.iter_rows(min_row=2)]
    assert data.cell_a.name in names and data.cell_b.name not in names
    # The PDF report.
    response = page.request.get(data.url + page.locator('[data-testid="report-pdf"]').get_attribute("href"))
    assert response.ok and response.body().startswith(b"%PDF")
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-", "-"], input=response.body(), capture_output=True, check=True)
        assert "BÁO CÁO" in text.stdout.decode() and data.cell_a.name in text.stdout.decode()
    # Drill down to the cell, then to a member.
    table.get_by_role("link", name=data.cell_a.display_name).click()
    expect(page.locator('[data-testid="cell-meetings"]')).to_contain_text("12/03/2026")
    page.locator('[data-testid="cell-members"]').get_by_role("link", name=data.member.full_name).click()
    expect(page.locator('[data-testid="member-name"]')).to_have_text(data.member.full_name)
    expect(page.locator('[data-testid="member-months"]')).to_contain_text("03/2026")
    page.screenshot(path="/tmp/dashboard-member.png", full_page=True)
