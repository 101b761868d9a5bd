"""What resolutions adds to a meeting (through meetings.agenda's registries, filled in apps.py):
under the regular meeting's "assessment" item, the tasks of the last resolution — open and done,
with the latest progress report — and the review recorded at this meeting, on the minutes page
(with a form per task for the committee while the minutes are open) and in the biên bản PDF.
"""

from __future__ import annotations

from django.db.models import Prefetch
from django.template.loader import render_to_string
from django.utils import timezone

from meetings.models import Meeting
from members.access import Action, can

from .exports import KIND_VI, STATUS_VI, task_state_vi
from .models import Task, TaskProgressNote, TaskReview
from .services import tasks as services
from .services.register import assignee_names

ITEM_KEY = "assessment"


def review_rows(meeting: Meeting):
    """(resolution, tasks) reviewed at this meeting; each task carries its latest note and this
    meeting's review. A fixed number of queries."""
    resolution = services.last_resolution_before(meeting)
    if resolution is None:
        return None, []
    notes = TaskProgressNote.objects.select_related("author").order_by("-at", "-pk")
    tasks = list(
        Task.objects.filter(resolution=resolution)
        .prefetch_related(
            "assignees",
            Prefetch("progress_notes", queryset=notes),
            Prefetch("reviews", queryset=TaskReview.objects.filter(meeting=meeting), to_attr="this_review"),
        )
        .order_by("order", "pk")
    )
    day = timezone.localdate(meeting.scheduled_start)
    for task in tasks:
        task_notes = list(task.progress_notes.all())
        task.last_note = task_notes[0] if task_notes else None
        task.review = task.this_review[0] if task.this_review else None
        task.overdue = task.is_overdue_on(day)
        task.who = assignee_names(task)
    return resolution, tasks


def assessment_detail(meeting, item, *, document: bool = False, request=None) -> str:
    if getattr(item, "key", "") != ITEM_KEY or meeting.kind != Meeting.Kind.REGULAR:
        return ""
    resolution, tasks = review_rows(meeting)
    if resolution is None:
        return ""
    if document:
        day = timezone.localdate(meeting.scheduled_start)
        for task in tasks:
            task.who = assignee_names(task, committee="Chi ủy")
            task.state_vi = STATUS_VI.get(task.review.status_at_review, "") if task.review else task_state_vi(task, day)
        done = [t for t in tasks if t.status == Task.Status.DONE]
        return render_to_string(
            "resolutions/tasks/minutes_review_pdf.html",
            {"resolution": resolution, "kind": KIND_VI[resolution.kind].lower(), "tasks": tasks, "done": len(done)},
        )
    user = getattr(request, "user", None)
    can_review = bool(
        user is not None
        and not meeting.is_closed
        and meeting.status != Meeting.Status.CANCELLED
        and can(user, Action.MANAGE_MEETINGS, meeting.unit)
    )
    return render_to_string(
        "resolutions/tasks/minutes_review.html",
        {
            "resolution": resolution,
            "open_tasks": [t for t in tasks if t.status != Task.Status.DONE],
            "done_tasks": [t for t in tasks if t.status == Task.Status.DONE],
            "meeting": meeting,
            "can_review": can_review,
        },
        request=request,
    )


def register() -> None:
    from meetings import agenda

    agenda.register_item_detail(assessment_detail)
