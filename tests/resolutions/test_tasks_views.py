"""Task pages: my tasks, the unit's list, a task's page, progress, review from the minutes, history."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from meetings.models import Meeting
from meetings.services import meeting_schedule
from resolutions.models import Task, TaskProgressNote, TaskReview
from resolutions.services import tasks as services
from tests.resolutions.bulk import many_resolutions

pytestmark = pytest.mark.django_db


@pytest.fixture
def task(cast):
    return services.task_create(
        unit=cast.cell_a,
        text_="Vận động nhân dân tham gia bảo vệ an ninh",
        assignees=[cast.member],
        due_on=datetime.date(2026, 12, 31),
        by=cast.secretary_user,
    )


def test_my_tasks_lists_my_tasks_with_a_constant_number_of_queries(
    cast, term, client_for, django_assert_max_num_queries
):
    many_resolutions(cast, term, n=60, tasks_each=2)  # 120 tasks, each with two assignees and a note
    client = client_for(cast.member_user)
    with django_assert_max_num_queries(14):
        response = client.get(reverse("resolutions:my_tasks") + "?state=all")
    assert response.status_code == 200
    assert response.context["page"].paginator.count == 120
    assert "Việc 0 của nghị quyết" in response.content.decode()
    with django_assert_max_num_queries(14):
        client.get(reverse("resolutions:my_tasks") + "?state=all&page=3")


def test_my_tasks_empty_state(cast, client_for):
    response = client_for(cast.member_user).get(reverse("resolutions:my_tasks"))
    assert "Đồng chí không có nhiệm vụ nào đang thực hiện." in response.content.decode()


def test_unit_tasks_constant_queries_and_outsider_404(cast, term, client_for, django_assert_max_num_queries):
    many_resolutions(cast, term, n=60, tasks_each=2)
    client = client_for(cast.ward_user)
    with django_assert_max_num_queries(16):
        response = client.get(reverse("resolutions:unit_tasks", args=[cast.cell_a.uid]) + "?state=all")
    assert response.status_code == 200 and response.context["page"].paginator.count == 120
    assert (
        client_for(cast.outsider_user).get(reverse("resolutions:unit_tasks", args=[cast.cell_a.uid])).status_code == 404
    )


def test_assignee_reports_progress(cast, task, client_for):
    client = client_for(cast.member_user)
    url = reverse("resolutions:task_progress", args=[task.uid])
    response = client.post(url, {"text": "", "status": "in_progress"})
    assert response.status_code == 400
    response = client.post(
        url, {"text": "Đã vận động 20 hộ", "status": "in_progress", "next": "/resolutions/tasks/mine/"}
    )
    assert response.status_code == 302 and response["Location"] == "/resolutions/tasks/mine/"
    assert TaskProgressNote.objects.get(task=task).text == "Đã vận động 20 hộ"
    page = client.get(reverse("resolutions:task", args=[task.uid])).content.decode()
    assert "Đã vận động 20 hộ" in page


def test_progress_from_someone_else_is_refused(cast, task, client_for):
    response = client_for(cast.secretary_user).post(
        reverse("resolutions:task_progress", args=[task.uid]), {"text": "Tôi báo cáo hộ"}
    )
    assert response.status_code == 403
    response = client_for(cast.outsider_user).post(reverse("resolutions:task_progress", args=[task.uid]), {"text": "x"})
    assert response.status_code == 404


def test_read_only_roles_cannot_edit(cast, task, client_for):
    for user in (cast.ward_user, cast.member_user):
        client = client_for(user)
        assert client.get(reverse("resolutions:task", args=[task.uid])).status_code == 200
        assert client.get(reverse("resolutions:task_edit", args=[task.uid])).status_code == 403
        assert client.post(reverse("resolutions:task_status", args=[task.uid]), {"status": "done"}).status_code == 403
        assert client.get(reverse("resolutions:task_create", args=[cast.cell_a.uid])).status_code == 403


def test_committee_creates_and_edits_a_task_keeping_what_was_typed(cast, client_for):
    client = client_for(cast.secretary_user)
    url = reverse("resolutions:task_create", args=[cast.cell_a.uid])
    response = client.post(url, {"text": "Sửa đường làng", "due_on": "2026-12-01"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Sửa đường làng" in body and "2026-12-01" in body
    response = client.post(url, {"text": "Sửa đường làng", "due_on": "2026-12-01", "assignees": [cast.member.pk]})
    task = Task.objects.get(text="Sửa đường làng")
    assert response.status_code == 302 and list(task.assignees.all()) == [cast.member]
    response = client.post(
        reverse("resolutions:task_edit", args=[task.uid]),
        {"text": "Sửa đường làng xóm", "assigned_to_committee": "on"},
    )
    task.refresh_from_db()
    assert response.status_code == 302 and task.assigned_to_committee and task.text == "Sửa đường làng xóm"
    assert client.post(reverse("resolutions:task_status", args=[task.uid]), {"status": "done"}).status_code == 302
    task.refresh_from_db()
    assert task.status == "done"
    history = client.get(reverse("resolutions:task_history", args=[task.uid]))
    assert history.status_code == 200 and "Sửa đường làng xóm" in history.content.decode()


def test_history_needs_the_audit_right(cast, task, client_for):
    assert client_for(cast.member_user).get(reverse("resolutions:task_history", args=[task.uid])).status_code == 403


def test_tasks_from_the_resolution_section_confirmed_by_the_committee(cast, passed_draft, issue, client_for):
    resolution = issue(passed_draft)
    client = client_for(cast.secretary_user)
    url = reverse("resolutions:resolution_tasks", args=[resolution.uid])
    page = client.get(url)
    assert page.status_code == 200
    body = page.content.decode()
    assert "Tổ chức ra quân vệ sinh môi trường khu phố." in body
    data = {
        "t-TOTAL_FORMS": "2",
        "t-INITIAL_FORMS": "2",
        "t-0-text": "Tổ chức ra quân vệ sinh môi trường khu phố.",
        "t-0-keep": "on",
        "t-0-assignees": [cast.member.pk],
        "t-0-due_on": "2026-04-30",
        "t-1-text": "Vận động nhân dân tham gia bảo vệ an ninh trật tự.",
        "t-1-assigned_to_committee": "",
    }
    response = client.post(url, {**data, "t-1-keep": "on"})
    # the kept second line has nobody to do it: refused, and what was typed stays
    body = response.content.decode()
    assert response.status_code == 200 and "Nhiệm vụ 2: Giao nhiệm vụ cho ít nhất một đảng viên" in body
    assert "Vận động nhân dân tham gia bảo vệ an ninh trật tự." in body and not resolution.tasks.exists()
    response = client.post(url, data)  # the second line unticked
    assert response.status_code == 302
    assert list(resolution.tasks.values_list("text", flat=True)) == ["Tổ chức ra quân vệ sinh môi trường khu phố."]
    assert client_for(cast.member_user).get(url).status_code == 403


def test_minutes_page_lists_the_last_resolution_tasks_and_records_the_review(cast, passed_draft, issue, client_for):
    resolution = issue(passed_draft)
    task = services.task_create(
        unit=cast.cell_a,
        text_="Tu sửa nhà văn hóa",
        assignees=[cast.member],
        resolution=resolution,
        by=cast.secretary_user,
    )
    services.task_progress_add(task=task, author=cast.member, text_="Đã xin kinh phí", by=cast.member_user)
    start = timezone.now() + datetime.timedelta(days=20)
    meeting = meeting_schedule(
        unit=cast.cell_a,
        by=cast.secretary_user,
        kind=Meeting.Kind.REGULAR,
        scheduled_start=start,
        place="Nhà văn hóa",
    )
    client = client_for(cast.secretary_user)
    page = client.get(reverse("meetings:minutes", args=[meeting.uid])).content.decode()
    assert "Tu sửa nhà văn hóa" in page and "Đã xin kinh phí" in page and resolution.number_label in page
    response = client.post(
        reverse("resolutions:task_review", args=[task.uid, meeting.uid]), {"assessment": "Cần đẩy nhanh tiến độ"}
    )
    assert response.status_code == 302
    assert TaskReview.objects.get(task=task, meeting=meeting).assessment == "Cần đẩy nhanh tiến độ"
    assert (
        client_for(cast.member_user)
        .post(reverse("resolutions:task_review", args=[task.uid, meeting.uid]), {"assessment": "x"})
        .status_code
        == 403
    )

    from django.template.loader import render_to_string

    from meetings.pdf import minutes_context

    html = render_to_string("meetings/pdf/minutes.html", minutes_context(meeting, draft=True))
    assert "Kiểm điểm việc thực hiện nghị quyết " + resolution.number_label in html
    assert "Cần đẩy nhanh tiến độ" in html and "Tu sửa nhà văn hóa" in html
    import subprocess

    from meetings.pdf import render_minutes_pdf

    pdf = render_minutes_pdf(meeting)
    text = " ".join(subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True).stdout.decode().split())
    assert f"Kiểm điểm việc thực hiện nghị quyết {resolution.number_label}" in text
    assert "Tu sửa nhà văn hóa (Lê Văn Đức): Đang thực hiện. Đánh giá: Cần đẩy nhanh tiến độ" in text


def test_home_panel_and_navbar_link_to_my_tasks_and_the_register(cast, task, client_for):
    body = client_for(cast.member_user).get(reverse("members:home")).content.decode()
    assert 'data-testid="my-tasks-panel"' in body and task.text in body
    assert reverse("resolutions:my_tasks") in body and reverse("resolutions:register_home") in body
    staff = client_for(cast.staff_user).get(reverse("members:home")).content.decode()
    assert 'data-testid="my-tasks-panel"' not in staff and 'data-testid="nav-my-tasks"' not in staff
