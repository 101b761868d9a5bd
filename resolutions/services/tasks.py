"""Implementation tasks: taken from an issued resolution's tasks section (the committee confirms the
list) or added by hand; assignees report progress; the next regular meeting reviews each task.

Who may write: the committee (MANAGE_RESOLUTIONS on the task's unit) creates, edits and reviews
tasks; an assignee reports progress on their own task (a task given to the committee takes
progress from any committee member). The views check the door (resolutions.access); the services
check the rules that hold whatever the caller (assignees on the roll, the review's meeting open).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from cells.models import PartyUnit
from cells.text import fold, nfc
from meetings.models import Meeting
from members.access import Action, can
from members.models import Member, Membership, TemporaryAttachment, User

from .. import notify, text
from ..models import Resolution, Task, TaskProgressNote, TaskReview

TEXT_MAX = 2_000
NOTE_MAX = 4_000
TASKS_SECTION_KEY = "nhiem-vu"
# A list item: "- x", "* x", "+ x", "1. x", "1) x", "a) x", "a. x" (letters of the Vietnamese alphabet too).
ITEM_RE = re.compile(r"^\s{0,3}(?:[-*+•]|\d{1,2}[.)]|[a-zđ][.)])\s+(.*\S)\s*$", re.IGNORECASE)


# --- Parsing the tasks section ------------------------------------------------------------------------


def tasks_section(body: str) -> text.Section | None:
    """The section that lists tasks: keyed nhiem-vu, else the first heading that speaks of tasks."""
    sections = text.parse_sections(body)
    for section in sections:
        if section.key == TASKS_SECTION_KEY or section.key.startswith(TASKS_SECTION_KEY + "-"):
            return section
    for section in sections:
        if "nhiem vu" in fold(section.heading):
            return section
    return None


def parse_task_items(body: str) -> list[str]:
    """The list items of the tasks section, in order; a line that continues an item joins it."""
    section = tasks_section(body)
    if section is None:
        return []
    items: list[str] = []
    for line in section.body.split("\n"):
        match = ITEM_RE.match(line)
        if match:
            items.append(match.group(1).strip())
        elif line.strip() and items and line.startswith((" ", "\t")):
            items[-1] = f"{items[-1]} {line.strip()}"
    # Markdown emphasis is not wanted in a task line.
    return [nfc(re.sub(r"(\*\*|__|\*|_)(.+?)\1", r"\2", item))[:TEXT_MAX] for item in items if item.strip()]


# --- Rules ----------------------------------------------------------------------------------------------


def members_of(unit: PartyUnit, day: datetime.date | None = None) -> QuerySet[Member]:
    """Who can be given a task of the unit: its roll and members temporarily attached to it."""
    day = day or timezone.localdate()
    on_roll = Membership.objects.filter(Membership.active_on(day), cell=unit).values("member_id")
    attached = TemporaryAttachment.objects.filter(Membership.active_on(day), cell=unit).values("member_id")
    return Member.objects.filter(Q(pk__in=on_roll) | Q(pk__in=attached)).order_by("search_name")


def _clean_fields(
    *, unit: PartyUnit, text_: str, due_on: datetime.date | None, assignees: Iterable[Member], committee: bool
) -> tuple[str, list[Member]]:
    errors: dict[str, list[str]] = {}
    cleaned = nfc(text_ or "")
    if not cleaned:
        errors.setdefault("text", []).append(_("Write what is to be done."))
    elif len(cleaned) > TEXT_MAX:
        errors.setdefault("text", []).append(_("The task is too long (at most %(n)s characters).") % {"n": TEXT_MAX})
    people = list(dict.fromkeys(assignees))
    if not people and not committee:
        errors.setdefault("assignees", []).append(_("Give the task to at least one member or to the committee."))
    if people:
        allowed = set(members_of(unit).filter(pk__in=[m.pk for m in people]).values_list("pk", flat=True))
        strangers = [m.full_name for m in people if m.pk not in allowed]
        if strangers:
            errors.setdefault("assignees", []).append(
                _("Not on the roll of this cell: %(names)s.") % {"names": ", ".join(strangers)}
            )
    if due_on and due_on.year < 2000:
        errors.setdefault("due_on", []).append(_("Check the due date."))
    if errors:
        raise ValidationError(errors)
    return cleaned, people


def may_report(user: User, member: Member | None, task: Task) -> bool:
    """Assignees report progress on their task; on a committee task, any committee member."""
    if member is not None and any(a.pk == member.pk for a in task.assignees.all()):
        return True
    return task.assigned_to_committee and can(user, Action.MANAGE_RESOLUTIONS, task.unit)


def _lock(task: Task) -> Task:
    return Task.objects.select_for_update(of=("self",)).select_related("unit", "resolution").get(pk=task.pk)


# --- Writing ---------------------------------------------------------------------------------------------


@transaction.atomic
def task_create(
    *,
    unit: PartyUnit,
    text_: str,
    by: User,
    due_on: datetime.date | None = None,
    assignees: Iterable[Member] = (),
    assigned_to_committee: bool = False,
    resolution: Resolution | None = None,
) -> Task:
    if resolution is not None and resolution.unit_id != unit.pk:
        raise ValidationError(_("The resolution belongs to another unit."))
    cleaned, people = _clean_fields(
        unit=unit, text_=text_, due_on=due_on, assignees=assignees, committee=assigned_to_committee
    )
    order = 0
    if resolution is not None:
        order = Task.objects.filter(resolution=resolution).count() + 1
    task = Task(
        unit=unit,
        resolution=resolution,
        text=cleaned,
        due_on=due_on,
        assigned_to_committee=assigned_to_committee,
        order=order,
        created_by=by,
    )
    task.full_clean()
    task.save()
    task.assignees.set(people)
    notify.task_changed(task)
    return task


@dataclass
class TaskItem:
    """One confirmed line of a resolution's tasks section."""

    text: str
    due_on: datetime.date | None = None
    assignees: tuple[Member, ...] = ()
    assigned_to_committee: bool = False


