"""/healthz for load balancers and container health checks; /ops/status/ for superusers."""

from django.conf import settings
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from cells.backup import latest_backup
from cells.models import PartyUnit
from config import health
from members.models import Member

CHECK_LABELS = {
    "database": _("Database"),
    "broker": _("Message broker"),
    "heartbeat": _("Beat heartbeat"),
    "worker": _("Worker ping"),
}
BACKUP_STALE_AFTER = 2 * 24 * 3600  # seconds; backups are meant to run daily


@require_safe
@never_cache
def healthz(request):
    """No authentication, no secrets. `?checks=database,broker` runs a subset (e.g. for the web
    container's own probe, which must not wait for beat and the worker that start after it)."""
    only = None
    if raw := request.GET.get("checks"):
        only = [name.strip() for name in raw.split(",") if name.strip()]
        if unknown := sorted(set(only) - set(health.CHECK_NAMES)):
            return JsonResponse({"error": "unknown check", "unknown": unknown, "known": health.CHECK_NAMES}, status=400)
    # Machines read this: the same English details whatever language the middleware chose.
    with translation.override("en"):
        results = health.run_checks(only)
    status = health.overall_status(results)
    body = {"status": status, "checks": {name: result.as_json() for name, result in results.items()}}
    return JsonResponse(body, status=200 if status == health.OK else 503)


@never_cache
def status_panel(request):
    if not (request.user.is_active and request.user.is_superuser):
        raise Http404
    results = health.run_checks()
    backup = latest_backup()
    context = {
        "overall": health.overall_status(results),
        "checks": [(CHECK_LABELS[name], result) for name, result in results.items()],
        "heartbeat_age": health.heartbeat_age(),
        "heartbeat_interval": settings.CHIBO_HEARTBEAT_INTERVAL,
        "heartbeat_max_age": settings.CHIBO_HEARTBEAT_MAX_AGE,
        "sweeps": health.sweep_ages(),
        "versions": health.versions(),
        "database": health.database_facts(),
        "unapplied_migrations": health.unapplied_migrations(),
        "units": PartyUnit.objects.filter(dissolved_on__isnull=True).count(),
        "cells": PartyUnit.objects.filter(dissolved_on__isnull=True, kind=PartyUnit.Kind.CELL).count(),
        "members": Member.objects.filter(ended_on__isnull=True).count(),
        "backup": backup,
        "backup_stale": backup is None or backup.age_seconds > BACKUP_STALE_AFTER,
    }
    return render(request, "ops/status.html", context)
