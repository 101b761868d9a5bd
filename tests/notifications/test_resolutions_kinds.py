"""Resolution kinds with the clock moved: comments and written votes missing before the deadline,
tasks due soon and overdue (resolutions/notify.py)."""

import datetime

import time_machine

from members import tasks
from members.notifications.models import Notification
from resolutions.models import Comment, ConsultationVote, Draft, DraftVersion, Task

from .conftest import at

D = datetime.date


def plan_at(moment):
    with time_machine.travel(moment, tick=False):
        tasks.plan_notifications()


def rows(kind, obj, channel="inbox"):
    return Notification.objects.filter(kind=kind, object_id=obj.pk, channel=channel)


def make_draft(cast, **fields):
    draft = Draft.objects.create(unit=cast.cell_a, title="Nghị quyết về công tác tháng 12", **fields)
    version = DraftVersion.objects.create(draft=draft, number=1, title=draft.title, body="Nội dung")
    return draft, version


def test_members_who_have_not_commented_are_reminded_24_hours_before_the_deadline(cast):
    draft, version = make_draft(cast, status=Draft.Status.OPEN, comment_deadline=at(2026, 12, 5, 17))
    Comment.objects.create(draft=draft, version=version, author=cast.secretary, text="Tán thành")
    plan_at(at(2026, 12, 4, 16, 59))
    assert not rows("resolutions.comment_deadline", draft).exists()
    plan_at(at(2026, 12, 4, 17))
    plan_at(at(2026, 12, 4, 18))
    reminded = rows("resolutions.comment_deadline", draft)
    assert list(reminded.values_list("recipient", flat=True)) == [cast.member_user.pk]  # not the secretary
    assert "17:00 ngày 05/12/2026" in reminded.get().body
    # The deadline moves: a new reminder for the new deadline.
    Draft.objects.filter(pk=draft.pk).update(comment_deadline=at(2026, 12, 8, 17))
    plan_at(at(2026, 12, 7, 20))
    assert rows("resolutions.comment_deadline", draft).count() == 2


def test_full_members_who_have_not_voted_in_writing_are_reminded(cast):
    draft, _version = make_draft(
        cast,
        status=Draft.Status.VOTING,
        is_written_consultation=True,
        comment_deadline=at(2026, 12, 3, 17),
        vote_deadline=at(2026, 12, 6, 17),
    )
    ConsultationVote.objects.create(draft=draft, member=cast.secretary, choice="for")
    plan_at(at(2026, 12, 5, 18))
    assert list(rows("resolutions.vote_missing", draft).values_list("recipient", flat=True)) == [cast.member_user.pk]


def test_tasks_due_soon_and_overdue_reach_their_assignees_once_each(cast):
    task = Task.objects.create(unit=cast.cell_a, text="Vận động đóng góp quỹ khuyến học", due_on=D(2026, 12, 10))
    task.assignees.add(cast.member)
    plan_at(at(2026, 12, 6, 9))
    assert not rows("resolutions.task_due_soon", task).exists()
    plan_at(at(2026, 12, 7, 9))
    plan_at(at(2026, 12, 8, 9))
    assert list(rows("resolutions.task_due_soon", task).values_list("recipient", flat=True)) == [cast.member_user.pk]
    plan_at(at(2026, 12, 11, 9))
    plan_at(at(2026, 12, 12, 9))
    overdue = rows("resolutions.task_overdue", task).get()
    assert overdue.recipient == cast.member_user and "quá hạn ngày 10/12/2026" in overdue.body
    Task.objects.filter(pk=task.pk).update(status=Task.Status.DONE)
    Task.objects.create(unit=cast.cell_a, text="Việc của chi ủy", due_on=D(2026, 12, 1), assigned_to_committee=True)
    plan_at(at(2026, 12, 13, 9))
    assert rows("resolutions.task_overdue", task).count() == 1
    committee_task = Task.objects.get(assigned_to_committee=True)
    assert rows("resolutions.task_overdue", committee_task).get().recipient == cast.secretary_user