@transaction.atomic
def tasks_from_resolution(*, resolution: Resolution, items: list[TaskItem], by: User) -> list[Task]:
    """Create the tasks the committee confirmed from the resolution's tasks section, in order."""
    if not items:
        raise ValidationError(_("Keep at least one task, or add tasks by hand."))
    # The lock on the resolution row keeps two committee members from creating the list twice.
    Resolution.objects.select_for_update().filter(pk=resolution.pk).first()
    if Task.objects.filter(resolution=resolution).exists():
        raise ValidationError(_("The tasks of this resolution have already been created; edit them one by one."))
    errors: list[str] = []
    rows: list[tuple[Task, list[Member]]] = []
    for i, item in enumerate(items, start=1):
        try:
            cleaned, people = _clean_fields(
                unit=resolution.unit,
                text_=item.text,
                due_on=item.due_on,
                assignees=item.assignees,
                committee=item.assigned_to_committee,
            )
        except ValidationError as exc:
            errors += [_("Task %(n)s: %(error)s") % {"n": i, "error": m} for m in exc.messages]
            continue
        task = Task(
            unit=resolution.unit,
            resolution=resolution,
            text=cleaned,
            due_on=item.due_on,
            assigned_to_committee=item.assigned_to_committee,
            order=i,
            created_by=by,
        )
        rows.append((task, people))
    if errors:
        raise ValidationError(errors)
    tasks = []
    for task, people in rows:
        task.save()
        task.assignees.set(people)
        notify.task_changed(task)
        tasks.append(task)
    return tasks


@transaction.atomic
def task_update(
    *,
    task: Task,
    by: User,
    text_: str,
    due_on: datetime.date | None,
    assignees: Iterable[Member],
    assigned_to_committee: bool,
) -> Task:
    task = _lock(task)
    cleaned, people = _clean_fields(
        unit=task.unit, text_=text_, due_on=due_on, assignees=assignees, committee=assigned_to_committee
    )
    task.text, task.due_on, task.assigned_to_committee = cleaned, due_on, assigned_to_committee
    task.full_clean()
    task.save()
    if set(task.assignees.values_list("pk", flat=True)) != {m.pk for m in people}:
        task.assignees.set(people)
    notify.task_changed(task)  # reassigned or a new due date: reminders follow
    return task


def _apply_status(task: Task, status: str) -> None:
    if status not in Task.Status.values:
        raise ValidationError({"status": _("Choose a status from the list.")})
    task.status = status
    task.completed_on = timezone.localdate() if status == Task.Status.DONE else None


