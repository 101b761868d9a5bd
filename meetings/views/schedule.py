"""Scheduling, the calendar, a meeting's page, its agenda, materials and .ics file.

Every meeting comes through meetings.access (404 outside scope, 403 for a read-only role); every
write goes through meetings.services or meetings.uploads.
"""

from __future__ import annotations

import calendar as pycalendar
import datetime
from collections import defaultdict

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import OuterRef, Q, Subquery
from django.http import FileResponse, Http404, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cells.models import PartyUnit
from cells.tree_settings import get_setting
from members.access import Action, can, get_unit_for_user
from members.views.common import apply_service, apply_transition

from .. import services, uploads
from ..access import can_manage, get_meeting_for_user, meetings_for
from ..forms.schedule import (
    AgendaItemAddForm,
    AgendaItemRenameForm,
    CancelForm,
    MaterialForm,
    MeetingEditForm,
    MeetingForm,
)
from ..ics import meeting_ics
from ..models import Material, Meeting

PAGE_SIZE = 20
READ_METHODS = ("GET", "HEAD")


def _cell_for_user(user, unit_uid) -> PartyUnit:
    """A cell whose meetings the user may see; any other unit has no calendar (404)."""
    unit = get_unit_for_user(user, unit_uid)
    if unit.kind != PartyUnit.Kind.CELL or not can(user, Action.VIEW_MEETINGS, unit):
        raise Http404
    return unit


def _material_for_user(user, uid, write: bool = False) -> Material:
    material = (
        Material.objects.filter(uid=uid, meeting__in=meetings_for(user))
        .select_related("meeting", "meeting__unit")
        .first()
    )
    if material is None:
        raise Http404
    if write and not can_manage(user, material.meeting):
        raise PermissionDenied
    return material


def _day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


# --- Calendar -------------------------------------------------------------------------------------


def _month_from(value: str | None, today: datetime.date) -> datetime.date:
    try:
        year, month = (int(part) for part in (value or "").split("-"))
        return datetime.date(year, month, 1)
    except ValueError:
        return today.replace(day=1)


@login_required
def calendar(request, unit_uid):
    unit = _cell_for_user(request.user, unit_uid)
    if request.method not in READ_METHODS:
        return HttpResponseNotAllowed(READ_METHODS)
    today = timezone.localdate()
    visible = meetings_for(request.user).filter(unit=unit)
    mode = request.GET.get("view", "month")
    context = {
        "unit": unit,
        "mode": mode,
        "today": today,
        "can_manage": can(request.user, Action.MANAGE_MEETINGS, unit),
    }
    if mode in ("upcoming", "past"):
        if mode == "upcoming":
            rows = visible.filter(scheduled_start__gte=_day_start(today)).order_by("scheduled_start")
        else:
            rows = visible.filter(scheduled_start__lt=_day_start(today)).order_by("-scheduled_start")
        context["page"] = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
        return render(request, "meetings/calendar.html", context)

    context["mode"] = "month"
    first = _month_from(request.GET.get("month"), today)
    weeks = pycalendar.Calendar(firstweekday=0).monthdatescalendar(first.year, first.month)
    by_day = defaultdict(list)
    rows = visible.filter(
        scheduled_start__gte=_day_start(weeks[0][0]),
        scheduled_start__lt=_day_start(weeks[-1][-1] + datetime.timedelta(days=1)),
    ).order_by("scheduled_start")
    for meeting in rows:
        by_day[timezone.localdate(meeting.scheduled_start)].append(meeting)
    previous = (first - datetime.timedelta(days=1)).replace(day=1)
    following = (first + datetime.timedelta(days=31)).replace(day=1)
    context.update(
        month=first,
        previous=previous,
        following=following,
        weekdays=[WEEKDAYS_ABBR[i] for i in range(7)],
        weeks=[[(day, day.month == first.month, by_day.get(day, [])) for day in week] for week in weeks],
        days=[(day, by_day[day]) for day in sorted(by_day) if day.month == first.month],
    )
    return render(request, "meetings/calendar.html", context)


# --- Scheduling --------------------------------------------------------------------------------------


def _schedule_initial(request, unit: PartyUnit) -> dict:
    initial = {"planned_minutes": 120}
    if request.GET.get("kind") in Meeting.Kind.values:
        initial["kind"] = request.GET["kind"]
    else:
        initial["kind"] = Meeting.Kind.REGULAR
    try:
        initial["date"] = datetime.date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        pass
    # Cells meet in the same hall month after month.
    last = Meeting.objects.filter(unit=unit).exclude(place="").order_by("-scheduled_start").first()
    if last:
        initial.update(place=last.place, time=timezone.localtime(last.scheduled_start).time())
    return initial


