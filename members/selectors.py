"""Reads that are more than a filter: rolls, statuses and counts, in a constant number of queries."""

from __future__ import annotations

import datetime
from collections import defaultdict

from django.db.models import Case, Count, Exists, OuterRef, Prefetch, Q, QuerySet, Value, When
from django.utils import timezone

from cells.models import PartyUnit
from cells.text import fold
from members.models import Member, Membership, Position, StatusPeriod, Transfer

STATUS_FILTERS = ("full", "probationary", "exempted", "suspended")


def _period_active(kind: str, day: datetime.date):
    return Exists(
        StatusPeriod.objects.filter(member=OuterRef("pk"), kind=kind, start__lte=day).filter(
            Q(end__isnull=True) | Q(end__gte=day)
        )
    )


def roll(units: QuerySet[PartyUnit], day: datetime.date | None = None) -> QuerySet[Member]:
    """Members on the roll of any of the units' cells on a day, with status flags annotated."""
    day = day or timezone.localdate()
    on_roll = Membership.objects.filter(Membership.active_on(day), cell__in=units)
    return (
        Member.objects.filter(pk__in=on_roll.values("member_id"))
        .annotate(
            is_exempted=_period_active(StatusPeriod.Kind.EXEMPTED, day),
            is_suspended=_period_active(StatusPeriod.Kind.SUSPENDED, day),
        )
        .prefetch_related(
            Prefetch(
                "memberships",
                queryset=Membership.objects.filter(Membership.active_on(day)).select_related("cell", "group"),
                to_attr="current_memberships",
            )
        )
    )


def filter_roll(
    members: QuerySet[Member],
    *,
    q: str = "",
    status: str = "",
    group: PartyUnit | None = None,
    day: datetime.date | None = None,
) -> QuerySet[Member]:
    day = day or timezone.localdate()
    if q:
        folded = fold(q)
        members = members.filter(
            Q(search_name__contains=folded) | Q(card_number__iexact=q.strip()) | Q(phone__contains=q.strip() or "-")
        )
    if status == "full":
        members = members.filter(full_member_on__lte=day, is_exempted=False, is_suspended=False)
    elif status == "probationary":
        members = members.filter(Q(full_member_on__isnull=True) | Q(full_member_on__gt=day)).filter(
            is_exempted=False, is_suspended=False
        )
    elif status == "exempted":
        members = members.filter(is_exempted=True)
    elif status == "suspended":
        members = members.filter(is_suspended=True)
    if group is not None:
        members = members.filter(memberships__in=Membership.objects.filter(Membership.active_on(day), group=group))
    return members


def status_code(member: Member, day: datetime.date | None = None) -> str:
    """Status from the annotations of roll() (no extra query)."""
    day = day or timezone.localdate()
    if getattr(member, "is_suspended", False):
        return "suspended"
    if getattr(member, "is_exempted", False):
        return "exempted"
    return "full" if member.full_member_on and member.full_member_on <= day else "probationary"


def tree_counts(units: list[PartyUnit], day: datetime.date | None = None) -> dict[int, dict[str, int]]:
    """Cells and members on the roll under every given unit (its whole subtree), in two queries."""
    day = day or timezone.localdate()
    if not units:
        return {}
    prefix_q = Q()
    for unit in units:
        prefix_q |= Q(path__startswith=unit.path)
    cells = list(
        PartyUnit.objects.filter(prefix_q, kind=PartyUnit.Kind.CELL)
        .filter(Q(dissolved_on__isnull=True) | Q(dissolved_on__gte=day))
        .values_list("pk", "path")
    )
    members_per_cell = dict(
        Membership.objects.filter(Membership.active_on(day), cell_id__in=[pk for pk, _ in cells])
        .values("cell_id")
        .annotate(n=Count("member_id", distinct=True))
        .values_list("cell_id", "n")
    )
    group_ids = [u.pk for u in units if u.kind == PartyUnit.Kind.GROUP]
    members_per_group = (
        dict(
            Membership.objects.filter(Membership.active_on(day), group_id__in=group_ids)
            .values("group_id")
            .annotate(n=Count("member_id", distinct=True))
            .values_list("group_id", "n")
        )
        if group_ids
        else {}
    )
    counts: dict[int, dict[str, int]] = defaultdict(lambda: {"cells": 0, "members": 0})
    for unit in units:
        if unit.kind == PartyUnit.Kind.GROUP:
            counts[unit.pk]["members"] = members_per_group.get(unit.pk, 0)
            continue
        c = counts[unit.pk]
        for pk, path in cells:
            if path.startswith(unit.path):
                c["cells"] += 1
                c["members"] += members_per_cell.get(pk, 0)
    return counts


def positions_of(unit: PartyUnit, day: datetime.date | None = None) -> QuerySet[Position]:
    day = day or timezone.localdate()
    rank = Case(*(When(role=role, then=Value(i)) for i, role in enumerate(Position.RANK)), default=Value(99))
    return (
        Position.objects.filter(Position.active_on(day), unit=unit)
        .select_related("member", "user", "unit")
        .order_by(rank, "start")
    )


def pending_transfers(
    units: QuerySet[PartyUnit], move_units: QuerySet[PartyUnit] | None = None
) -> tuple[QuerySet[Transfer], QuerySet[Transfer]]:
    """(incoming, outgoing) pending transfers: incoming ones the user may accept — into a cell
    the user manages, or (staff) between two cells of the user's subtree."""
    base = Transfer.objects.filter(state=Transfer.State.PENDING).select_related("member", "from_cell", "to_cell")
    acceptable = Q(to_cell__in=units)
    if move_units is not None:
        acceptable |= Q(to_cell__in=move_units, from_cell__in=move_units)
    return base.filter(acceptable), base.filter(from_cell__in=units)
