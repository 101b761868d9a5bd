"""The whole main flow on phones, as people do it: the secretary schedules this month's regular
meeting, opens it and shows the QR code; a member checks in from his own phone; she records the
absences and the dues, writes the minutes (autosaved), records the vote, closes the minutes and
downloads the biên bản; a ward committee member then reads them, and nothing can change them."""

import datetime
import hashlib
import re
import shutil
import subprocess

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from meetings.models import Attendance, Meeting
from members.models import DuesPayment
from tests.e2e.conftest import sign_in
from tests.factories import MemberFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"viewport": {"width": 390, "height": 844}, "locale": "vi-VN", "is_mobile": True, "has_touch": True}
SAVED = re.compile(r"Đã lưu \d\d:\d\d")


def _pdf_text(path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_a_regular_meeting_from_scheduling_to_the_archived_minutes_read_by_the_ward(e2e, browser, tmp_path):
    excused = MemberFactory(full_name="Nguyễn Thị Thu Hương", cell=e2e.cell_a)
    unexcused = MemberFactory(full_name="Vũ Đình Khải", cell=e2e.cell_a)
    today = timezone.localdate()
    start = timezone.localtime().replace(second=0, microsecond=0)

    # --- The secretary schedules this month's regular meeting from her home page. ---
    sec_context = browser.new_context(**PHONE, accept_downloads=True)
    sec = sec_context.new_page()
    sign_in(sec, e2e.url, "secretary")
    sec.get_by_test_id("next-meeting-panel").get_by_role("link", name=re.compile("Lên lịch sinh hoạt")).click()
    expect(sec.locator("input[name=kind][value=regular]")).to_be_checked()
    sec.fill("input[name=date]", today.isoformat())
    sec.fill("input[name=time]", start.strftime("%H:%M"))
    sec.fill("input[name=place]", "Hội trường Nhà văn hóa khu phố 1")
    sec.locator("#meeting-form button[type=submit]").click()
    expect(sec.get_by_test_id("status")).to_contain_text("Đã lên lịch")
    meeting = Meeting.objects.get(unit=e2e.cell_a, kind=Meeting.Kind.REGULAR)
    assert (meeting.period_year, meeting.period_month) == (today.year, today.month)
    base = f"{e2e.url}/meetings/{meeting.uid}"

    # --- She opens it (one tap on its page) and shows the QR code. ---
    next_action = sec.get_by_test_id("next-action")
    next_action.get_by_role("button", name="Bắt đầu cuộc họp").click()
    expect(sec.get_by_test_id("status")).to_contain_text("Đang diễn ra")
    sec.get_by_test_id("next-action").get_by_role("link", name="Điểm danh QR").click()
    qr = sec.get_by_test_id("qr")
    expect(qr.locator("svg")).to_be_visible()
    check_in_url = qr.get_attribute("data-check-in-url")  # what the member's camera reads
    assert check_in_url.startswith(f"{base}/check-in/?t=")

    # --- A member, on his own phone, signs in and opens the scanned link. ---
    member_context = browser.new_context(**PHONE)
    phone = member_context.new_page()
    sign_in(phone, e2e.url, "member")
    phone.goto(check_in_url)
    phone.get_by_test_id("check-in-confirm").tap()
    expect(phone.get_by_test_id("check-in-done")).to_contain_text("Lê Văn Đức")
    row = Attendance.objects.get(meeting=meeting, member=e2e.member)
    assert row.status == Attendance.Status.PRESENT and row.checked_in_at is not None

    # --- The secretary records the rest of the roll: herself, an excused and an unexcused absence. ---
    sec.get_by_role("link", name="Mở danh sách điểm danh").click()
    expect(sec.locator(f"#row-{e2e.member.uid}")).to_have_attribute("data-status", "present")
    sec.locator(f"#row-{e2e.secretary.uid} button[value=present]").tap()
    expect(sec.locator(f"#row-{e2e.secretary.uid}")).to_have_attribute("data-status", "present")

    sec.locator(f"#row-{excused.uid} button[value=excused]").first.tap()
    reason = sec.locator(f"input[name='{excused.uid}-reason']")
    expect(reason).to_be_visible()
    reason.fill("Đi công tác tại Hà Nội")
    sec.locator(f"input[name='{excused.uid}-reason_approved']").check()
    sec.locator(f"#row-{excused.uid} .att-extra button[value=excused]").tap()
    expect(sec.locator(f"#row-{excused.uid}")).to_have_attribute("data-status", "excused")

    sec.locator(f"#row-{unexcused.uid} button[value=unexcused]").tap()
    expect(sec.locator(f"#row-{unexcused.uid}")).to_have_attribute("data-status", "unexcused")
    expect(sec.get_by_test_id("rate")).to_have_text("50%")  # 2 present of 4 expected
    expect(sec.get_by_test_id("voting-base")).to_have_text("3")  # the approved absence is not counted
    expect(sec.get_by_test_id("attendance-warning").first).to_be_visible()
    sec.screenshot(path="var/e2e-lifecycle-attendance.png", full_page=True)
    assert dict(Attendance.objects.filter(meeting=meeting).values_list("member__full_name", "status")) == {
        "Trần Thị Hằng": "present",
        "Lê Văn Đức": "present",
        "Nguyễn Thị Thu Hương": "excused",
        "Vũ Đình Khải": "unexcused",
    }

    # --- Dues of the month, collected at the meeting: one tap per member who pays. ---
    sec.get_by_role("link", name="Đảng phí", exact=True).click()
    expect(sec.get_by_test_id("dues-total")).to_have_text("0 đ")
    sec.locator(f"#dues-{e2e.secretary.uid} input[name=amount]").fill("50000")
    sec.locator(f"#dues-{e2e.secretary.uid} button[type=submit]").tap()
    expect(sec.locator(f"#dues-{e2e.secretary.uid}")).to_have_attribute("data-paid", "1")
    sec.locator(f"#dues-{e2e.member.uid} button[type=submit]").tap()
    expect(sec.locator(f"#dues-{e2e.member.uid}")).to_have_attribute("data-paid", "1")
    expect(sec.get_by_test_id("dues-total")).to_have_text("60.000 đ")
    expect(sec.locator(f"#dues-{e2e.secretary.uid}")).to_contain_text("50.000 đ")
    sec.screenshot(path="var/e2e-lifecycle-dues.png", full_page=True)
    paid = {p.member_id: (p.year, p.month, p.amount) for p in DuesPayment.objects.all()}
    assert paid == {
        e2e.secretary.pk: (today.year, today.month, 50_000),
        e2e.member.pk: (today.year, today.month, 10_000),
    }

    # --- The minutes: the header, then an item's text, autosaved as she types. ---
    sec.goto(f"{base}/")
    sec.get_by_test_id("next-action").get_by_role("link", name="Biên bản", exact=True).click()
    header = sec.locator("#minutes-header")
    header.get_by_label("Chủ trì").select_option(label="Trần Thị Hằng")
    header.get_by_label("Thư ký").select_option(label="Lê Văn Đức")
    header.locator("input[name=actual_start]").fill(f"{today.isoformat()}T08:00")
    header.locator("input[name=actual_end]").fill(f"{today.isoformat()}T10:00")
    header.get_by_role("button", name="Lưu").click()
    expect(sec.locator("#minutes-header [role=status]")).to_contain_text("Đã lưu")

    item = meeting.agenda.get(order=3)  # the assessment of last month's tasks
    card = sec.locator(f"#item-{item.pk}")
    content = "Chi bộ hoàn thành 9/10 nhiệm vụ tháng trước; công tác vệ sinh môi trường còn chậm."
    conclusion = "Giao tổ đảng số 1 đôn đốc vệ sinh môi trường trước ngày 20."
    card.locator("textarea[name=content]").fill(content)
    card.locator("textarea[name=conclusion]").fill(conclusion)
    status = card.locator("[data-autosave-status]")
    expect(status).to_have_attribute("data-state", "saved", timeout=10_000)
    expect(status).to_contain_text(SAVED)

    card.get_by_text("Thêm người phát biểu").click()
    card.get_by_label("Người phát biểu").select_option(label="Lê Văn Đức")
    card.get_by_label("Ý kiến").fill("Đề nghị huy động đoàn viên thanh niên cùng tham gia.")
    card.get_by_role("button", name="Thêm", exact=True).click()
    expect(card.locator(f"#speeches-{item.pk}")).to_contain_text("Lê Văn Đức: Đề nghị huy động đoàn viên")

    # A second tab of the editor stays open on her phone (used after closing, below).
    stale = sec_context.new_page()
    stale.goto(f"{base}/minutes/")

    sec.reload()
    card = sec.locator(f"#item-{item.pk}")
    expect(card.locator("textarea[name=content]")).to_have_value(content)
    expect(card.locator("textarea[name=conclusion]")).to_have_value(conclusion)
    expect(card).to_contain_text("Đề nghị huy động đoàn viên thanh niên cùng tham gia.")
    expect(sec.locator("#minutes-header select[name=chair] option:checked")).to_have_text("Trần Thị Hằng")
    expect(sec.locator("#minutes-header input[name=actual_end]")).to_have_value(f"{today.isoformat()}T10:00")

    # --- The vote on the month's resolution. ---
    votes = sec.locator("#votes")
    votes.get_by_label("Nội dung biểu quyết").fill(f"Nghị quyết tháng {today.month}/{today.year}")
    votes.locator("input[name=votes_for]").fill("2")
    votes.get_by_role("button", name="Ghi kết quả biểu quyết").click()
    expect(sec.locator("#votes")).to_contain_text("Thông qua")
    expect(sec.locator("#votes")).to_contain_text("Tán thành 2")

    # --- Closing: the checklist is clear, then a confirmation before the irreversible step. ---
    sec.get_by_role("link", name="Khóa biên bản…").click()
    expect(sec.get_by_test_id("close-checklist")).not_to_contain_text("✗")
    dialogs = []

    def answer(dialog, accept):
        dialogs.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    sec.once("dialog", lambda dialog: answer(dialog, accept=False))
    sec.get_by_test_id("close-minutes").click()
    expect(sec.get_by_test_id("close-minutes")).to_be_visible()  # changed her mind: still open
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.IN_PROGRESS
    sec.once("dialog", lambda dialog: answer(dialog, accept=True))
    sec.get_by_test_id("close-minutes").click()
    sec.wait_for_url(f"{base}/")
    expect(sec.get_by_test_id("status")).to_contain_text("Đã khóa biên bản")
    assert len(dialogs) == 2 and "không thể" in dialogs[0]
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.CLOSED and len(meeting.minutes_sha256) == 64
    assert (meeting.chair, meeting.minutes_secretary) == (e2e.secretary, e2e.member)
    local_start, local_end = timezone.localtime(meeting.actual_start), timezone.localtime(meeting.actual_end)
    assert (local_start.date(), local_start.time(), local_end.time()) == (today, datetime.time(8), datetime.time(10))

    # --- The biên bản: exactly the archived bytes, in the standard Vietnamese text. ---
    with sec.expect_download() as download_info:
        sec.get_by_test_id("next-action").get_by_role("link", name=re.compile("Tải biên bản")).click()
    pdf_path = tmp_path / "bien-ban.pdf"
    download_info.value.save_as(pdf_path)
    data = pdf_path.read_bytes()
    shutil.copyfile(pdf_path, "var/e2e-lifecycle-bien-ban.pdf")  # to look at (pdftoppm)
    assert data.startswith(b"%PDF-")
    assert hashlib.sha256(data).hexdigest() == meeting.minutes_sha256
    text = _pdf_text(pdf_path)
    flat = _flat(text)
    assert "ĐẢNG CỘNG SẢN VIỆT NAM" in text
    assert "ĐẢNG BỘ PHƯỜNG TAM ĐẢO" in text and "CHI BỘ KHU PHỐ 1" in text  # superior and issuing units
    assert "DỰ THẢO" not in text
    assert "Đồng chí Nguyễn Thị Thu Hương: Đi công tác tại Hà Nội" in flat
    assert "Đồng chí Vũ Đình Khải" in flat
    assert "tán thành 2 đồng chí" in flat
    assert "không tán thành 0 đồng chí; ý kiến khác 0 đồng chí" in flat
    assert "trên tổng số 3 đảng viên có quyền biểu quyết" in flat
    assert content in flat and conclusion in flat
    assert "Lê Văn Đức" in flat and "CHỦ TRÌ" in text and "THƯ KÝ" in text

    # --- Nothing changes any more: the tab left open refuses the text typed into it... ---
    stale_card = stale.locator(f"#item-{item.pk}")
    stale_card.locator("textarea[name=content]").fill("Sửa sau khi đã khóa.")
    stale_status = stale_card.locator("[data-autosave-status]")
    expect(stale_status).to_have_attribute("data-state", "error", timeout=10_000)
    expect(stale_status).to_contain_text("đã khóa")
    item.refresh_from_db()
    assert item.content == content
    # ...and the meeting's edit page sends her back with the reason.
    sec.goto(f"{base}/edit/")
    expect(sec).to_have_url(f"{base}/")
    expect(sec.locator("main")).to_contain_text("không thể thay đổi")
    expect(sec.get_by_test_id("next-action")).not_to_contain_text("Sửa")

    # --- A ward committee member opens the same meeting and reads the minutes. ---
    ward_context = browser.new_context(**PHONE, accept_downloads=True)
    ward = ward_context.new_page()
    sign_in(ward, e2e.url, "ward")
    ward.goto(f"{base}/")
    expect(ward.get_by_test_id("status")).to_contain_text("Đã khóa biên bản")
    ward.get_by_role("link", name="Xem biên bản", exact=True).click()
    expect(ward.get_by_test_id("minutes-state")).to_contain_text("Đã khóa")
    expect(ward.locator("main")).to_contain_text(content)
    expect(ward.locator("main")).to_contain_text(conclusion)
    expect(ward.locator("main")).to_contain_text("Nguyễn Thị Thu Hương (Đi công tác tại Hà Nội)")
    expect(ward.locator("main")).to_contain_text("Vũ Đình Khải")
    expect(ward.locator("#votes")).to_contain_text("Tán thành 2")
    expect(ward.locator("textarea")).to_have_count(0)
    with ward.expect_download() as ward_download:
        ward.get_by_role("link", name=re.compile("Tải biên bản")).click()
    assert hashlib.sha256(ward_download.value.path().read_bytes()).hexdigest() == meeting.minutes_sha256

    # His read-only role cannot write either, whatever he posts.
    csrf = next(c["value"] for c in ward_context.cookies() if c["name"] == "csrftoken")
    answer_ = ward.request.post(
        f"{base}/items/{item.pk}/",
        form={"version": str(item.version), "content": "Sửa của cấp trên"},
        headers={"X-CSRFToken": csrf, "Accept": "application/json"},
    )
    assert answer_.status == 403
    item.refresh_from_db()
    assert item.content == content

    for context in (sec_context, member_context, ward_context):
        context.close()
