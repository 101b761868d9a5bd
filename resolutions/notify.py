"""Resolution notifications: members who have not commented on an open draft (before the
deadline), full members who have not voted in a written consultation, and tasks due soon or
overdue. Time-based planners run by the beat sweep (members.tasks.plan_notifications).

Occurrences carry the deadline, so a moved deadline is reminded anew: "comments:2026-12-05T17:00",
"vote:…", "due-soon:2026-12-10", "overdue:2026-12-10".
"""

from __future__ import annotations

import datetime

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cells.tree_settings import settings_for
from meetings.notify import TreeSettings
from members.models import Membership, TemporaryAttachment
from members.notifications.planning import NOBODY, Recipients, cancel, committee_recipients, plan, replan
from members.notifications.registry import NotificationKind, register_kind, register_planner

from .models import Comment, ConsultationVote, Draft, Task

COMMENT_DEADLINE = "resolutions.comment_deadline"
VOTE_MISSING = "resolutions.vote_missing"
TASK_DUE_SOON = "resolutions.task_due_soon"
TASK_OVERDUE = "resolutions.task_overdue"


def register() -> None:
    for key, label, template, lead in (
        (COMMENT_DEADLINE, _("Draft resolution: comments close soon"), "draft_comment_deadline",
         ("draft_comment_reminder_hours",)),
        (VOTE_MISSING, _("Written consultation: your vote is missing"), "consultation_vote_missing",
         ("draft_comment_reminder_hours",)),
        (TASK_DUE_SOON, _("Task due soon"), "task_due_soon", ("task_due_soon_days",)),
        (TASK_OVERDUE, _("Task overdue"), "task_overdue", ()),
    ):  # fmt: skip
        register_kind(NotificationKind(key, label, template, lead))
    register_planner("resolutions.drafts", plan_drafts)
    register_planner("resolutions.tasks", plan_tasks)


def _roll(unit_ids, day: datetime.date, full_only: bool = False) -> dict[int, dict[int, int | None]]:
    """unit id -> {member id: login id or None} of members on the roll of the unit (or a cell under it)."""
    from cells.models import PartyUnit

    units = {u.pk: u.path for u in PartyUnit.objects.filter(pk__in=list(unit_ids)).only("pk", "path")}
    result: dict[int, dict[int, int]] = {pk: {} for pk in units}
    if not units:
        return result
    on_roll = Q(member__admitted_on__lte=day) & (Q(member__ended_on__isnull=True) | Q(member__ended_on__gt=day))
    if full_only:
        on_roll &= Q(member__full_member_on__lte=day)
    paths = Q()
    for path in units.values():
        paths |= Q(cell__path__startswith=path)
    for model in (Membership, TemporaryAttachment):
        rows = model.objects.filter(Membership.active_on(day), on_roll, paths)
        for cell_path, member_id, user_id in rows.values_list("cell__path", "member_id", "member__user_id"):
            for unit_id, path in units.items():
                if cell_path.startswith(path):
                    result[unit_id][member_id] = user_id
    return result


def _stamp(moment: datetime.datetime) -> str:
    # In UTC: a deadline read back from the database and the one a service just set name the same
    # occurrence whatever time zone they carry.
    return f"{moment.astimezone(datetime.UTC):%Y-%m-%dT%H:%M}"


def _recipients(members: dict[int, int | None]) -> dict:
    """plan()'s arguments for {member id: login id or None}: logins, and members without one."""
    return {
        "recipient_ids": {user for user in members.values() if user},
        "member_ids": {member for member, user in members.items() if not user},
    }


def _task_recipients(task: Task, committees: dict[int, Recipients]) -> dict:
    recipients = _recipients({m.pk: m.user_id for m in task.assignees.all()})
    if task.assigned_to_committee:
        committee = committees.get(task.unit_id, NOBODY)
        recipients["recipient_ids"] |= committee.users
        recipients["member_ids"] |= committee.members
    return recipients


def _window(now, setting: TreeSettings):
    longest = max([setting.default, *[v for v in setting.rows.values() if isinstance(v, int)]])
    return now + datetime.timedelta(hours=longest)


def plan_drafts(now: datetime.datetime) -> int:
    """Comments close within the lead (24 h by default): members who have not commented; a written
    consultation's vote closes within it: full members who have not voted."""
    today = timezone.localdate(now)
    hours = TreeSettings("draft_comment_reminder_hours")
    limit = _window(now, hours)
    commenting = list(
        Draft.objects.filter(
            status=Draft.Status.OPEN, comment_deadline__gt=now, comment_deadline__lte=limit
        ).select_related("unit")
    )
    voting = list(
        Draft.objects.filter(
            status=Draft.Status.VOTING, is_written_consultation=True, vote_deadline__gt=now, vote_deadline__lte=limit
        ).select_related("unit")
    )
    planned = 0
    if commenting:
        roll = _roll({d.unit_id for d in commenting}, today)
        commented = set(
            Comment.objects.filter(draft__in=commenting, withdrawn=False).values_list("draft_id", "author_id")
        )
        for draft in commenting:
            if draft.comment_deadline - datetime.timedelta(hours=hours.for_unit(draft.unit)) > now:
                continue
            missing = {m: u for m, u in roll[draft.unit_id].items() if (draft.pk, m) not in commented}
            planned += plan(
                kind=COMMENT_DEADLINE, obj=draft, **_recipients(missing),
                occurrence=f"comments:{_stamp(draft.comment_deadline)}", due_at=now,
                context={"draft": draft, "unit": draft.unit, "deadline": timezone.localtime(draft.comment_deadline)},
                url=reverse("resolutions:draft", args=[draft.uid]),
            )  # fmt: skip
    if voting:
        roll = _roll({d.unit_id for d in voting}, today, full_only=True)
        voted = set(ConsultationVote.objects.filter(draft__in=voting).values_list("draft_id", "member_id"))
        for draft in voting:
            if draft.vote_deadline - datetime.timedelta(hours=hours.for_unit(draft.unit)) > now:
                continue
            missing = {m: u for m, u in roll[draft.unit_id].items() if (draft.pk, m) not in voted}
            planned += plan(
                kind=VOTE_MISSING, obj=draft, **_recipients(missing),
                occurrence=f"vote:{_stamp(draft.vote_deadline)}", due_at=now,
                context={"draft": draft, "unit": draft.unit, "deadline": timezone.localtime(draft.vote_deadline)},
                url=reverse("resolutions:draft", args=[draft.uid]),
            )  # fmt: skip
    return planned


