"""Resolution reminders planned when their object changes (services -> resolutions/notify.py), with
the clock moved: comments opened, a deadline moved, a member commented, a vote cast, a task assigned,
reassigned, given a new due date or done. The beat sweep planning afterwards adds no second row."""

import datetime

import time_machine

from members import tasks
from members.notifications.delivery import send_due
from members.notifications.models import Notification
from resolutions.models import Task
from resolutions.services import drafts, voting
from resolutions.services import tasks as task_services
from tests.factories import MemberFactory

from .conftest import at

D = datetime.date
NOW = at(2026, 12, 1, 9)


def rows(kind, obj, **filters):
    return Notification.objects.filter(kind=kind, object_id=obj.pk, **filters)


def waiting(kind, obj, channel="inbox"):
    """(recipient, occurrence, due) of the rows still to be delivered."""
    return {
        (r.recipient_id, r.occurrence, r.due_at)
        for r in rows(kind, obj, channel=channel, state__in=["pending", "sent"])
    }


def new_draft(cast, **fields):
    return drafts.draft_create(
        unit=cast.cell_a, title="Nghị quyết về công tác tháng 12", summary="Về nhiệm vụ tháng 1 năm 2027",
        body="## I. Nhiệm vụ\nTổ chức tốt sinh hoạt chi bộ.\n", by=cast.secretary_user, **fields,
    )  # fmt: skip


@time_machine.travel(NOW, tick=False)
def test_opening_comments_plans_reminders_for_the_roll_a_day_before_the_deadline(emails):
    cast = emails
    draft = drafts.comments_open(draft=new_draft(cast), deadline=at(2026, 12, 5, 17), by=cast.secretary_user)
    occurrence = "comments:2026-12-05T10:00"  # stored in UTC
    due = at(2026, 12, 4, 17)
    assert waiting("resolutions.comment_deadline", draft) == {
        (cast.secretary_user.pk, occurrence, due),
        (cast.member_user.pk, occurrence, due),
    }
    # The member comments: their reminder is cancelled; withdrawing brings it back.
    comment = drafts.comment_add(draft=draft, member=cast.member, text_="Tán thành", by=cast.member_user)
    assert waiting("resolutions.comment_deadline", draft) == {(cast.secretary_user.pk, occurrence, due)}
    drafts.comment_withdraw(comment=comment, member=cast.member, by=cast.member_user)
    assert len(waiting("resolutions.comment_deadline", draft)) == 2
    # The deadline moves: the old reminders are cancelled, new ones planned for the new deadline.
    drafts.comments_open(draft=draft, deadline=at(2026, 12, 8, 17), by=cast.secretary_user)
    assert {o for _r, o, _d in waiting("resolutions.comment_deadline", draft)} == {"comments:2026-12-08T10:00"}
    assert rows("resolutions.comment_deadline", draft, state="cancelled", occurrence=occurrence).count() == 4
    # The sweep, run on the day, plans nothing twice; closing comments cancels what is left.
    with time_machine.travel(at(2026, 12, 7, 18), tick=False):
        tasks.plan_notifications()
        assert rows("resolutions.comment_deadline", draft).count() == 8
        drafts.comments_close(draft=draft, by=cast.secretary_user)
    assert not rows("resolutions.comment_deadline", draft, state="pending").exists()


def test_the_comment_reminder_is_delivered_when_due_and_only_to_those_who_have_not_commented(cast):
    with time_machine.travel(NOW, tick=False):
        draft = drafts.comments_open(draft=new_draft(cast), deadline=at(2026, 12, 5, 17), by=cast.secretary_user)
        drafts.comment_add(draft=draft, member=cast.secretary, text_="Đồng ý", by=cast.secretary_user)
    assert send_due(now=at(2026, 12, 4, 16, 59)).inbox == 0
    assert send_due(now=at(2026, 12, 4, 17)).inbox == 1
    delivered = rows("resolutions.comment_deadline", draft, state="sent").get()
    assert delivered.recipient == cast.member_user


@time_machine.travel(NOW, tick=False)
def test_a_member_without_a_login_is_reminded_by_email_of_the_comment_deadline(cast):
    offline = MemberFactory(full_name="Lê Thị Mai", cell=cast.cell_a, email="mai@example.vn")
    draft = drafts.comments_open(draft=new_draft(cast), deadline=at(2026, 12, 5, 17), by=cast.secretary_user)
    row = rows("resolutions.comment_deadline", draft, member=offline).get()
    assert row.channel == "email" and row.state == "pending"