@login_required
def meeting_create(request, unit_uid):
    unit = _cell_for_user(request.user, unit_uid)
    if not can(request.user, Action.MANAGE_MEETINGS, unit):
        raise PermissionDenied
    form = MeetingForm(request.POST or None, cell=unit, initial=_schedule_initial(request, unit))
    if request.method == "POST" and form.is_valid():
        meeting = apply_service(
            form,
            lambda: services.meeting_schedule(
                unit=unit, by=request.user, presenters=form.cleaned_data["presenters"], **form.service_fields()
            ),
        )
        if meeting:
            messages.success(request, _("The meeting was scheduled."))  # its warnings show on its page
            return redirect("meetings:detail", meeting.uid)
    return render(request, "meetings/meeting_form.html", {"form": form, "unit": unit, "creating": True})


@login_required
def meeting_edit(request, uid):
    meeting = get_meeting_for_user(request.user, uid, write=True)
    if meeting.status in (Meeting.Status.CLOSED, Meeting.Status.CANCELLED):
        messages.error(request, _("A closed or cancelled meeting can no longer be changed."))
        return redirect("meetings:detail", meeting.uid)
    local = timezone.localtime(meeting.scheduled_start)
    initial = {
        "kind": meeting.kind,
        "period_month": meeting.period_month,
        "period_year": meeting.period_year,
        "combined_thematic": meeting.combined_thematic,
        "topic": meeting.topic,
        "presenters": list(meeting.presenters.values_list("pk", flat=True)),
        "date": local.date(),
        "time": local.time(),
        "planned_minutes": meeting.planned_minutes,
        "place": meeting.place,
        "online_link": meeting.online_link,
    }
    form = MeetingEditForm(request.POST or None, cell=meeting.unit, meeting=meeting, initial=initial)
    if request.method == "POST" and form.is_valid():
        updated = apply_service(
            form,
            lambda: services.meeting_update(
                meeting=meeting,
                by=request.user,
                presenters=form.cleaned_data["presenters"],
                reason=form.cleaned_data["reason"],
                **form.service_fields(),
            ),
        )
        if updated:
            messages.success(request, _("The meeting was saved."))
            if updated.revision != meeting.revision:
                messages.info(request, _("The time or place changed: members will get the new details."))
            return redirect("meetings:detail", updated.uid)
    return render(request, "meetings/meeting_form.html", {"form": form, "unit": meeting.unit, "meeting": meeting})


@login_required
def meeting_cancel(request, uid):
    meeting = get_meeting_for_user(request.user, uid, write=True)
    if meeting.status not in (Meeting.Status.DRAFT, Meeting.Status.SCHEDULED):
        messages.error(request, _("Only a meeting that has not started can be cancelled."))
        return redirect("meetings:detail", meeting.uid)
    form = CancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        reason = form.cleaned_data["reason"]
        cancelled = apply_service(
            form, lambda: services.meeting_cancel(meeting=meeting, reason=reason, by=request.user)
        )
        if cancelled:
            messages.success(request, _("The meeting was cancelled."))
            return redirect("meetings:detail", meeting.uid)
    return render(
        request,
        "meetings/cancel.html",
        {
            "form": form,
            "meeting": meeting,
            "title": _("Cancel the meeting"),
            "submit_label": _("Cancel the meeting"),
            "back_label": _("Keep the meeting"),
        },
    )


def _transition(request, uid, call, done: str):
    return apply_transition(request, get_meeting_for_user(request.user, uid, write=True), call, done, "meetings:detail")


@login_required
@require_POST
def meeting_open(request, uid):
    return _transition(
        request,
        uid,
        lambda meeting: services.meeting_open(meeting=meeting, by=request.user),
        _("The meeting has started: take the attendance."),
    )


@login_required
@require_POST
def meeting_finish(request, uid):
    return _transition(
        request,
        uid,
        lambda meeting: services.meeting_finish(meeting=meeting, by=request.user),
        _("The meeting has ended: complete and close the minutes."),
    )


# --- A meeting's page ---------------------------------------------------------------------------------


def _committee_meeting_missing(meeting: Meeting) -> bool:
    """A regular meeting with no committee meeting in the window before it (DOMAIN.md "Cadence")."""
    window = datetime.timedelta(days=get_setting(meeting.unit, "committee_premeeting_days"))
    start = meeting.scheduled_start
    return not (
        Meeting.objects.filter(unit=meeting.unit, kind=Meeting.Kind.COMMITTEE)
        .filter(scheduled_start__lt=start, scheduled_start__gte=start - window)
        .exclude(status=Meeting.Status.CANCELLED)
        .exists()
    )


