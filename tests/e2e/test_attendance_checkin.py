"""A meeting's attendance in two phones: QR check-in by a member, the secretary's roll and dues."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from meetings import services
from meetings.models import Attendance
from members.models import DuesPayment
from tests.e2e.conftest import sign_in
from tests.factories import MemberFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 360, "height": 780}


def test_member_checks_in_by_qr_and_secretary_records_an_excused_absence_and_dues(e2e, browser):
    absent = MemberFactory(full_name="Nguyễn Thị Vắng", cell=e2e.cell_a)
    meeting = services.meeting_schedule(
        unit=e2e.cell_a, kind="regular", scheduled_start=timezone.now(), place="Nhà văn hóa", by=e2e.secretary_user
    )
    base = f"{e2e.url}/meetings/{meeting.uid}"

    # The secretary opens the QR page; the meeting has not started, so she opens it from there.
    secretary = browser.new_context(viewport=PHONE).new_page()
    sign_in(secretary, e2e.url, "secretary")
    secretary.goto(f"{base}/qr/")
    secretary.get_by_test_id("open-meeting").click()
    qr = secretary.get_by_test_id("qr")
    expect(qr.locator("svg")).to_be_visible()
    check_in_url = qr.get_attribute("data-check-in-url")
    assert check_in_url.startswith(f"{base}/check-in/?t=")

    # The member scans it with his phone: sign-in first, then straight back to the check-in.
    phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    phone.goto(check_in_url)
    expect(phone).to_have_url(re.compile(r"/login/\?next="))
    phone.fill("input[name=username]", "member")
    phone.fill("input[name=password]", "mat-khau-123")
    phone.click("main form button[type=submit]")
    phone.get_by_test_id("check-in-confirm").tap()
    expect(phone.get_by_test_id("check-in-done")).to_be_visible()
    phone.screenshot(path="var/e2e-check-in.png", full_page=True)

    # The QR page counts him; the attendance list shows him present, checked in by the code.
    expect(secretary.get_by_test_id("present-count")).to_contain_text("1", timeout=25_000)
    secretary.goto(f"{base}/attendance/")
    member_row = secretary.locator(f"#row-{e2e.member.uid}")
    expect(member_row).to_have_attribute("data-status", "present")
    expect(member_row).to_contain_text("✓")

    # An excused absence: the reason is asked for, then saved with the committee's approval.
    row = secretary.locator(f"#row-{absent.uid}")
    row.locator("button[value=excused]").first.click()
    reason = secretary.locator(f"input[name='{absent.uid}-reason']")
    expect(reason).to_be_visible()
    expect(secretary.locator(f"#row-{absent.uid} [role=alert]")).to_be_visible()
    reason.fill("Đi công tác tỉnh ngoài")
    secretary.locator(f"input[name='{absent.uid}-reason_approved']").check()
    secretary.locator(f"#row-{absent.uid} .att-extra button[value=excused]").click()
    expect(secretary.locator(f"#row-{absent.uid}")).to_have_attribute("data-status", "excused")
    expect(secretary.get_by_test_id("excused")).to_have_text("1")
    expect(secretary.locator("#attendance-counts")).to_contain_text("Đi công tác tỉnh ngoài")
    row = Attendance.objects.get(meeting=meeting, member=absent)
    assert (row.status, row.reason, row.reason_approved) == ("excused", "Đi công tác tỉnh ngoài", True)

    secretary.locator(f"#row-{e2e.secretary.uid} button[value=present]").click()
    expect(secretary.locator(f"#row-{e2e.secretary.uid}")).to_have_attribute("data-status", "present")
    expect(secretary.get_by_test_id("rate")).to_have_text("67%")  # 2 present of 3 expected
    secretary.screenshot(path="var/e2e-attendance.png", full_page=True)

    # Dues: one tap on the member's row.
    secretary.goto(f"{base}/dues/")
    dues_row = secretary.locator(f"#dues-{e2e.member.uid}")
    dues_row.locator("button[type=submit]").click()
    expect(secretary.locator(f"#dues-{e2e.member.uid}")).to_have_attribute("data-paid", "1")
    expect(secretary.get_by_test_id("dues-total")).to_contain_text(re.compile(r"10[.,]?000"))
    payment = DuesPayment.objects.get(member=e2e.member)
    today = timezone.localdate()
    assert (payment.year, payment.month, payment.amount, payment.paid_on) == (today.year, today.month, 10000, today)
    secretary.screenshot(path="var/e2e-dues.png", full_page=True)
