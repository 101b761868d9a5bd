"""A resolution from draft to issue, on phones: the committee drafts and sends it for comments; two
members comment from their own phones (one on a section); the deadline passes and a late comment is
refused; the committee answers; version 2 shows what changed; members vote in writing; the secretary
issues it as "Số 01-NQ/CB" and the downloaded PDF carries the number, the title and the signature."""

import datetime
import shutil
import subprocess

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cells.models import Term
from resolutions.models import Comment, Draft, Resolution
from tests.conftest import make_login
from tests.e2e.conftest import sign_in
from tests.factories import MemberFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"viewport": {"width": 390, "height": 844}, "locale": "vi-VN"}
TITLE = "Nghị quyết sinh hoạt chi bộ tháng 3 năm 2026"
BODY = """Căn cứ Điều lệ Đảng Cộng sản Việt Nam;

## I. Đánh giá tình hình tháng 3
Chi bộ đã hoàn thành tốt nhiệm vụ chính trị.

## II. Nhiệm vụ và giải pháp tháng 4
1. Tổ chức ra quân vệ sinh môi trường khu phố.
2. Vận động nhân dân tham gia bảo vệ an ninh trật tự.
"""


def phone(browser, e2e, username):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page, e2e.url, username)
    return context, page


def fill_deadline(page, moment):
    local = timezone.localtime(moment)
    page.fill("input[name=date]", local.strftime("%Y-%m-%d"))
    page.fill("input[name=time]", local.strftime("%H:%M"))