def plan_tasks(now: datetime.datetime) -> int:
    """Assignees (or the committee, for a task given to it) are told a few days before the due date
    and once it has passed without the task done."""
    today = timezone.localdate(now)
    days = TreeSettings("task_due_soon_days")
    longest = max([days.default, *[v for v in days.rows.values() if isinstance(v, int)]])
    tasks = list(
        Task.objects.exclude(status=Task.Status.DONE)
        .filter(due_on__isnull=False, due_on__lte=today + datetime.timedelta(days=longest))
        .select_related("unit")
        .prefetch_related("assignees")
    )
    committees = committee_recipients({t.unit_id for t in tasks if t.assigned_to_committee}, today)
    planned = 0
    for task in tasks:
        if task.due_on < today:
            kind, occurrence = TASK_OVERDUE, f"overdue:{task.due_on.isoformat()}"
        elif task.due_on <= today + datetime.timedelta(days=days.for_unit(task.unit)):
            kind, occurrence = TASK_DUE_SOON, f"due-soon:{task.due_on.isoformat()}"
        else:
            continue
        planned += plan(
            kind=kind, obj=task, **_task_recipients(task, committees), occurrence=occurrence, due_at=now,
            context={"task": task, "unit": task.unit, "due_on": task.due_on},
            url=reverse("resolutions:task", args=[task.uid]),
        )  # fmt: skip
    return planned


# --- Planned by the services, inside the transaction of the change ------------------------------


def _draft_url(draft: Draft) -> str:
    return reverse("resolutions:draft", args=[draft.uid])


def draft_changed(draft: Draft) -> None:
    """Comments opened or their deadline moved, a member commented or withdrew, comments closed,
    the written vote opened, a vote cast, voting closed: the reminders before each deadline go to
    exactly those who have not answered yet (the beat sweep stays as the safety net)."""
    commenting = draft.status == Draft.Status.OPEN
    voting = draft.status == Draft.Status.VOTING and draft.is_written_consultation
    answered = Comment.objects.filter(draft=draft, withdrawn=False).values_list("author_id", flat=True)
    _remind_missing(draft, COMMENT_DEADLINE, "comments", draft.comment_deadline if commenting else None, answered)
    voted = ConsultationVote.objects.filter(draft=draft).values_list("member_id", flat=True)
    _remind_missing(draft, VOTE_MISSING, "vote", draft.vote_deadline if voting else None, voted, full_only=True)


def _remind_missing(draft: Draft, kind: str, prefix: str, deadline, answered, full_only: bool = False) -> None:
    """Members of the roll who have not answered by the deadline are reminded before it; without an
    open deadline, what was waiting is cancelled."""
    now = timezone.now()
    if deadline is None or deadline <= now:
        cancel(obj=draft, kinds=[kind])
        return
    lead = datetime.timedelta(hours=settings_for(draft.unit)["draft_comment_reminder_hours"])
    answered = set(answered)
    roll = _roll([draft.unit_id], timezone.localdate(now), full_only=full_only)[draft.unit_id]
    replan(
        kind=kind, obj=draft,
        **_recipients({m: u for m, u in roll.items() if m not in answered}),
        occurrence=f"{prefix}:{_stamp(deadline)}",
        due_at=max(deadline - lead, now),
        context={"draft": draft, "unit": draft.unit, "deadline": timezone.localtime(deadline)},
        url=_draft_url(draft),
    )  # fmt: skip


def _morning(day: datetime.date) -> datetime.datetime:
    # Task reminders arrive at the start of a working day, in the cell's time zone.
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(8)))


def task_changed(task: Task) -> None:
    """A task assigned, reassigned, given a new due date, or done: its reminders before and after
    the due date are planned for the current assignees and date; a done task cancels them."""
    if task.status == Task.Status.DONE or task.due_on is None:
        cancel(obj=task, kinds=[TASK_DUE_SOON, TASK_OVERDUE])
        return
    now, today = timezone.now(), timezone.localdate()
    committees = committee_recipients([task.unit_id], today) if task.assigned_to_committee else {}
    recipients = _task_recipients(task, committees)
    days = settings_for(task.unit)["task_due_soon_days"]
    common = {
        "obj": task,
        "context": {"task": task, "unit": task.unit, "due_on": task.due_on},
        "url": reverse("resolutions:task", args=[task.uid]),
        **recipients,
    }
    if task.due_on >= today:
        replan(
            kind=TASK_DUE_SOON, occurrence=f"due-soon:{task.due_on.isoformat()}",
            due_at=max(_morning(task.due_on - datetime.timedelta(days=days)), now), **common,
        )  # fmt: skip
    else:
        cancel(obj=task, kinds=[TASK_DUE_SOON])
    replan(
        kind=TASK_OVERDUE, occurrence=f"overdue:{task.due_on.isoformat()}",
        due_at=max(_morning(task.due_on + datetime.timedelta(days=1)), now), **common,
    )  # fmt: skip