def test_opening_a_written_vote_plans_reminders_for_full_members_and_a_vote_cancels_its_own(cast):
    with time_machine.travel(NOW, tick=False):
        draft = new_draft(cast, is_written_consultation=True)
        drafts.comments_open(draft=draft, deadline=at(2026, 12, 2, 17), by=cast.secretary_user)
    with time_machine.travel(at(2026, 12, 3, 9), tick=False):
        drafts.comments_close(draft=draft, by=cast.secretary_user)
        draft = voting.voting_start(draft=draft, vote_deadline=at(2026, 12, 6, 17), by=cast.secretary_user)
        assert not rows("resolutions.comment_deadline", draft, state="pending").exists()
        due = at(2026, 12, 5, 17)
        assert {(r, d) for r, _o, d in waiting("resolutions.vote_missing", draft)} == {
            (cast.secretary_user.pk, due),
            (cast.member_user.pk, due),
        }
        voting.vote_cast(draft=draft, member=cast.member, choice="for", by=cast.member_user)
        assert {r for r, _o, _d in waiting("resolutions.vote_missing", draft)} == {cast.secretary_user.pk}
        voting.vote_cast(draft=draft, member=cast.secretary, choice="for", by=cast.secretary_user)
        assert not waiting("resolutions.vote_missing", draft)


@time_machine.travel(NOW, tick=False)
def test_assigning_a_task_plans_due_soon_and_overdue_for_the_assignee(cast):
    task = task_services.task_create(
        unit=cast.cell_a, text_="Vận động đóng góp quỹ khuyến học", by=cast.secretary_user,
        due_on=D(2026, 12, 10), assignees=[cast.member],
    )  # fmt: skip
    assert waiting("resolutions.task_due_soon", task) == {
        (cast.member_user.pk, "due-soon:2026-12-10", at(2026, 12, 7, 8))
    }
    assert waiting("resolutions.task_overdue", task) == {
        (cast.member_user.pk, "overdue:2026-12-10", at(2026, 12, 11, 8))
    }
    # The sweep on those days finds the rows already planned.
    planned = rows("resolutions.task_due_soon", task).count(), rows("resolutions.task_overdue", task).count()
    for day in (at(2026, 12, 7, 9), at(2026, 12, 11, 9)):
        with time_machine.travel(day, tick=False):
            tasks.plan_notifications()
    assert (rows("resolutions.task_due_soon", task).count(), rows("resolutions.task_overdue", task).count()) == planned


@time_machine.travel(NOW, tick=False)
def test_reassigning_a_task_or_moving_its_due_date_replans_and_done_cancels(cast):
    task = task_services.task_create(
        unit=cast.cell_a, text_="Rà soát hồ sơ đảng viên", by=cast.secretary_user,
        due_on=D(2026, 12, 10), assignees=[cast.member],
    )  # fmt: skip
    task = task_services.task_update(
        task=task, by=cast.secretary_user, text_=task.text, due_on=D(2026, 12, 10),
        assignees=[cast.secretary], assigned_to_committee=False,
    )  # fmt: skip
    assert {r for r, _o, _d in waiting("resolutions.task_due_soon", task)} == {cast.secretary_user.pk}
    assert rows("resolutions.task_due_soon", task, recipient=cast.member_user, state="pending").count() == 0
    # Given back to the member, and the due date moved a week.
    task = task_services.task_update(
        task=task, by=cast.secretary_user, text_=task.text, due_on=D(2026, 12, 17),
        assignees=[cast.member], assigned_to_committee=False,
    )  # fmt: skip
    assert waiting("resolutions.task_due_soon", task) == {
        (cast.member_user.pk, "due-soon:2026-12-17", at(2026, 12, 14, 8))
    }
    assert {o for _r, o, _d in waiting("resolutions.task_overdue", task)} == {"overdue:2026-12-17"}
    task_services.task_set_status(task=task, status=Task.Status.DONE, by=cast.secretary_user)
    assert not waiting("resolutions.task_due_soon", task) and not waiting("resolutions.task_overdue", task)
    with time_machine.travel(at(2026, 12, 18, 9), tick=False):
        tasks.plan_notifications()  # a done task gets nothing from the sweep either
    assert not waiting("resolutions.task_overdue", task)
