"""History pages (who, when, old → new) and the read log of member records: VIEW_AUDIT only."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import render

from cells.models import PartyUnit
from members import access, audit
from members.access import Action


def _require_audit(user, unit: PartyUnit | None) -> None:
    # The record is in scope (its accessor said so); reading its history needs VIEW_AUDIT there.
    if unit is None or not access.can(user, Action.VIEW_AUDIT, unit):
        raise PermissionDenied


@login_required
def member_history(request, uid):
    member = access.get_member_for_user(request.user, uid)
    _require_audit(request.user, member.home_unit)
    # Old values are the member's personal data too: opening the history is a read of the record.
    audit.read_log_record(user=request.user, member=member, ip=audit.client_address(request))
    page, entries = audit.history_page(audit.member_history_sources(member), request.GET.get("page"))
    return render(
        request,
        "members/history.html",
        {"member": member, "unit": member.home_unit, "page": page, "entries": entries},
    )


@login_required
def unit_history(request, unit_uid):
    unit = access.get_unit_for_user(request.user, unit_uid)
    _require_audit(request.user, unit)
    page, entries = audit.history_page(audit.unit_history_sources(unit), request.GET.get("page"))
    return render(request, "members/history.html", {"unit": unit, "page": page, "entries": entries})


@login_required
def member_reads(request, uid):
    member = access.get_member_for_user(request.user, uid)
    _require_audit(request.user, member.home_unit)
    page = Paginator(audit.member_reads(member), audit.PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "members/reads.html", {"member": member, "page": page})
