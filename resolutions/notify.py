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

from meetings.notify import TreeSettings
from members.models import Membership, TemporaryAttachment
from members.notifications.planning import committee_user_ids, plan
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


def _roll(unit_ids, day: datetime.date, full_only: bool = False) -> dict[int, dict[int, int]]:
    """unit id -> {member id: login id} of members on the roll of the unit (or a cell under it)."""
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
        rows = model.objects.filter(Membership.active_on(day), on_roll, paths, member__user__isnull=False)
        for cell_path, member_id, user_id in rows.values_list("cell__path", "member_id", "member__user_id"):
            for unit_id, path in units.items():
                if cell_path.startswith(path):
                    result[unit_id][member_id] = user_id
    return result


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
            missing = [user for member, user in roll[draft.unit_id].items() if (draft.pk, member) not in commented]
            planned += plan(
                kind=COMMENT_DEADLINE, obj=draft, recipient_ids=missing,
                occurrence=f"comments:{draft.comment_deadline:%Y-%m-%dT%H:%M}", due_at=now,
                context={"draft": draft, "unit": draft.unit, "deadline": timezone.localtime(draft.comment_deadline)},
                url=reverse("resolutions:draft", args=[draft.uid]),
            )  # fmt: skip
    if voting:
        roll = _roll({d.unit_id for d in voting}, today, full_only=True)
        voted = set(ConsultationVote.objects.filter(draft__in=voting).values_list("draft_id", "member_id"))
        for draft in voting:
            if draft.vote_deadline - datetime.timedelta(hours=hours.for_unit(draft.unit)) > now:
                continue
            missing = [user for member, user in roll[draft.unit_id].items() if (draft.pk, member) not in voted]
            planned += plan(
                kind=VOTE_MISSING, obj=draft, recipient_ids=missing,
                occurrence=f"vote:{draft.vote_deadline:%Y-%m-%dT%H:%M}", due_at=now,
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
    committees = committee_user_ids({t.unit_id for t in tasks if t.assigned_to_committee}, today)
    planned = 0
    for task in tasks:
        if task.due_on < today:
            kind, occurrence = TASK_OVERDUE, f"overdue:{task.due_on.isoformat()}"
        elif task.due_on <= today + datetime.timedelta(days=days.for_unit(task.unit)):
            kind, occurrence = TASK_DUE_SOON, f"due-soon:{task.due_on.isoformat()}"
        else:
            continue
        recipients = {m.user_id for m in task.assignees.all() if m.user_id}
        if task.assigned_to_committee:
            recipients |= committees.get(task.unit_id, set())
        planned += plan(
            kind=kind, obj=task, recipient_ids=recipients, occurrence=occurrence, due_at=now,
            context={"task": task, "unit": task.unit, "due_on": task.due_on},
            url=reverse("resolutions:task", args=[task.uid]),
        )  # fmt: skip
    return planned
