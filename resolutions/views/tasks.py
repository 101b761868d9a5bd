"""Tasks: "my tasks", the committee's list per unit, a task's page with progress reports, creating
tasks by hand or from a resolution's tasks section, the meeting's review, and the change history.

Every task comes through resolutions.access (404 outside scope, 403 for a read-only role); every
write goes through resolutions.services.tasks.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.forms import formset_factory
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from cells.models import PartyUnit
from meetings.access import get_meeting_for_user
from members import audit
from members.access import Action, can, get_unit_for_user
from members.models import Member
from members.views.common import apply_service

from ..access import get_resolution_for_user, get_task_for_user, member_of, tasks_for
from ..forms.tasks import ProgressForm, ReviewForm, TaskForm, TaskItemForm
from ..models import Task, TaskProgressNote, TaskReview
from ..services import tasks as services

PAGE_SIZE = 20
STATES = [
    ("open", gettext_lazy("Still open")),
    ("overdue", gettext_lazy("Overdue")),
    ("done", gettext_lazy("Done")),
    ("all", gettext_lazy("All")),
]


def _listing(tasks, request, default_state: str = "open"):
    """Filter by state, page, and attach the latest progress note: a fixed number of queries."""
    state = request.GET.get("state", default_state)
    if state not in dict(STATES):
        state = default_state
    today = timezone.localdate()
    notes = TaskProgressNote.objects.select_related("author").order_by("-at", "-pk")
    rows = (
        services.with_people(services.filter_state(tasks, state, today))
        .prefetch_related(Prefetch("progress_notes", queryset=notes))
        .order_by("status" if state == "all" else "due_on", "due_on", "order", "pk")
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    for task in page.object_list:
        task.overdue = task.is_overdue_on(today)
        notes_list = list(task.progress_notes.all())
        task.last_note, task.note_count = (notes_list[0] if notes_list else None), len(notes_list)
    return page, state


@login_required
@require_GET
def my_tasks(request):
    member = member_of(request.user)
    page, state = _listing(services.mine(request.user, member, tasks_for(request.user)), request)
    return render(
        request,
        "resolutions/tasks/my_tasks.html",
        {"page": page, "state": state, "states": STATES, "member": member, "progress_form": ProgressForm()},
    )


def _unit_for_tasks(user, unit_uid) -> PartyUnit:
    unit = get_unit_for_user(user, unit_uid)
    if unit.kind not in (PartyUnit.Kind.CELL, PartyUnit.Kind.GRASSROOTS_COMMITTEE):
        raise Http404
    if not can(user, Action.VIEW_RESOLUTIONS, unit):
        raise Http404
    return unit


@login_required
def unit_tasks(request, unit_uid):
    unit = _unit_for_tasks(request.user, unit_uid)
    page, state = _listing(tasks_for(request.user).filter(unit=unit), request)
    return render(
        request,
        "resolutions/tasks/unit_tasks.html",
        {
            "unit": unit,
            "page": page,
            "state": state,
            "states": STATES,
            "can_manage": can(request.user, Action.MANAGE_RESOLUTIONS, unit),
        },
    )


@login_required
def task_create(request, unit_uid):
    unit = _unit_for_tasks(request.user, unit_uid)
    if not can(request.user, Action.MANAGE_RESOLUTIONS, unit):
        raise PermissionDenied
    form = TaskForm(request.POST or None, unit=unit)
    if request.method == "POST" and form.is_valid():
        task = apply_service(form, lambda: services.task_create(unit=unit, by=request.user, **form.service_fields()))
        if task:
            messages.success(request, _("The task was added."))
            return redirect("resolutions:task", task.uid)
    return render(
        request,
        "resolutions/tasks/task_form.html",
        {
            "form": form,
            "unit": unit,
            "creating": True,
            "cancel_url": reverse("resolutions:unit_tasks", args=[unit.uid]),
        },
    )


@login_required
def task_edit(request, uid):
    task = get_task_for_user(request.user, uid, write=True)
    initial = {
        "text": task.text,
        "due_on": task.due_on,
        "assignees": list(task.assignees.all()),
        "assigned_to_committee": task.assigned_to_committee,
    }
    form = TaskForm(request.POST or None, unit=task.unit, initial=initial)
    if request.method == "POST" and form.is_valid():
        updated = apply_service(form, lambda: services.task_update(task=task, by=request.user, **form.service_fields()))
        if updated:
            messages.success(request, _("The task was saved."))
            return redirect("resolutions:task", task.uid)
    return render(
        request,
        "resolutions/tasks/task_form.html",
        {"form": form, "unit": task.unit, "task": task, "cancel_url": reverse("resolutions:task", args=[task.uid])},
    )


def _detail_context(request, task: Task, progress_form=None) -> dict:
    member = member_of(request.user)
    notes = list(task.progress_notes.select_related("author").order_by("-at", "-pk"))
    reviews = list(task.reviews.select_related("meeting", "reviewed_by").order_by("-meeting__scheduled_start"))
    return {
        "task": task,
        "assignees": list(task.assignees.all()),
        "notes": notes,
        "reviews": reviews,
        "overdue": task.is_overdue_on(timezone.localdate()),
        "may_report": services.may_report(request.user, member, task),
        "can_manage": can(request.user, Action.MANAGE_RESOLUTIONS, task.unit),
        "can_audit": can(request.user, Action.VIEW_AUDIT, task.unit),
        "progress_form": progress_form or ProgressForm(initial={"status": task.status}),
        "statuses": Task.Status.choices,
    }


@login_required
def task_detail(request, uid):
    task = get_task_for_user(request.user, uid)
    return render(request, "resolutions/tasks/task_detail.html", _detail_context(request, task))


@login_required
@require_POST
def task_progress(request, uid):
    task = get_task_for_user(request.user, uid)
    member = member_of(request.user)
    if not services.may_report(request.user, member, task):
        raise PermissionDenied
    form = ProgressForm(request.POST)
    if form.is_valid():
        note = apply_service(
            form,
            lambda: services.task_progress_add(
                task=task,
                author=member,
                text_=form.cleaned_data["text"],
                status=form.cleaned_data["status"] or None,
                by=request.user,
            ),
        )
        if note:
            messages.success(request, _("Your progress report was saved."))
            target = request.POST["next"] if _safe_next(request) else reverse("resolutions:task", args=[uid])
            return redirect(target)
    task.refresh_from_db()
    return render(request, "resolutions/tasks/task_detail.html", _detail_context(request, task, form), status=400)


def _safe_next(request) -> bool:
    from django.utils.http import url_has_allowed_host_and_scheme

    target = request.POST.get("next", "")
    return bool(target) and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()})


@login_required
@require_POST
def task_status(request, uid):
    task = get_task_for_user(request.user, uid, write=True)
    status = request.POST.get("status", "")
    if status not in Task.Status.values:
        messages.error(request, _("Choose a status from the list."))
    else:
        services.task_set_status(task=task, status=status, by=request.user)
        messages.success(request, _("The status was saved."))
    return redirect("resolutions:task", task.uid)


@login_required
def task_history(request, uid):
    task = get_task_for_user(request.user, uid)
    if not can(request.user, Action.VIEW_AUDIT, task.unit):
        raise PermissionDenied
    sources = [
        audit.HistorySource(Task.history.filter(id=task.pk), lambda row, names: str(_("Task"))),
        audit.HistorySource(
            TaskProgressNote.history.filter(task_id=task.pk),
            lambda row, names: _("Progress report by %(name)s") % {"name": names.of(Member, row.author_id)},
        ),
        audit.HistorySource(
            TaskReview.history.filter(task_id=task.pk), lambda row, names: str(_("Review at a meeting"))
        ),
    ]
    page, entries = audit.history_page(sources, request.GET.get("page"))
    return render(request, "resolutions/tasks/history.html", {"task": task, "page": page, "entries": entries})


# --- Tasks from a resolution's tasks section ---------------------------------------------------------


@login_required
def resolution_tasks(request, uid):
    """The committee confirms the tasks parsed from the resolution's tasks section."""
    resolution = get_resolution_for_user(request.user, uid)
    if not can(request.user, Action.MANAGE_RESOLUTIONS, resolution.unit):
        raise PermissionDenied
    if resolution.tasks.exists():
        messages.info(request, _("The tasks of this resolution have already been created; edit them one by one."))
        return redirect(reverse("resolutions:unit_tasks", args=[resolution.unit.uid]) + "?state=all")
    items = services.parse_task_items(resolution.body)
    ItemFormSet = formset_factory(TaskItemForm, extra=0 if items else 1)
    initial = [{"text": item, "keep": True, "assigned_to_committee": True} for item in items]
    formset = ItemFormSet(request.POST or None, initial=initial, form_kwargs={"unit": resolution.unit}, prefix="t")
    error = None
    if request.method == "POST" and formset.is_valid():
        chosen = [
            services.TaskItem(
                text=f.cleaned_data["text"],
                due_on=f.cleaned_data["due_on"],
                assignees=tuple(f.cleaned_data["assignees"]),
                assigned_to_committee=f.cleaned_data["assigned_to_committee"],
            )
            for f in formset.forms
            if f.cleaned_data.get("keep") and (f.cleaned_data.get("text") or "").strip()
        ]
        try:
            created = services.tasks_from_resolution(resolution=resolution, items=chosen, by=request.user)
        except ValidationError as exc:
            error = exc.messages
        else:
            messages.success(request, _("%(n)s tasks were created.") % {"n": len(created)})
            return redirect(reverse("resolutions:unit_tasks", args=[resolution.unit.uid]) + "?state=all")
    return render(
        request,
        "resolutions/tasks/from_resolution.html",
        {"resolution": resolution, "formset": formset, "parsed": bool(items), "errors": error},
    )


# --- The meeting's review ------------------------------------------------------------------------------


@login_required
@require_POST
def task_review(request, uid, meeting_uid):
    meeting = get_meeting_for_user(request.user, meeting_uid, write=True)
    task = get_task_for_user(request.user, uid)
    if task.unit_id != meeting.unit_id:
        raise Http404
    form = ReviewForm(request.POST)
    back = reverse("meetings:minutes", args=[meeting.uid]) + "#task-review"
    if form.is_valid():
        try:
            services.task_review_record(
                task=task, meeting=meeting, assessment=form.cleaned_data["assessment"], by=request.user
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("The review of the task was saved."))
    return redirect(back)


def home_panel(request, **context) -> dict | None:
    """The home page's "My tasks" card: the open ones, nearest due first (members.panels registry)."""
    member = member_of(request.user)
    if member is None:
        return None
    today = timezone.localdate()
    rows = services.filter_state(services.mine(request.user, member, tasks_for(request.user)), "open", today)
    tasks = list(services.with_people(rows).order_by("due_on", "order", "pk")[:5])
    for task in tasks:
        task.overdue = task.is_overdue_on(today)
    return {"template": "resolutions/tasks/home_panel.html", "tasks": tasks, "count": rows.count()}
