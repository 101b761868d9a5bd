"""Writes to the party tree."""

from django.db import transaction

from cells import hooks
from cells.models import PartyUnit, Term

UNIT_FIELDS = ("kind", "unit_type", "name", "short_name", "document_symbol", "place_name", "founded_on", "dissolved_on")


@transaction.atomic
def unit_create(*, parent: PartyUnit | None, by, **fields) -> PartyUnit:
    unit = PartyUnit(parent=parent, **{k: v for k, v in fields.items() if k in UNIT_FIELDS})
    unit.full_clean()
    unit.save()
    hooks.unit_changed(unit, {})
    return unit


@transaction.atomic
def unit_update(*, unit: PartyUnit, by, **fields) -> PartyUnit:
    before = PartyUnit.objects.values("path", "unit_type").get(pk=unit.pk)
    for name, value in fields.items():
        if name in UNIT_FIELDS or name == "parent":
            setattr(unit, name, value)
    unit.full_clean()
    unit.save()
    hooks.unit_changed(unit, before)
    return unit


@transaction.atomic
def term_add(*, unit: PartyUnit, name: str, start, end=None, by) -> Term:
    term = Term(unit=unit, name=name, start=start, end=end)
    term.full_clean()
    term.save()
    return term