def _detail_context(request, meeting: Meeting, material_form=None) -> dict:
    manage = can_manage(request.user, meeting)
    planning = manage and meeting.status in (Meeting.Status.DRAFT, Meeting.Status.SCHEDULED)
    # The committee sees what is still missing until it is fixed (warnings, never blocks).
    warnings = services.schedule_warnings(meeting) if planning else []
    committee_missing = planning and meeting.kind == Meeting.Kind.REGULAR and _committee_meeting_missing(meeting)
    local_start = timezone.localtime(meeting.scheduled_start)
    # As the minutes page allows: committees above read them as they are written, members once closed.
    written = meeting.status in (Meeting.Status.IN_PROGRESS, Meeting.Status.HELD)
    can_read_minutes = meeting.status == Meeting.Status.CLOSED or (
        written and can(request.user, Action.VIEW_MEMBERS, meeting.unit)
    )
    return {
        "can_read_minutes": can_read_minutes,
        "warnings": warnings,
        "committee_missing": committee_missing,
        "committee_suggested_date": (local_start - datetime.timedelta(days=3)).date(),
        "meeting": meeting,
        "presenters": list(meeting.presenters.order_by("search_name")),
        "agenda": list(meeting.agenda.all()),
        "materials": list(meeting.materials.all()),
        "can_manage": manage,
        "material_form": material_form or (MaterialForm() if manage else None),
        "is_today": timezone.localdate(meeting.scheduled_start) == timezone.localdate(),
        "editable": meeting.status not in (Meeting.Status.CLOSED, Meeting.Status.CANCELLED),
    }


@login_required
def meeting_detail(request, uid):
    meeting = get_meeting_for_user(request.user, uid)
    if request.method not in READ_METHODS:
        return HttpResponseNotAllowed(READ_METHODS)
    return render(request, "meetings/meeting_detail.html", _detail_context(request, meeting))


@login_required
def meeting_ics_download(request, uid):
    meeting = get_meeting_for_user(request.user, uid)
    if request.method not in READ_METHODS:
        return HttpResponseNotAllowed(READ_METHODS)
    url = request.build_absolute_uri(reverse("meetings:detail", args=[meeting.uid]))
    response = HttpResponse(meeting_ics(meeting, "PUBLISH", url=url), content_type="text/calendar; charset=utf-8")
    day = timezone.localdate(meeting.scheduled_start)
    response["Content-Disposition"] = f'attachment; filename="sinh-hoat-{day:%Y-%m-%d}.ics"'
    return response


# --- Agenda ----------------------------------------------------------------------------------------------


def _agenda_rows(items: list) -> list[tuple]:
    """(item, order if moved up, order if moved down): each button posts the whole new order."""
    ids = [item.pk for item in items]
    rows = []
    for i, item in enumerate(items):
        up = down = None
        if i > 0:
            moved = ids[:]
            moved[i - 1], moved[i] = moved[i], moved[i - 1]
            up = ",".join(map(str, moved))
        if i < len(ids) - 1:
            moved = ids[:]
            moved[i], moved[i + 1] = moved[i + 1], moved[i]
            down = ",".join(map(str, moved))
        rows.append((item, up, down))
    return rows


def _agenda_change(request, meeting: Meeting) -> list[str]:
    """Apply one agenda action; returns the errors to show (empty when done)."""
    action = request.POST.get("action")
    try:
        if action == "add":
            form = AgendaItemAddForm(request.POST)
            if not form.is_valid():
                return [_("An agenda item needs a title.")]
            services.agenda_item_add(meeting=meeting, title=form.cleaned_data["title"], by=request.user)
        elif action == "rename":
            form = AgendaItemRenameForm(request.POST)
            if not form.is_valid():
                return [_("An agenda item needs a title.")]
            item = meeting.agenda.filter(pk=form.cleaned_data["item"]).first()
            if item is None:
                return [_("This item is no longer on the agenda.")]
            services.agenda_item_save(
                item=item, base_version=form.cleaned_data["version"], title=form.cleaned_data["title"], by=request.user
            )
        elif action == "remove":
            raw = request.POST.get("item", "")
            item = meeting.agenda.filter(pk=int(raw)).first() if raw.isdecimal() else None
            if item is None:
                return [_("This item is no longer on the agenda.")]
            services.agenda_item_remove(item=item, by=request.user)
        elif action == "reorder":
            parts = request.POST.get("order", "").split(",")
            if not all(part.isdecimal() for part in parts):
                return [_("The new order must list every agenda item once.")]
            services.agenda_reorder(meeting=meeting, item_ids=[int(part) for part in parts], by=request.user)
        else:
            return [_("Unknown action.")]
    except services.Conflict:
        return [_("Someone else changed this item meanwhile; the agenda below shows the saved version.")]
    except ValidationError as exc:
        return exc.messages
    return []


