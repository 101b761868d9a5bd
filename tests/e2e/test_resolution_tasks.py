"""Tasks on phones: an issued resolution's tasks, an assignee reports progress from "My tasks", the
next regular meeting's minutes page shows the task with that progress and the secretary records the
review; the register lists "Số 01-NQ/CB" and downloads as an .xlsx and as a PDF book."""

import datetime
import io
import subprocess

import pytest
from django.utils import timezone
from openpyxl import load_workbook
from playwright.sync_api import expect

from meetings.models import Meeting
from meetings.services import meeting_schedule
from resolutions.models import TaskProgressNote, TaskReview
from resolutions.services import tasks as task_services
from tests.e2e.conftest import sign_in
from tests.resolutions.conftest import BODY

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"viewport": {"width": 390, "height": 844}, "locale": "vi-VN", "is_mobile": True, "has_touch": True}


@pytest.fixture
def issued(e2e, settings, tmp_path):
    from cells.models import Term
    from resolutions.services import drafts, issuing, voting

    settings.MEDIA_ROOT = tmp_path / "media"
    Term.objects.create(unit=e2e.cell_a, name="2025–2030", start=datetime.date(2025, 1, 1))
    soon = timezone.now() + datetime.timedelta(days=1)
    draft = drafts.draft_create(
        unit=e2e.cell_a,
        title="Nghị quyết sinh hoạt chi bộ tháng 3 năm 2026",
        summary="Về nhiệm vụ tháng 4 năm 2026",
        body=BODY,
        is_written_consultation=True,
        by=e2e.secretary_user,
    )
    draft = drafts.comments_open(draft=draft, deadline=soon, by=e2e.secretary_user)
    draft = drafts.comments_close(draft=draft, by=e2e.secretary_user)
    draft = voting.voting_start(draft=draft, vote_deadline=soon, by=e2e.secretary_user)
    for member, user in ((e2e.secretary, e2e.secretary_user), (e2e.member, e2e.member_user)):
        voting.vote_cast(draft=draft, member=member, choice="for", by=user)
    draft = voting.voting_close(draft=draft, by=e2e.secretary_user)
    return issuing.resolution_issue(draft=draft, by=e2e.secretary_user)


def test_assignee_reports_progress_and_the_next_meeting_reviews_it(e2e, issued, browser, tmp_path):
    # The committee confirms the tasks read from the resolution's tasks section.
    secretary = browser.new_context(**PHONE).new_page()
    sign_in(secretary, e2e.url, "secretary")
    secretary.goto(f"{e2e.url}/resolutions/r/{issued.uid}/tasks/")
    expect(secretary.locator("textarea[name='t-0-text']")).to_have_value("Tổ chức ra quân vệ sinh môi trường khu phố.")
    first = secretary.locator("fieldset").first
    first.get_by_label("Lê Văn Đức").check()
    first.get_by_label("Giao cho chi ủy").uncheck()  # read from the text, each line starts with the committee
    secretary.fill("input[name='t-0-due_on']", "2026-12-31")
    secretary.uncheck("input[name='t-1-keep']")
    secretary.click("button[type=submit]:has-text('Tạo nhiệm vụ')")
    expect(secretary.get_by_text("Tổ chức ra quân vệ sinh môi trường khu phố.")).to_be_visible()
    task = issued.tasks.get()
    assert list(task.assignees.all()) == [e2e.member]
    meeting = meeting_schedule(
        unit=e2e.cell_a,
        by=e2e.secretary_user,
        kind=Meeting.Kind.REGULAR,
        scheduled_start=timezone.now() + datetime.timedelta(days=10),
        place="Nhà văn hóa khu phố 1",
    )

    # The assignee, on his phone: the home card, then "My tasks", and reports progress.
    member = browser.new_context(**PHONE).new_page()
    sign_in(member, e2e.url, "member")
    expect(member.get_by_test_id("my-tasks-panel")).to_contain_text("Tổ chức ra quân vệ sinh môi trường")
    member.get_by_test_id("my-tasks-panel").get_by_text("Tất cả nhiệm vụ của tôi").click()
    row = member.get_by_test_id("task-row").first
    expect(row).to_contain_text("Số 01-NQ/CB")
    row.locator("summary").click()
    row.locator("textarea[name=text]").fill("Đã ra quân được 2 buổi, 40 hộ tham gia")
    row.locator("button:has-text('Gửi báo cáo')").click()
    expect(member.get_by_test_id("task-last-note")).to_contain_text("Đã ra quân được 2 buổi, 40 hộ tham gia")
    assert TaskProgressNote.objects.get(task=task).author == e2e.member

    # The next regular meeting: the assessment item lists the task with that progress.
    secretary.goto(f"{e2e.url}/meetings/{meeting.uid}/minutes/")
    review = secretary.get_by_test_id("task-review")
    expect(review).to_contain_text("Số 01-NQ/CB")
    expect(review.get_by_test_id("review-progress")).to_contain_text("Đã ra quân được 2 buổi, 40 hộ tham gia")
    review.locator("textarea[name=assessment]").fill("Thực hiện tốt, cần duy trì hằng tuần")
    review.locator("button:has-text('Lưu')").click()
    expect(secretary.get_by_test_id("task-review").locator("textarea[name=assessment]")).to_have_value(
        "Thực hiện tốt, cần duy trì hằng tuần"
    )
    assert TaskReview.objects.get(task=task, meeting=meeting).status_at_review == "in_progress"
    secretary.screenshot(path=str(tmp_path / "minutes-review.png"), full_page=True)

    # The register: the issued resolution by its number, as a spreadsheet and as a book.
    secretary.goto(f"{e2e.url}/resolutions/register/")
    expect(secretary.get_by_test_id("register-number").first).to_have_text("Số 01-NQ/CB")
    with secretary.expect_download() as got:
        secretary.get_by_test_id("register-xlsx").click()
    sheet = load_workbook(io.BytesIO(open(got.value.path(), "rb").read())).active
    assert sheet["A5"].value == "Số 01-NQ/CB" and sheet["F5"].value == issued.title
    assert sheet["L5"].value == "Tổ chức ra quân vệ sinh môi trường khu phố." and sheet["M5"].value == "Lê Văn Đức"
    with secretary.expect_download() as got:
        secretary.get_by_test_id("register-pdf").click()
    text = subprocess.run(["pdftotext", got.value.path(), "-"], check=True, capture_output=True, text=True).stdout
    flat = " ".join(text.split())
    assert "SỔ NGHỊ QUYẾT" in flat and "Số 01-NQ/CB" in flat and "Đang thực hiện" in flat
    assert "Thực hiện tốt, cần duy trì hằng tuần" in flat
    assert "T/M CHI BỘ" in flat and "Trần Thị Hằng" in flat  # the archived text follows the register
    assert task_services.parse_task_items(issued.body)[1] in flat
