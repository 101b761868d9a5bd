"""Main flows of the foundation issue, in a phone-sized Chromium."""

import datetime
import re

import pytest
from playwright.sync_api import expect

from members.models import Member
from tests.e2e.conftest import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_secretary_adds_member_prints_slip_and_member_activates_and_signs_in_with_card(e2e, browser):
    secretary = browser.new_context(viewport={"width": 360, "height": 780})
    page = secretary.new_page()
    sign_in(page, e2e.url, "secretary")
    expect(page.locator("h1")).to_contain_text("Trần Thị Hằng")

    page.get_by_role("link", name=re.compile("Thêm đảng viên|Add member")).first.click()
    page.fill("input[name=full_name]", "Vũ Thị Thu Trang")
    page.select_option("select[name=gender]", "female")
    page.fill("input[name=birth_date]", "1992-08-15")
    page.fill("input[name=card_number]", "79555001")
    page.fill("input[name=admitted_on]", "2016-09-02")
    page.fill("input[name=full_member_on]", "2017-09-02")
    page.fill("input[name=phone]", "0987 654 321")
    page.fill("input[name=joined_on]", "2020-01-01")
    page.locator("main form button[type=submit]").click()
    expect(page.get_by_role("heading", name="Vũ Thị Thu Trang")).to_be_visible()
    assert Member.objects.filter(card_number="79555001", home_unit=e2e.cell_a).exists()

    page.get_by_role("button", name=re.compile("In phiếu kích hoạt|Print activation slip")).click()
    code = page.get_by_test_id("activation-code").inner_text().strip()
    assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}", code)
    expect(page.locator(".qr svg")).to_be_visible()
    page.screenshot(path="var/e2e-slip.png", full_page=True)

    member = browser.new_context(viewport={"width": 360, "height": 780}).new_page()
    member.goto(f"{e2e.url}/activate/")
    member.fill("input[name=identifier]", "79555001")
    member.fill("input[name=code]", code.lower().replace("-", ""))
    member.fill("input[name=new_password1]", "Trang@chibo2026")
    member.fill("input[name=new_password2]", "Trang@chibo2026")
    member.locator("main form button[type=submit]").click()
    expect(member.locator("body")).to_contain_text("Chi bộ Khu phố 1")

    member.locator("form[action$='/logout/'] button").first.evaluate("b => b.form.submit()")
    member.wait_for_url(re.compile(r"/login/"))
    sign_in(member, e2e.url, "79555001", "Trang@chibo2026")
    expect(member.locator("body")).to_contain_text("Vũ Thị Thu Trang")
    expect(member.locator("body")).to_contain_text("Chi bộ Khu phố 1")


def test_transfer_out_and_acceptance_moves_the_member_and_his_access(e2e, browser):
    member_page = browser.new_context().new_page()
    sign_in(member_page, e2e.url, e2e.member.card_number)
    expect(member_page.locator("body")).to_contain_text("Chi bộ Khu phố 1")

    secretary = browser.new_context().new_page()
    sign_in(secretary, e2e.url, "secretary")
    secretary.goto(f"{e2e.url}/members/{e2e.member.uid}/transfer/")
    secretary.select_option("select[name=to_cell]", str(e2e.cell_b.pk))
    secretary.fill("input[name=date]", datetime.date.today().isoformat())
    secretary.fill("input[name=reason]", "Chuyển nơi cư trú")
    secretary.locator("main form button[type=submit]").click()
    expect(secretary.locator(".badge.text-bg-warning")).to_be_visible()

    staff = browser.new_context().new_page()
    sign_in(staff, e2e.url, "staff")
    expect(staff.locator("body")).to_contain_text("Lê Văn Đức")
    staff.get_by_role("link", name=re.compile("Xem và tiếp nhận|Review and accept")).click()
    staff.locator("form[action$='/accept/'] button[type=submit]").click()
    expect(staff.get_by_role("heading", name="Lê Văn Đức")).to_be_visible()

    member_page.reload()
    expect(member_page.locator("body")).to_contain_text("Chi bộ Khu phố 2")
    response = member_page.goto(f"{e2e.url}/units/{e2e.cell_a.uid}/")
    assert response.status == 404


def test_member_opening_another_cells_member_page_gets_404(e2e, browser):
    page = browser.new_context().new_page()
    sign_in(page, e2e.url, e2e.outsider.card_number)
    assert page.goto(f"{e2e.url}/members/{e2e.member.uid}/").status == 404
    assert page.goto(f"{e2e.url}/units/{e2e.cell_a.uid}/").status == 404
    assert page.goto(f"{e2e.url}/members/{e2e.outsider.uid}/").status == 200


def test_ward_committee_member_browses_the_tree_read_only(e2e, browser):
    page = browser.new_context().new_page()
    sign_in(page, e2e.url, "ward")
    page.goto(f"{e2e.url}/units/")
    page.get_by_role("link", name="Chi bộ Khu phố 1").click()
    expect(page.locator("#member-list")).to_contain_text("Lê Văn Đức")
    page.fill("input[name=q]", "le van duc")
    expect(page.locator("#member-list tbody tr")).to_have_count(1)
    expect(page.get_by_role("link", name=re.compile("Thêm đảng viên|Add member"))).to_have_count(0)