@transaction.atomic
def task_set_status(*, task: Task, status: str, by: User) -> Task:
    task = _lock(task)
    if task.status != status:
        _apply_status(task, status)
        task.save()
        notify.task_changed(task)  # done: reminders still waiting are cancelled
    return task


@transaction.atomic
def task_progress_add(
    *, task: Task, author: Member | None, text_: str, by: User, status: str | None = None
) -> TaskProgressNote:
    """An assignee reports progress, and may move the task on (in progress, done) at the same time."""
    task = _lock(task)
    if author is None or not may_report(by, author, task):
        raise ValidationError(_("Only the members the task is given to can report progress on it."))
    cleaned = (text_ or "").strip()
    if not cleaned:
        raise ValidationError({"text": _("Write what has been done.")})
    if len(cleaned) > NOTE_MAX:
        raise ValidationError({"text": _("The report is too long (at most %(n)s characters).") % {"n": NOTE_MAX}})
    note = TaskProgressNote(task=task, author=author, text=cleaned)
    note.full_clean()
    note.save()
    if status and status != task.status:
        _apply_status(task, status)
        task.save()
        notify.task_changed(task)
    elif task.status == Task.Status.NOT_STARTED:
        # Reporting progress means the work has begun.
        _apply_status(task, Task.Status.IN_PROGRESS)
        task.save()
    return note


@transaction.atomic
def task_review_record(*, task: Task, meeting: Meeting, assessment: str, by: User) -> TaskReview:
    """The meeting's assessment of one task (one per task and meeting; saving again replaces it)."""
    task = _lock(task)
    if meeting.unit_id != task.unit_id:
        raise ValidationError(_("The meeting must be one of this cell's meetings."))
    if meeting.is_closed:
        raise ValidationError(_("The minutes of this meeting are closed; add an addendum instead."))
    if meeting.status == Meeting.Status.CANCELLED:
        raise ValidationError(_("The meeting was cancelled."))
    cleaned = (assessment or "").strip()
    if not cleaned:
        raise ValidationError({"assessment": _("Write the meeting's assessment of the task.")})
    if len(cleaned) > NOTE_MAX:
        raise ValidationError({"assessment": _("The assessment is too long.")})
    review = TaskReview.objects.filter(task=task, meeting=meeting).first() or TaskReview(task=task, meeting=meeting)
    review.status_at_review = task.status
    review.assessment = cleaned
    review.reviewed_by = by
    review.full_clean()
    review.save()
    return review


# --- Reading ---------------------------------------------------------------------------------------------


def with_people(tasks: QuerySet[Task]) -> QuerySet[Task]:
    """Assignees and the resolution in a fixed number of queries, whatever the number of tasks."""
    return tasks.select_related("unit", "resolution").prefetch_related("assignees")


def mine(user: User, member: Member | None, scope: QuerySet[Task]) -> QuerySet[Task]:
    """The user's tasks within scope: given to their member record, or to a committee they sit on."""
    from members.access import units_for

    own = Q(assignees=member) if member is not None else Q(pk__in=[])
    committee = Q(assigned_to_committee=True, unit__in=units_for(user, Action.MANAGE_RESOLUTIONS))
    ids = scope.filter(own | committee).values("pk")
    return Task.objects.filter(pk__in=ids)


def filter_state(tasks: QuerySet[Task], state: str, day: datetime.date | None = None) -> QuerySet[Task]:
    """open (not done), overdue (open and past due), done, or every task."""
    day = day or timezone.localdate()
    if state == "open":
        return tasks.exclude(status=Task.Status.DONE)
    if state == "overdue":
        return tasks.exclude(status=Task.Status.DONE).filter(due_on__lt=day)
    if state == "done":
        return tasks.filter(status=Task.Status.DONE)
    return tasks


def last_resolution_before(meeting: Meeting) -> Resolution | None:
    """The resolution whose tasks this meeting reviews: the cell's latest one with tasks, issued
    before the meeting's day and not passed at this meeting."""
    day = timezone.localdate(meeting.scheduled_start)
    return (
        Resolution.objects.filter(unit_id=meeting.unit_id, issued_on__lte=day, tasks__isnull=False)
        .exclude(meeting=meeting)
        .order_by("-issued_on", "-number", "-pk")
        .distinct()
        .first()
    )