@login_required
def agenda(request, uid):
    meeting = get_meeting_for_user(request.user, uid, write=True)
    errors: list[str] = []
    typed = ""
    if request.method == "POST":
        errors = _agenda_change(request, meeting)
        if not errors and not request.htmx:
            return redirect("meetings:agenda", meeting.uid)
        if errors and request.POST.get("action") == "add":
            typed = request.POST.get("title", "")  # kept in the box to correct
    context = {
        "meeting": meeting,
        "rows": _agenda_rows(list(meeting.agenda.all())),
        "add_form": AgendaItemAddForm(initial={"title": typed}),
        "errors": errors,
        "editable": meeting.status not in (Meeting.Status.CLOSED, Meeting.Status.CANCELLED),
    }
    template = "meetings/agenda.html#agenda-list" if request.htmx else "meetings/agenda.html"
    return render(request, template, context)


# --- Materials -----------------------------------------------------------------------------------------


@login_required
@require_POST
def material_upload(request, uid):
    meeting = get_meeting_for_user(request.user, uid, write=True)
    form = MaterialForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            material = uploads.material_add(meeting=meeting, upload=form.cleaned_data["file"], by=request.user)
        except ValidationError as exc:
            form.add_error("file", exc.messages)  # shown under the file input, where the eye is
        else:
            messages.success(request, _("%(name)s was attached.") % {"name": material.original_name})
            return redirect(reverse("meetings:detail", args=[meeting.uid]) + "#materials")
    return render(
        request, "meetings/meeting_detail.html", _detail_context(request, meeting, material_form=form), status=400
    )


@login_required
def material_download(request, uid):
    material = _material_for_user(request.user, uid)
    if request.method not in READ_METHODS:
        return HttpResponseNotAllowed(READ_METHODS)
    try:
        handle = material.file.open("rb")
    except FileNotFoundError:
        raise Http404
    response = FileResponse(
        handle, as_attachment=True, filename=material.original_name, content_type=material.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def material_delete(request, uid):
    material = _material_for_user(request.user, uid, write=True)
    meeting = material.meeting
    if request.method == "POST":
        try:
            uploads.material_remove(material=material, by=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("%(name)s was removed.") % {"name": material.original_name})
        return redirect(reverse("meetings:detail", args=[meeting.uid]) + "#materials")
    return render(
        request,
        "meetings/cancel.html",
        {
            "meeting": meeting,
            "title": _("Remove a material"),
            "question": _("Remove %(name)s from this meeting? Members will no longer see it.")
            % {"name": material.original_name},
            "submit_label": _("Remove"),
            "back_label": _("Keep it"),
        },
    )


# --- Home panel -----------------------------------------------------------------------------------------


def home_panel(request, my_cells=(), **context) -> dict | None:
    """The next meeting of each of the user's cells; for its committee, also the next thing to do."""
    user = request.user
    cells = [cell for cell in my_cells if cell.kind == PartyUnit.Kind.CELL]
    if not cells:
        return None
    today = timezone.localdate()
    visible = meetings_for(user)
    coming = visible.filter(
        Q(status=Meeting.Status.IN_PROGRESS)
        | Q(status=Meeting.Status.SCHEDULED, scheduled_start__gte=_day_start(today))
    )
    next_ids = dict(
        PartyUnit.objects.filter(pk__in=[c.pk for c in cells])
        .annotate(next_id=Subquery(coming.filter(unit=OuterRef("pk")).order_by("scheduled_start").values("pk")[:1]))
        .values_list("pk", "next_id")
    )
    upcoming = {m.pk: m for m in Meeting.objects.filter(pk__in=[i for i in next_ids.values() if i])}
    managed = [c for c in cells if can(user, Action.MANAGE_MEETINGS, c)]
    with_regular = set()
    if managed:
        with_regular = set(
            Meeting.objects.filter(
                unit__in=managed, kind=Meeting.Kind.REGULAR, period_year=today.year, period_month=today.month
            )
            .exclude(status=Meeting.Status.CANCELLED)
            .values_list("unit_id", flat=True)
        )
    rows = []
    for cell in cells:
        meeting = upcoming.get(next_ids.get(cell.pk))
        action = None
        if cell in managed:
            if meeting and meeting.status == Meeting.Status.IN_PROGRESS:
                action = "in_progress"
            elif meeting and timezone.localdate(meeting.scheduled_start) == today:
                action = "open_today"
            elif cell.pk not in with_regular:
                action = "schedule_regular"
        rows.append({"cell": cell, "meeting": meeting, "action": action, "managed": cell in managed})
    return {"template": "meetings/panels/home.html", "rows": rows, "today": today}
