"""Pages of the party tree: the tree browser and the unit page (a top layer: reads members)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from cells import services
from cells.forms import UnitForm
from cells.models import PartyUnit
from members import access, selectors
from members.access import Action
from members.views.common import apply_service
from members.views.records import member_list_context

TREE_DEPTH = 3  # levels shown under each root; deeper levels open from the unit page


@login_required
def tree(request):
    """The units in the user's scope, a few levels deep, with cell and member counts per node."""
    user = request.user
    roots = list(access.root_units_for(user))
    focus_uid = request.GET.get("root")
    if focus_uid:
        roots = [access.get_unit_for_user(user, focus_uid)]
    nodes = []
    if roots:
        scope = access.units_for(user, Action.VIEW_UNIT)
        prefix = None
        for root in roots:
            q = PartyUnit.objects.filter(path__startswith=root.path, depth__lte=root.depth + TREE_DEPTH)
            prefix = q if prefix is None else prefix | q
        nodes = list(prefix.filter(pk__in=scope.values("pk")).order_by("path"))
    counts = selectors.tree_counts(nodes)
    children: dict[int | None, list] = {}
    ids = {n.pk for n in nodes}
    for node in nodes:
        parent_key = node.parent_id if node.parent_id in ids else None
        children.setdefault(parent_key, []).append(node)
    kind_order = {kind: i for i, kind in enumerate(PartyUnit.Kind.values)}
    for siblings in children.values():
        siblings.sort(key=lambda u: (kind_order[u.kind], u.search_name))

    def build(parent_key):
        return [
            {
                "unit": n,
                "counts": counts.get(n.pk),
                "children": build(n.pk),
                "more": n.depth - min(r.depth for r in roots) >= TREE_DEPTH,
            }
            for n in children.get(parent_key, [])
        ]

    return render(request, "cells/tree.html", {"forest": build(None), "focus": roots[0] if focus_uid else None})


@login_required
def unit_detail(request, uid):
    user = request.user
    unit = access.get_unit_for_user(user, uid)
    today = timezone.localdate()
    scope = access.units_for(user, Action.VIEW_UNIT)
    children = list(unit.children.filter(pk__in=scope.values("pk")).order_by("kind", "name"))
    counts = selectors.tree_counts([unit, *children], today)
    can_view_members = access.can(user, Action.VIEW_MEMBERS, unit)
    can_manage = access.can(user, Action.MANAGE_MEMBERS, unit)
    can_manage_units = access.can(user, Action.MANAGE_UNITS, unit)
    context = {
        "unit": unit,
        "ancestors": [a for a in unit.ancestors() if a.pk != unit.pk and access.can(user, Action.VIEW_UNIT, a)],
        "children": [(c, counts.get(c.pk)) for c in children],
        "counts": counts.get(unit.pk),
        "positions": list(selectors.positions_of(unit, today)),
        "can_view_members": can_view_members,
        "can_manage": can_manage,
        "can_manage_units": can_manage_units,
        "can_view_audit": access.can(user, Action.VIEW_AUDIT, unit),
        "can_view_dashboard": unit.kind != PartyUnit.Kind.GROUP and access.can(user, Action.VIEW_DASHBOARD, unit),
        "is_cell": unit.kind == PartyUnit.Kind.CELL,
        "term": unit.current_term(today),
    }
    if can_view_members and unit.kind in (PartyUnit.Kind.CELL, PartyUnit.Kind.GROUP):
        context.update(member_list_context(request, unit))
        incoming, outgoing = selectors.pending_transfers(unit.subtree())
        context["incoming"], context["outgoing"] = list(incoming), list(outgoing)
    if request.htmx and request.htmx.target == "member-list":
        return render(request, "cells/unit_detail.html#member-list", context)
    return render(request, "cells/unit_detail.html", context)


@login_required
def unit_create(request, uid):
    parent = access.get_unit_for_user(request.user, uid)
    if not access.can(request.user, Action.MANAGE_UNITS, parent):
        raise PermissionDenied
    form = UnitForm(request.POST or None, parent=parent)
    if request.method == "POST" and form.is_valid():
        unit = apply_service(form, lambda: services.unit_create(parent=parent, by=request.user, **form.cleaned_data))
        if unit:
            messages.success(request, _("%(name)s was created.") % {"name": unit.name})
            return redirect("cells:detail", unit.uid)
    return render(request, "cells/unit_form.html", {"form": form, "parent": parent})


@login_required
def unit_edit(request, uid):
    unit = access.get_unit_for_user(request.user, uid)
    if not access.can(request.user, Action.MANAGE_UNITS, unit):
        raise PermissionDenied
    form = UnitForm(request.POST or None, instance=unit, parent=unit.parent)
    if request.method == "POST" and form.is_valid():
        if apply_service(form, lambda: services.unit_update(unit=unit, by=request.user, **form.cleaned_data)):
            messages.success(request, _("The unit was saved."))
            return redirect("cells:detail", unit.uid)
    return render(request, "cells/unit_form.html", {"form": form, "parent": unit.parent, "unit": unit})
