"""The resolution register (sổ nghị quyết): a unit picker over the units in scope, a unit's register
with filters, search and pages, and its PDF book and .xlsx export.

Units come through members.access (404 outside scope); the rows are the unit's issued resolutions,
which everyone who may read the unit's resolutions reads (VIEW_RESOLUTIONS).
"""

from __future__ import annotations

import logging
import time

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from cells.models import PartyUnit
from cells.text import fold
from members.access import Action, can, get_unit_for_user, units_for

from .. import book_jobs, exports
from ..services import register

PAGE_SIZE = 25
PICKER_PAGE_SIZE = 50
log = logging.getLogger(__name__)


def _register_unit(user, unit_uid) -> PartyUnit:
    unit = get_unit_for_user(user, unit_uid)
    if unit.kind not in (PartyUnit.Kind.CELL, PartyUnit.Kind.GRASSROOTS_COMMITTEE):
        raise Http404
    if not can(user, Action.VIEW_RESOLUTIONS, unit):
        raise Http404
    return unit


@login_required
@require_GET
def register_home(request):
    """Which register to open: the user's own cell goes straight to it; a committee picks a unit."""
    units = register.register_units(units_for(request.user, Action.VIEW_RESOLUTIONS)).select_related("parent")
    q = " ".join(request.GET.get("q", "").split())[:100]
    if q:
        folded = fold(q)
        units = units.filter(Q(name__icontains=q) | Q(short_name__icontains=q) | Q(search_name__contains=folded))
    page = Paginator(units, PICKER_PAGE_SIZE).get_page(request.GET.get("page"))
    if not q and page.paginator.count == 1:
        return redirect("resolutions:register", page.object_list[0].uid)
    return render(request, "resolutions/register/home.html", {"page": page, "q": q})


@login_required
def unit_register(request, unit_uid):
    unit = _register_unit(request.user, unit_uid)
    filters = register.parse_filters(unit, request.GET)
    page = Paginator(register.register_rows(unit, filters), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = register.decorate(page.object_list)
    return render(
        request,
        "resolutions/register/register.html",
        {
            "unit": unit,
            "page": page,
            "rows": rows,
            "filters": filters,
            "statuses": register.STATUSES,
            "query": filters.query_string(),
            "can_manage": can(request.user, Action.MANAGE_RESOLUTIONS, unit),
            "book_in_background": page.paginator.count > book_jobs.SYNC_LIMIT,
        },
    )


def _filename(unit: PartyUnit, extension: str) -> str:
    slug = fold(unit.short_name or unit.name).replace(" ", "-")
    return f"so-nghi-quyet-{slug}-{timezone.localdate():%Y%m%d}.{extension}"


@login_required
def register_pdf(request, unit_uid):
    unit = _register_unit(request.user, unit_uid)
    filters = register.parse_filters(unit, request.GET)
    rows = register.decorate(register.register_rows(unit, filters))
    started = time.perf_counter()
    pdf = exports.render_register_book(unit, rows, filters)
    log.info("register book of %s: %s resolutions in %.2f s", unit.pk, len(rows), time.perf_counter() - started)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{_filename(unit, "pdf")}"'
    return response


@login_required
def register_xlsx(request, unit_uid):
    unit = _register_unit(request.user, unit_uid)
    filters = register.parse_filters(unit, request.GET)
    rows = register.decorate(register.register_rows(unit, filters))
    data = exports.render_register_xlsx(unit, rows, filters)
    response = HttpResponse(data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="{_filename(unit, "xlsx")}"'
    return response


# --- A long register's book, printed by the worker while the page shows progress -------------------


def _job_for(request, unit: PartyUnit, job_id) -> dict:
    state = book_jobs.read(job_id)
    if state is None or state["unit"] != unit.pk or state["user"] != request.user.pk:
        raise Http404
    return state


@login_required
@require_POST
def register_book_start(request, unit_uid):
    unit = _register_unit(request.user, unit_uid)
    params = {key: request.POST.get(key, "") for key in ("year", "term", "status", "q")}
    job_id = book_jobs.start(user=request.user, unit=unit, params=params)
    return redirect("resolutions:register_book", unit.uid, job_id)


@login_required
def register_book(request, unit_uid, job_id):
    unit = _register_unit(request.user, unit_uid)
    state = _job_for(request, unit, job_id)
    total = state["total"]
    context = {
        "unit": unit,
        "job_id": job_id,
        "state": state,
        "percent": int(100 * state["done"] / total) if total else 0,
    }
    if request.htmx:
        return render(request, "resolutions/register/book_job.html#progress", context)
    return render(request, "resolutions/register/book_job.html", context)


@login_required
def register_book_pdf(request, unit_uid, job_id):
    unit = _register_unit(request.user, unit_uid)
    state = _job_for(request, unit, job_id)
    if state["state"] != "ready":
        raise Http404
    return FileResponse(book_jobs.open_pdf(job_id), as_attachment=True, filename=_filename(unit, "pdf"))
