"""A secretary imports the cell's hand-kept member list from a phone-sized Chromium."""

import datetime
import re

import openpyxl
import pytest
from playwright.sync_api import expect

from members.models import Member
from tests.e2e.conftest import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# As cells keep it: a merged title, a blank row, dates typed as text, one header nobody expects.
HEADER = [
    "STT",
    "Họ và tên",
    "Ngày sinh",
    "Giới tính",
    "Đứng vào hàng ngũ Đảng",
    "Ngày chính thức",
    "Số thẻ",
    "Chức vụ",
]


def hand_kept_list(path, rows):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["DANH SÁCH ĐẢNG VIÊN CHI BỘ KHU PHỐ 1"])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADER))
    ws.append([])
    ws.append(HEADER)
    for row in rows:
        ws.append(row)
    wb.save(path)
    return str(path)


def upload(page, e2e, path):
    page.goto(f"{e2e.url}/units/{e2e.cell_a.uid}/import/")
    page.set_input_files("input[name=file]", path)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/mapping/$"))


def test_secretary_imports_a_hand_kept_list_and_an_impossible_row_writes_nothing(e2e, browser, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    page = browser.new_context(viewport={"width": 360, "height": 780}).new_page()
    sign_in(page, e2e.url, "secretary")

    first = hand_kept_list(
        tmp_path / "danh-sach.xlsx",
        [
            [1, "  Vũ Thị Thu Trang ", "15/08/1992", "Nữ", "02/09/2016", "02/09/2017", "79555001", "Phó Bí thư"],
            [],
            [2, "NGÔ VĂN QUANG", "3/2/1970", "Nam", datetime.datetime(1995, 5, 19), "19/05/1996", "79555002", ""],
            [3, e2e.member.full_name, "01/05/1980", "Nam", "01/03/2010", "01/03/2011", e2e.member.card_number, ""],
        ],
    )
    upload(page, e2e, first)

    # "Đứng vào hàng ngũ Đảng" is not a known header: the secretary picks it for the admission date.
    admitted = page.locator("select[name=admitted_on]")
    expect(admitted).to_have_value("")
    expect(page.locator("select[name=full_name]")).to_have_value("1")
    admitted.select_option("4")
    page.screenshot(path="var/e2e-import-mapping.png", full_page=True)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/preview/$"))

    expect(page.get_by_test_id("import-row-4")).to_have_attribute("data-status", "new")
    expect(page.get_by_test_id("import-row-6")).to_have_attribute("data-status", "new")
    expect(page.get_by_test_id("import-row-7")).to_have_attribute("data-status", "present")
    expect(page.get_by_test_id("import-row-6")).to_contain_text("Ngô Văn Quang")
    expect(page.get_by_test_id("import-row-6")).to_contain_text("03/02/1970")
    # The wide table scrolls inside its box; the page itself fits the phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.screenshot(path="var/e2e-import-preview.png", full_page=True)

    page.get_by_test_id("import-submit").click()
    page.wait_for_url(re.compile(rf"/units/{e2e.cell_a.uid}/$"))
    expect(page.locator(".alert-success")).to_contain_text("2")
    trang = Member.objects.get(card_number="79555001")
    assert trang.full_name == "Vũ Thị Thu Trang" and trang.admitted_on == datetime.date(2016, 9, 2)
    assert trang.home_unit == e2e.cell_a and trang.positions.get().role == "deputy"
    assert Member.objects.get(card_number="79555002").birth_date == datetime.date(1970, 2, 3)
    assert trang.history.count() == 1

    before = Member.objects.count()
    second = hand_kept_list(
        tmp_path / "bo-sung.xlsx",
        [
            [1, "Đinh Văn Hải", "20/10/1988", "Nam", "10/10/2012", "10/10/2013", "79555003", ""],
            [2, "Lý Thị Mai", "01/01/2000", "Nữ", "01/06/2017", "", "79555004", ""],  # admitted at 17
        ],
    )
    upload(page, e2e, second)
    page.locator("select[name=admitted_on]").select_option("4")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/preview/$"))

    bad = page.get_by_test_id("import-row-5")
    expect(bad).to_have_attribute("data-status", "error")
    expect(bad.get_by_test_id("error-admitted_on")).to_be_visible()
    expect(page.get_by_test_id("import-blocked")).to_be_visible()
    expect(page.get_by_test_id("import-submit")).to_be_disabled()
    assert Member.objects.count() == before
    assert not Member.objects.filter(card_number__in=["79555003", "79555004"]).exists()
