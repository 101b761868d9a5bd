"""Tasks: parsing the tasks section, creating, progress by assignees, the meeting's review, history."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from meetings.models import Meeting
from resolutions.models import Task, TaskProgressNote, TaskReview
from resolutions.services import tasks as services
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def issued(passed_draft, issue):
    return issue(passed_draft)


def test_parse_task_items_reads_the_tasks_section_only():
    body = """Mở đầu
- không phải nhiệm vụ

## I. Đánh giá {#danh-gia}
- Đã làm tốt

## II. Nhiệm vụ và giải pháp {#nhiem-vu}
1. Tổ chức ra quân **vệ sinh** môi trường.
2) Vận động nhân dân
   tham gia bảo vệ an ninh.
a. Rà soát đảng viên
- Đóng đảng phí
Đoạn văn không phải danh sách.
"""
    assert services.parse_task_items(body) == [
        "Tổ chức ra quân vệ sinh môi trường.",
        "Vận động nhân dân tham gia bảo vệ an ninh.",
        "Rà soát đảng viên",
        "Đóng đảng phí",
    ]


def test_parse_task_items_finds_a_tasks_heading_without_its_key():
    assert services.parse_task_items("## 2. NHIỆM VỤ THÁNG TỚI\n- Một\n* Hai\n") == ["Một", "Hai"]
    assert services.parse_task_items("## Đánh giá\n- Một\n") == []


def test_tasks_from_resolution_in_order_with_history(cast, issued):
    items = [
        services.TaskItem(text=t, assignees=(cast.member,), due_on=datetime.date(2026, 5, 1))
        for t in services.parse_task_items(issued.body)
    ]
    tasks = services.tasks_from_resolution(resolution=issued, items=items, by=cast.secretary_user)
    assert [t.order for t in tasks] == [1, 2]
    assert [t.text for t in tasks] == [
        "Tổ chức ra quân vệ sinh môi trường khu phố.",
        "Vận động nhân dân tham gia bảo vệ an ninh trật tự.",
    ]
    assert list(tasks[0].assignees.all()) == [cast.member]
    assert Task.history.filter(id=tasks[0].pk).count() >= 1
    with pytest.raises(ValidationError, match="đã được tạo"):
        services.tasks_from_resolution(resolution=issued, items=items, by=cast.secretary_user)


def test_task_needs_an_assignee_on_the_roll(cast):
    with pytest.raises(ValidationError) as exc:
        services.task_create(unit=cast.cell_a, text_="Việc", assignees=[], by=cast.secretary_user)
    assert "assignees" in exc.value.error_dict
    with pytest.raises(ValidationError, match="Phạm Quốc Bảo"):
        services.task_create(unit=cast.cell_a, text_="Việc", assignees=[cast.outsider], by=cast.secretary_user)
    with pytest.raises(ValidationError) as exc:
        services.task_create(unit=cast.cell_a, text_="  ", assigned_to_committee=True, by=cast.secretary_user)
    assert "text" in exc.value.error_dict
    task = services.task_create(
        unit=cast.cell_a, text_="Việc chung", assigned_to_committee=True, by=cast.secretary_user
    )
    assert task.status == Task.Status.NOT_STARTED and task.assigned_to_committee


def test_only_assignees_report_progress_and_reporting_starts_the_task(cast):
    task = services.task_create(unit=cast.cell_a, text_="Việc", assignees=[cast.member], by=cast.secretary_user)
    other = MemberFactory(full_name="Ngô Thị Lan", cell=cast.cell_a)
    with pytest.raises(ValidationError, match="Chỉ đảng viên được giao"):
        services.task_progress_add(task=task, author=other, text_="Tôi làm", by=cast.secretary_user)
    with pytest.raises(ValidationError) as exc:
        services.task_progress_add(task=task, author=cast.member, text_=" ", by=cast.member_user)
    assert "text" in exc.value.error_dict
    note = services.task_progress_add(task=task, author=cast.member, text_="Đã họp tổ", by=cast.member_user)
    task.refresh_from_db()
    assert task.status == Task.Status.IN_PROGRESS and note.author == cast.member
    services.task_progress_add(task=task, author=cast.member, text_="Xong", status="done", by=cast.member_user)
    task.refresh_from_db()
    assert task.status == Task.Status.DONE and task.completed_on == timezone.localdate()
    assert TaskProgressNote.history.filter(task_id=task.pk).count() == 2


def test_committee_task_takes_progress_from_a_committee_member(cast):
    task = services.task_create(unit=cast.cell_a, text_="Việc", assigned_to_committee=True, by=cast.secretary_user)
    services.task_progress_add(task=task, author=cast.secretary, text_="Đã giao", by=cast.secretary_user)
    with pytest.raises(ValidationError):
        services.task_progress_add(task=task, author=cast.member, text_="Tôi", by=cast.member_user)


def test_overdue_is_computed_from_the_date(cast):
    task = services.task_create(
        unit=cast.cell_a,
        text_="Việc",
        assignees=[cast.member],
        due_on=datetime.date(2026, 3, 1),
        by=cast.secretary_user,
    )
    assert task.is_overdue_on(datetime.date(2026, 3, 2))
    assert not task.is_overdue_on(datetime.date(2026, 3, 1))
    services.task_set_status(task=task, status="done", by=cast.secretary_user)
    task.refresh_from_db()
    assert not task.is_overdue_on(datetime.date(2026, 3, 2))
    open_ids = set(
        services.filter_state(Task.objects.all(), "overdue", datetime.date(2026, 3, 2)).values_list("pk", flat=True)
    )
    assert task.pk not in open_ids


def _meeting(cast, start, status=Meeting.Status.SCHEDULED):
    return Meeting.objects.create(
        unit=cast.cell_a,
        kind=Meeting.Kind.REGULAR,
        period_year=start.year,
        period_month=start.month,
        scheduled_start=start,
        place="Nhà văn hóa",
        status=status,
    )


def test_review_once_per_task_and_meeting_and_not_after_closing(cast, issued):
    task = services.task_create(
        unit=cast.cell_a, text_="Việc", assignees=[cast.member], resolution=issued, by=cast.secretary_user
    )
    meeting = _meeting(cast, timezone.now() + datetime.timedelta(days=20))
    services.task_review_record(task=task, meeting=meeting, assessment="Chưa xong", by=cast.secretary_user)
    services.task_review_record(task=task, meeting=meeting, assessment="Đang làm tốt", by=cast.secretary_user)
    review = TaskReview.objects.get(task=task, meeting=meeting)
    assert review.assessment == "Đang làm tốt" and review.status_at_review == Task.Status.NOT_STARTED
    assert TaskReview.history.filter(task_id=task.pk).count() == 2
    meeting.status = Meeting.Status.CLOSED
    meeting.save()
    with pytest.raises(ValidationError, match="đã khóa"):
        services.task_review_record(task=task, meeting=meeting, assessment="Muộn", by=cast.secretary_user)
    other = Meeting.objects.create(
        unit=cast.cell_b,
        kind=Meeting.Kind.REGULAR,
        period_year=2026,
        period_month=5,
        scheduled_start=timezone.now(),
        place="X",
    )
    with pytest.raises(ValidationError, match="của chi bộ này"):
        services.task_review_record(task=task, meeting=other, assessment="Sai", by=cast.secretary_user)


def test_next_meeting_reviews_the_last_resolution_not_its_own(cast, issued):
    services.task_create(
        unit=cast.cell_a, text_="Việc", assignees=[cast.member], resolution=issued, by=cast.secretary_user
    )
    later = _meeting(cast, timezone.now() + datetime.timedelta(days=25))
    assert services.last_resolution_before(later) == issued
    earlier = _meeting(cast, timezone.now() - datetime.timedelta(days=40))
    assert services.last_resolution_before(earlier) is None


def test_my_tasks_are_mine_or_my_committees(cast):
    mine = services.task_create(unit=cast.cell_a, text_="Của tôi", assignees=[cast.member], by=cast.secretary_user)
    committee = services.task_create(
        unit=cast.cell_a, text_="Chi ủy", assigned_to_committee=True, by=cast.secretary_user
    )
    from resolutions.access import tasks_for

    member_tasks = set(services.mine(cast.member_user, cast.member, tasks_for(cast.member_user)))
    secretary_tasks = set(services.mine(cast.secretary_user, cast.secretary, tasks_for(cast.secretary_user)))
    outsider_tasks = set(services.mine(cast.outsider_user, cast.outsider, tasks_for(cast.outsider_user)))
    assert member_tasks == {mine}
    assert secretary_tasks == {committee}
    assert outsider_tasks == set()
