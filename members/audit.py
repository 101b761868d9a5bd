"""Audit: the read log of member records, and the history pages' selector (who, when, old → new)."""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db import models
from django.db.models import OuterRef, Q, QuerySet, Subquery, Value
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cells.models import PartyUnit, Term, UnitSetting
from members.models import (
    Member,
    MemberReadLog,
    Membership,
    Position,
    StatusPeriod,
    TemporaryAttachment,
    Transfer,
    User,
)


def read_log_record(*, user: User, member: Member, ip: str | None = None) -> MemberReadLog | None:
    """Log that a user opened a member record; a member reading his own record is not logged."""
    if not user.is_authenticated or member.user_id == user.pk:
        return None
    return MemberReadLog.objects.create(user=user, member=member, ip=ip or None)


def client_address(request) -> str | None:
    """The client's IP address for logs and lock-outs.

    Behind the reverse proxy (Caddy) every request comes from the proxy; the client is then the
    entry that the last CHIBO_PROXY_COUNT trusted proxies appended to X-Forwarded-For. Entries
    further left are whatever the client sent, so they are never trusted.
    """
    proxies = getattr(settings, "CHIBO_PROXY_COUNT", 0)
    if proxies:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR") or None


# --- History pages: who, when, what changed (old → new) --------------------------------------

PAGE_SIZE = 25
EMPTY = "—"
# simple_history's history_type -> (kind for the template, label)
ACTIONS = {
    "+": ("created", gettext_lazy("Created")),
    "~": ("changed", gettext_lazy("Changed")),
    "-": ("deleted", gettext_lazy("Deleted")),
}


@dataclass(frozen=True)
class HistorySource:
    """One kind of record on a history page: its historical rows, and how to name each object.

    describe(row, names) returns e.g. "Membership: Chi bộ Khu phố 1"; names resolves foreign keys
    (names.of(PartyUnit, row.cell_id)) from one query per related model for the whole page.
    """

    rows: QuerySet
    describe: Callable[[Any, Names], str]


@dataclass(frozen=True)
class Change:
    label: str
    old: str
    new: str


@dataclass(frozen=True)
class HistoryEntry:
    when: datetime.datetime
    who: str
    kind: str  # created, changed, deleted
    action: str
    subject: str
    changes: list[Change]


class Names:
    """Display names of the objects the page's rows point at, fetched once per related model."""

    def __init__(self, ids_by_model: dict[type[models.Model], set]):
        self._names: dict[type[models.Model], dict] = {}
        for model, ids in ids_by_model.items():
            ids.discard(None)
            if ids:
                self._names[model] = {pk: display_name(obj) for pk, obj in model._default_manager.in_bulk(ids).items()}

    def of(self, model: type[models.Model], pk) -> str:
        if pk is None:
            return EMPTY
        # A row can point at an object deleted since.
        return self._names.get(model, {}).get(pk) or _("#%(id)s (deleted)") % {"id": pk}


def display_name(obj) -> str:
    if isinstance(obj, User):
        return obj.get_full_name() or obj.get_username()
    return str(obj)


def _diff_fields(history_model) -> list[models.Field]:
    """The fields an entry reports: those a person edits (not the id, uid, derived columns)."""
    tracked = {f.name for f in history_model.tracked_fields if f.editable and not f.primary_key}
    return [f for f in history_model._meta.fields if f.name in tracked]


def _format(field: models.Field, value, names: Names) -> str:
    if value is None or value == "":
        return EMPTY
    if isinstance(field, models.ForeignKey):
        return names.of(field.related_model, value)
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return str(_("Yes") if value else _("No"))
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).strftime("%d/%m/%Y %H:%M")
    if isinstance(value, datetime.date):
        return value.strftime("%d/%m/%Y")
    if isinstance(field, models.JSONField):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _changes(row, prev, fields: list[models.Field], names: Names) -> list[Change]:
    if row.history_type == "-":
        return []
    if prev is None:
        # Created (or recorded before history began): every filled-in field, from nothing.
        values = [(f, None, getattr(row, f.attname)) for f in fields]
        return [
            Change(capfirst(str(f.verbose_name)), EMPTY, _format(f, new, names))
            for f, _o, new in values
            if new not in (None, "")
        ]
    delta = row.diff_against(prev, included_fields=[f.name for f in fields])
    by_name = {f.name: f for f in fields}
    # diff_against sorts by field name; report in the model's field order instead.
    changed = {c.field: c for c in delta.changes}
    return [
        Change(
            capfirst(str(by_name[n].verbose_name)),
            _format(by_name[n], changed[n].old, names),
            _format(by_name[n], changed[n].new, names),
        )
        for n in (f.name for f in fields)
        if n in changed
    ]


def _previous_row_id(history_model):
    """The history_id of the same object's previous row (a correlated subquery, no query per row)."""
    pk_name = history_model.instance_type._meta.pk.attname
    older = history_model.objects.filter(**{pk_name: OuterRef(pk_name)}).filter(
        Q(history_date__lt=OuterRef("history_date"))
        | Q(history_date=OuterRef("history_date"), history_id__lt=OuterRef("history_id"))
    )
    return Subquery(older.order_by("-history_date", "-history_id").values("history_id")[:1])


