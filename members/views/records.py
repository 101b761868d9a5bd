"""Member records, transfers and positions; every object comes through members.access."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cells.models import PartyUnit
from members import access, audit, panels, selectors, services
from members.access import Action, Role
from members.forms.records import (
    AcceptTransferForm,
    MemberCreateForm,
    MemberEndForm,
    MemberForm,
    MoveForm,
    PositionEndForm,
    PositionForm,
    StatusPeriodForm,
    TransferOutForm,
)
from members.models import Member, MemberStatus, Position, Transfer
from members.views.common import apply_service


@login_required
def home(request):
    user = request.user
    grants = access.grants_for(user)
    today = timezone.localdate()
    member = Member.objects.filter(user=user).select_related("home_unit").first()
    manage_units = access.units_for(user, Action.MANAGE_MEMBERS)
    my_cells = list(
        PartyUnit.objects.filter(pk__in=[g.unit_id for g in grants if g.role in (Role.MEMBER, Role.CELL_COMMITTEE)])
        .filter(kind=PartyUnit.Kind.CELL)
        .select_related("parent")
    )
    committee_units = list(
        PartyUnit.objects.filter(
            pk__in=[g.unit_id for g in grants if g.role in (Role.HIGHER_COMMITTEE, Role.STAFF)]
        ).select_related("parent")
    )
    if user.is_superuser and not committee_units:
        committee_units = list(PartyUnit.objects.filter(parent__isnull=True))
    counts = selectors.tree_counts(my_cells + committee_units, today)
    incoming, outgoing = selectors.pending_transfers(manage_units, access.units_for(user, Action.MOVE_MEMBERS))
    managed_cells = [c for c in my_cells if access.can(user, Action.MANAGE_MEMBERS, c)]
    todo = {}
    if managed_cells:
        roll = selectors.roll(PartyUnit.objects.filter(pk__in=[c.pk for c in managed_cells]), today)
        todo["without_login"] = roll.filter(Q(user__isnull=True) | Q(user__is_active=False)).count()
        probation_due = today.replace(year=today.year - 1)
        todo["probation_due"] = list(
            roll.filter(full_member_on__isnull=True, admitted_on__lte=probation_due).order_by("admitted_on")[:10]
        )
    return render(
        request,
        "members/home.html",
        {
            "panels": panels.home_panels(request, my_cells=my_cells, managed_cells=managed_cells),
            "member": member,
            "status": member.status_on(today) if member else None,
            "my_cells": [(c, counts.get(c.pk), c in managed_cells) for c in my_cells],
            "committee_units": [(u, counts.get(u.pk)) for u in committee_units],
            "incoming": list(incoming[:20]),
            "outgoing": list(outgoing[:20]),
            "todo": todo,
            "positions": list(member.positions.filter(Position.active_on(today)).select_related("unit"))
            if member
            else [],
        },
    )


def _cell_for_create(request, unit_uid) -> PartyUnit:
    unit = access.get_unit_for_user(request.user, unit_uid)
    if not access.can(request.user, Action.MANAGE_MEMBERS, unit):
        raise PermissionDenied
    if unit.kind != PartyUnit.Kind.CELL:
        raise Http404
    return unit


@login_required
def member_create(request, unit_uid):
    cell = _cell_for_create(request, unit_uid)
    form = MemberCreateForm(request.POST or None, cell=cell)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        group, joined_on = data.pop("group", None), data.pop("joined_on")
        member = apply_service(
            form,
            lambda: services.member_create(cell=cell, group=group, joined_on=joined_on, by=request.user, **data),
        )
        if member:
            messages.success(request, _("%(name)s was added to the roll.") % {"name": member.full_name})
            return redirect("members:detail", member.uid)
    return render(request, "members/member_form.html", {"form": form, "cell": cell, "creating": True})


@login_required
def member_detail(request, uid):
    member = access.get_member_for_user(request.user, uid)
    audit.read_log_record(user=request.user, member=member, ip=audit.client_address(request))
    today = timezone.localdate()
    can_manage = bool(member.home_unit and access.can(request.user, Action.MANAGE_MEMBERS, member.home_unit))
    can_move = bool(member.home_unit and access.can(request.user, Action.MOVE_MEMBERS, member.home_unit))
    memberships = list(member.memberships.select_related("cell", "group", "cell__parent"))
    periods = list(member.status_periods.all())
    transfers = list(member.transfers.select_related("from_cell", "to_cell"))
    return render(
        request,
        "members/member_detail.html",
        {
            "panels": panels.member_panels(request, member, can_manage=can_manage),
            "member": member,
            "status": MemberStatus.compute(member, periods, today),
            "memberships": memberships,
            "current": next((m for m in memberships if m.end is None), None),
            "periods": periods,
            "positions": list(member.positions.select_related("unit")),
            "transfers": transfers,
            "pending_transfer": next((t for t in transfers if t.state == Transfer.State.PENDING), None),
            "can_manage": can_manage,
            "can_move": can_move,
            "can_view_audit": bool(member.home_unit and access.can(request.user, Action.VIEW_AUDIT, member.home_unit)),
            "is_self": member.user_id == request.user.pk,
        },
    )


@login_required
def member_edit(request, uid):
    member = access.get_member_for_user(request.user, uid, write=True)
    current = member.memberships.filter(end__isnull=True).select_related("cell").first()
    cell = current.cell if current else member.home_unit
    form = MemberForm(request.POST or None, instance=member, cell=cell, initial={"group": current and current.group})
    if request.method == "POST" and form.is_valid():
        data = {f: form.cleaned_data[f] for f in services.MEMBER_FIELDS}
        kwargs = {"group": form.cleaned_data.get("group")} if "group" in form.fields else {}
        if apply_service(form, lambda: services.member_update(member=member, by=request.user, **data, **kwargs)):
            messages.success(request, _("The member record was saved."))
            return redirect("members:detail", member.uid)
    return render(request, "members/member_form.html", {"form": form, "cell": cell, "member": member})


@login_required
def status_period_create(request, uid):
    member = access.get_member_for_user(request.user, uid, write=True)
    form = StatusPeriodForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if apply_service(form, lambda: services.status_period_add(member=member, by=request.user, **form.cleaned_data)):
            messages.success(request, _("The period was recorded."))
            return redirect("members:detail", member.uid)
    return render(
        request,
        "members/simple_form.html",
        {
            "form": form,
            "member": member,
            "title": _("Exemption or suspension"),
        },
    )


@login_required
def transfer_out(request, uid):
    member = access.get_member_for_user(request.user, uid, write=True)
    form = TransferOutForm(request.POST or None, member=member)
    if request.method == "POST" and form.is_valid():
        transfer = apply_service(
            form, lambda: services.transfer_out(member=member, by=request.user, **form.cleaned_data)
        )
        if transfer:
            if transfer.to_cell:
                messages.success(request, _("Transfer recorded. It waits for the receiving cell to accept it."))
            else:
                messages.success(request, _("Transfer recorded. The member has left this cell's roll."))
            return redirect("members:transfer_detail", transfer.uid)
    return render(request, "members/transfer_form.html", {"form": form, "member": member})


@login_required
def member_move(request, uid):
    member = access.get_member_for_user(request.user, uid)
    if not (member.home_unit and access.can(request.user, Action.MOVE_MEMBERS, member.home_unit)):
        raise PermissionDenied
    cells = (
        access.units_for(request.user, Action.MOVE_MEMBERS)
        .filter(kind=PartyUnit.Kind.CELL)
        .exclude(pk=member.home_unit_id)
    )
    form = MoveForm(request.POST or None, cells=cells)
    if request.method == "POST" and form.is_valid():
        moved = apply_service(form, lambda: services.member_move(member=member, by=request.user, **form.cleaned_data))
        if moved:
            messages.success(
                request,
                _("%(name)s now belongs to %(cell)s.")
                % {
                    "name": member.full_name,
                    "cell": moved.cell.name,
                },
            )
            return redirect("members:detail", member.uid)
    return render(request, "members/simple_form.html", {"form": form, "member": member, "title": _("Move member")})


@login_required
def member_end(request, uid):
    member = access.get_member_for_user(request.user, uid, write=True)
    form = MemberEndForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if apply_service(
            form, lambda: services.member_end(member=member, on=data["on"], reason=data["reason"], by=request.user)
        ):
            messages.success(
                request,
                _("%(name)s has left the rolls; the login is disabled.")
                % {
                    "name": member.full_name,
                },
            )
            return redirect("members:detail", member.uid)
    return render(
        request,
        "members/simple_form.html",
        {
            "form": form,
            "member": member,
            "title": _("Remove from the rolls"),
            "danger": True,
        },
    )


@login_required
def transfer_detail(request, uid):
    transfer = access.get_transfer_for_user(request.user, uid)
    user = request.user
    pending = transfer.state == Transfer.State.PENDING
    may_accept = (
        pending
        and transfer.to_cell
        and (
            access.can(user, Action.MANAGE_MEMBERS, transfer.to_cell)
            or (
                access.can(user, Action.MOVE_MEMBERS, transfer.from_cell)
                and access.can(user, Action.MOVE_MEMBERS, transfer.to_cell)
            )
        )
    )
    may_cancel = pending and access.can(user, Action.MANAGE_MEMBERS, transfer.from_cell)
    form = AcceptTransferForm(cell=transfer.to_cell) if may_accept else None
    return render(
        request,
        "members/transfer_detail.html",
        {
            "transfer": transfer,
            "may_accept": may_accept,
            "may_cancel": may_cancel,
            "form": form,
        },
    )


@login_required
@require_POST
def transfer_accept(request, uid):
    transfer = access.get_transfer_for_user(request.user, uid, write=True)
    if transfer.to_cell is None:
        raise Http404
    user = request.user
    if not (
        access.can(user, Action.MANAGE_MEMBERS, transfer.to_cell)
        or (
            access.can(user, Action.MOVE_MEMBERS, transfer.from_cell)
            and access.can(user, Action.MOVE_MEMBERS, transfer.to_cell)
        )
    ):
        raise PermissionDenied
    form = AcceptTransferForm(request.POST, cell=transfer.to_cell)
    if form.is_valid() and apply_service(
        form, lambda: services.transfer_accept(transfer=transfer, group=form.cleaned_data["group"], by=user)
    ):
        messages.success(
            request,
            _("%(name)s is now on the roll of %(cell)s.")
            % {
                "name": transfer.member.full_name,
                "cell": transfer.to_cell.name,
            },
        )
        return redirect("members:detail", transfer.member.uid)
    for error in form.non_field_errors():
        messages.error(request, error)
    return redirect("members:transfer_detail", transfer.uid)


@login_required
@require_POST
def transfer_cancel(request, uid):
    transfer = access.get_transfer_for_user(request.user, uid, write=True)
    if not access.can(request.user, Action.MANAGE_MEMBERS, transfer.from_cell):
        raise PermissionDenied
    form = PositionEndForm()  # any form: collects the service's refusal, if any
    if apply_service(form, lambda: services.transfer_cancel(transfer=transfer, by=request.user)):
        messages.success(request, _("The transfer was cancelled; the member is back on the roll."))
    else:
        for error in form.non_field_errors():
            messages.error(request, error)
    return redirect("members:transfer_detail", transfer.uid)


def _position_roles(user, unit):
    if unit.kind == PartyUnit.Kind.CELL and access.can(user, Action.MANAGE_MEMBERS, unit):
        return [Position.Role.SECRETARY, Position.Role.DEPUTY_SECRETARY, Position.Role.COMMITTEE_MEMBER]
    if access.can(user, Action.MANAGE_UNITS, unit):
        return list(Position.Role)
    raise PermissionDenied


@login_required
def position_create(request, unit_uid):
    unit = access.get_unit_for_user(request.user, unit_uid)
    roles = _position_roles(request.user, unit)
    candidates = (
        selectors.roll(unit.subtree())
        if unit.kind == PartyUnit.Kind.CELL
        else selectors.roll(access.units_for(request.user, Action.VIEW_MEMBERS))
    )
    form = PositionForm(request.POST or None, members=candidates.order_by("search_name"), roles=roles)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if apply_service(form, lambda: services.position_add(unit=unit, by=request.user, **data)):
            messages.success(request, _("The position was recorded."))
            return redirect("cells:detail", unit.uid)
    return render(
        request,
        "members/simple_form.html",
        {
            "form": form,
            "unit": unit,
            "title": _("New position in %(unit)s") % {"unit": unit.name},
        },
    )


@login_required
def position_end(request, uid):
    position = access.get_position_for_user(request.user, uid, write=True)
    form = PositionEndForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if apply_service(
            form, lambda: services.position_end(position=position, by=request.user, end=form.cleaned_data["end"])
        ):
            messages.success(request, _("The position was ended."))
            return redirect("cells:detail", position.unit.uid)
    return render(
        request,
        "members/simple_form.html",
        {
            "form": form,
            "unit": position.unit,
            "title": _("End position: %(role)s, %(name)s")
            % {"role": position.role_label, "name": position.holder_name},
        },
    )


def member_list_context(request, unit: PartyUnit) -> dict:
    """The searchable, filterable, paginated member list of a unit (shared with the unit page)."""
    today = timezone.localdate()
    members = selectors.roll(unit.subtree(), today)
    groups = list(PartyUnit.objects.filter(parent=unit, kind=PartyUnit.Kind.GROUP))
    group = next((g for g in groups if str(g.uid) == request.GET.get("group")), None)
    q, status = request.GET.get("q", "").strip(), request.GET.get("status", "")
    members = selectors.filter_roll(members, q=q, status=status, group=group, day=today)
    page = Paginator(members.order_by("search_name", "pk"), 25).get_page(request.GET.get("page"))
    rows = []
    for m in page.object_list:
        current = m.current_memberships[0] if m.current_memberships else None
        rows.append((m, selectors.status_code(m, today), current))
    return {
        "page": page,
        "rows": rows,
        "groups": groups,
        "q": q,
        "status": status,
        "group": group,
        "status_choices": [
            ("full", _("Full member")),
            ("probationary", _("Probationary member")),
            ("exempted", _("Exempted")),
            ("suspended", _("Suspended")),
        ],
        "filtered": bool(q or status or group),
    }