def test_draft_comments_responses_version_written_vote_and_issue(e2e, browser, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    Term.objects.create(unit=e2e.cell_a, name="2025–2030", start=datetime.date(2025, 1, 1))
    second = MemberFactory(full_name="Hoàng Thị Mai", gender="female", cell=e2e.cell_a)
    make_login(second, "mai")

    # The committee drafts a written consultation and sends it for comments.
    sec_context, sec = phone(browser, e2e, "secretary")
    sec.goto(f"{e2e.url}/resolutions/")
    sec.get_by_role("link", name="Dự thảo mới").first.click()
    sec.fill("input[name=title]", TITLE)
    sec.fill("input[name=summary]", "Về nhiệm vụ tháng 4 năm 2026")
    sec.check("input[name=is_written_consultation]")
    sec.fill("textarea[name=body]", BODY)
    sec.get_by_role("button", name="Lưu").click()
    expect(sec.get_by_test_id("draft-title")).to_have_text(TITLE)
    sec.get_by_role("link", name="Gửi lấy ý kiến").first.click()
    fill_deadline(sec, timezone.now() + datetime.timedelta(days=2))
    sec.get_by_role("button", name="Gửi lấy ý kiến").click()
    expect(sec.get_by_test_id("phase")).to_contain_text("Đang lấy ý kiến")
    draft = Draft.objects.get()

    # The first member finds it waiting and comments on section II.
    member_context, member = phone(browser, e2e, "member")
    member.goto(f"{e2e.url}/resolutions/")
    member.get_by_test_id("awaiting").get_by_text(TITLE).click()
    member.locator("#s-ii-nhiem-vu-va-giai-phap-thang-4").get_by_test_id("comment-section-link").click()
    expect(member.locator("select[name=section_key]")).to_have_value("ii-nhiem-vu-va-giai-phap-thang-4")
    member.fill("textarea[name=text]", "Đề nghị giao tổ đảng số 1 phụ trách ra quân vệ sinh.")
    member.get_by_role("button", name="Gửi góp ý").click()
    expect(member.locator("#s-ii-nhiem-vu-va-giai-phap-thang-4").get_by_test_id("comment")).to_contain_text(
        "tổ đảng số 1"
    )
    member.screenshot(path="var/e2e-resolution-comment.png", full_page=True)

    # The second member comments on the whole draft; then opens the form once more and waits too long.
    mai_context, mai = phone(browser, e2e, "mai")
    mai.goto(f"{e2e.url}/resolutions/drafts/{draft.uid}/")
    mai.fill("textarea[name=text]", "Nhất trí với dự thảo, đề nghị bổ sung chỉ tiêu kết nạp đảng viên.")
    mai.get_by_role("button", name="Gửi góp ý").click()
    expect(mai.locator("#comments").get_by_test_id("comment")).to_have_count(1)
    mai.fill("textarea[name=text]", "Ý kiến gửi sau hạn.")
    Draft.objects.filter(pk=draft.pk).update(comment_deadline=timezone.now() - datetime.timedelta(minutes=1))
    mai.get_by_role("button", name="Gửi góp ý").click()
    expect(mai.locator("body")).to_contain_text("Hạn góp ý đã kết thúc")
    expect(mai.locator("textarea[name=text]")).to_have_value("Ý kiến gửi sau hạn.")
    assert Comment.objects.count() == 2
    assert set(Comment.objects.values_list("section_key", flat=True)) == {"", "ii-nhiem-vu-va-giai-phap-thang-4"}

    # The committee answers each comment.
    sec.goto(f"{e2e.url}/resolutions/drafts/{draft.uid}/consolidation/")
    cards = sec.get_by_test_id("consolidation-comment")
    expect(cards).to_have_count(2)
    first = cards.filter(has_text="tổ đảng số 1")
    first.get_by_label("Tiếp thu", exact=True).check()
    first.get_by_role("button", name="Lưu trả lời").click()
    other = sec.get_by_test_id("consolidation-comment").filter(has_text="chỉ tiêu kết nạp")
    other.get_by_label("Tiếp thu một phần").check()
    other.locator("textarea").fill("Chỉ tiêu kết nạp đã có trong nghị quyết năm.")
    other.get_by_role("button", name="Lưu trả lời").click()
    expect(sec.get_by_test_id("summary")).not_to_contain_text("chưa trả lời")

    # Version 2, and what changed.
    sec.goto(f"{e2e.url}/resolutions/drafts/{draft.uid}/versions/new/")
    body = sec.locator("textarea[name=body]").input_value()
    sec.fill("textarea[name=body]", body.replace("khu phố.", "khu phố, giao tổ đảng số 1 phụ trách."))
    sec.fill("input[name=change_note]", "Tiếp thu ý kiến đồng chí Lê Văn Đức.")
    sec.get_by_role("button", name="Đăng bản mới").click()
    expect(sec.locator("h1")).to_contain_text("bản 1 sang bản 2")
    expect(sec.locator("ins").filter(has_text="giao tổ đảng số 1 phụ trách")).to_have_count(1)
    sec.screenshot(path="var/e2e-resolution-diff.png", full_page=True)

    # The written vote: three full members; the member changes their mind before the deadline.
    sec.goto(f"{e2e.url}/resolutions/drafts/{draft.uid}/")
    sec.get_by_role("link", name="Mở biểu quyết bằng văn bản").click()
    fill_deadline(sec, timezone.now() + datetime.timedelta(days=3))
    sec.get_by_role("button", name="Mở biểu quyết").click()
    expect(sec.get_by_test_id("phase")).to_contain_text("Đang biểu quyết")
    votes = ((member, "Không tán thành"), (mai, "Tán thành"), (sec, "Tán thành"), (member, "Tán thành"))
    for turn, (page, choice) in enumerate(votes):
        page.goto(f"{e2e.url}/resolutions/drafts/{draft.uid}/?turn={turn}")  # a full load, not a #fragment jump
        page.get_by_test_id("vote-panel").get_by_label(choice, exact=True).check()
        page.get_by_test_id("vote-panel").get_by_role("button").click()
        expect(page.get_by_test_id("my-vote")).to_contain_text(choice)
    sec.reload()
    expect(sec.get_by_test_id("tally")).to_contain_text("Tán thành 3")
    sec.get_by_role("button", name="Kết thúc và kiểm phiếu").click()
    expect(sec.get_by_test_id("phase")).to_contain_text("Thông qua")

    # Issue: the next number of the term, printed and archived.
    sec.get_by_role("link", name="Ban hành", exact=True).click()
    sec.get_by_role("button", name="Ban hành và cấp số").click()
    expect(sec.get_by_test_id("number")).to_have_text("Số 01-NQ/CB")
    sec.screenshot(path="var/e2e-resolution-issued.png", full_page=True)
    resolution = Resolution.objects.get()
    pdf = sec.request.get(f"{e2e.url}/resolutions/r/{resolution.uid}/pdf/")
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    path = tmp_path / "nghi-quyet.pdf"
    path.write_bytes(pdf.body())
    if shutil.which("pdftotext"):
        text = subprocess.run(
            ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
        ).stdout
    else:
        import io

        from pypdf import PdfReader

        text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.body())).pages)
    for expected in ("Số 01-NQ/CB", "NGHỊ QUYẾT", TITLE, "T/M CHI BỘ", "BÍ THƯ", "Trần Thị Hằng", "giao tổ đảng số 1"):
        assert expected in text, expected

    # The member reads the issued resolution too.
    member.goto(f"{e2e.url}/resolutions/r/{resolution.uid}/")
    expect(member.get_by_test_id("number")).to_have_text("Số 01-NQ/CB")
    for context in (sec_context, member_context, mai_context):
        context.close()