def history_page(sources: list[HistorySource], page_number) -> tuple[Page, list[HistoryEntry]]:
    """The sources' rows merged, newest first, one page of entries with their changes.

    Queries do not grow with the number of entries: one count and one page of (date, id) over the
    union of the sources, then per source on the page its rows and their previous rows, then one
    query per related model for names.
    """
    parts = [
        source.rows.order_by()
        .annotate(source=Value(i, output_field=models.IntegerField()))
        .values_list("history_date", "history_id", "source")
        for i, source in enumerate(sources)
    ]
    merged = parts[0].union(*parts[1:], all=True).order_by("-history_date", "-history_id")
    page = Paginator(merged, PAGE_SIZE).get_page(page_number)
    keys = list(page.object_list)

    wanted: dict[int, list[int]] = {}
    for _date, history_id, index in keys:
        wanted.setdefault(index, []).append(history_id)
    rows: dict[tuple[int, int], Any] = {}
    prevs: dict[tuple[int, int], Any] = {}
    ids_by_model: dict[type[models.Model], set] = {}
    for index, history_ids in wanted.items():
        history_model = sources[index].rows.model
        fetched = list(
            history_model.objects.filter(history_id__in=history_ids)
            .select_related("history_user")
            .annotate(previous_id=_previous_row_id(history_model))
        )
        older = history_model.objects.filter(history_id__in=[r.previous_id for r in fetched if r.previous_id])
        older_by_id = {r.history_id: r for r in older}
        for row in fetched:
            rows[index, row.history_id] = row
            prevs[index, row.history_id] = older_by_id.get(row.previous_id)
        # The reported fields' foreign keys (describe() uses only those too): names for all, at once.
        foreign_keys = [f for f in _diff_fields(history_model) if isinstance(f, models.ForeignKey)]
        for row in [*fetched, *older_by_id.values()]:
            for field in foreign_keys:
                ids_by_model.setdefault(field.related_model, set()).add(getattr(row, field.attname))
    names = Names(ids_by_model)

    entries = []
    for _date, history_id, index in keys:
        row = rows[index, history_id]
        fields = _diff_fields(sources[index].rows.model)
        entries.append(
            HistoryEntry(
                when=row.history_date,
                who=display_name(row.history_user) if row.history_user else _("system"),
                kind=ACTIONS[row.history_type][0],
                action=str(ACTIONS[row.history_type][1]),
                subject=sources[index].describe(row, names),
                changes=_changes(row, prevs[index, history_id], fields, names),
            )
        )
    return page, entries


# --- What each history page shows ---------------------------------------------------------------


def _dated(row) -> str:
    return row.start.strftime("%d/%m/%Y") if row.start else ""


def member_history_sources(member: Member) -> list[HistorySource]:
    """The member record and its memberships, status periods, positions, attachments and transfers."""
    return [
        HistorySource(Member.history.filter(id=member.pk), lambda row, names: str(_("Member record"))),
        HistorySource(
            Membership.history.filter(member_id=member.pk),
            lambda row, names: _("Membership: %(cell)s") % {"cell": names.of(PartyUnit, row.cell_id)},
        ),
        HistorySource(
            StatusPeriod.history.filter(member_id=member.pk),
            lambda row, names: f"{row.get_kind_display()} ({_dated(row)})",
        ),
        HistorySource(
            Position.history.filter(member_id=member.pk),
            lambda row, names: f"{row.get_role_display()} — {names.of(PartyUnit, row.unit_id)}",
        ),
        HistorySource(
            TemporaryAttachment.history.filter(member_id=member.pk),
            lambda row, names: _("Temporary attachment: %(cell)s") % {"cell": names.of(PartyUnit, row.cell_id)},
        ),
        HistorySource(
            Transfer.history.filter(member_id=member.pk),
            lambda row, names: _("Transfer of %(date)s") % {"date": row.date.strftime("%d/%m/%Y")},
        ),
    ]


def _holder(row, names: Names) -> str:
    return names.of(Member, row.member_id) if row.member_id else names.of(User, row.user_id)


def unit_history_sources(unit: PartyUnit) -> list[HistorySource]:
    """The unit record and its positions, terms and settings."""
    return [
        HistorySource(PartyUnit.history.filter(id=unit.pk), lambda row, names: str(_("Unit record"))),
        HistorySource(
            Position.history.filter(unit_id=unit.pk),
            lambda row, names: f"{row.get_role_display()}: {_holder(row, names)}",
        ),
        HistorySource(Term.history.filter(unit_id=unit.pk), lambda row, names: _("Term %(name)s") % {"name": row.name}),
        HistorySource(
            UnitSetting.history.filter(unit_id=unit.pk),
            lambda row, names: _("Setting: %(key)s") % {"key": row.key},
        ),
    ]


def member_reads(member: Member):
    return MemberReadLog.objects.filter(member=member).select_related("user").order_by("-opened_at", "-pk")
