"""Attendance dashboards (issue 7): a unit's subtree and a period, drill-down to a cell and a member,
members at risk, exports and the printable report. A top layer: reads every app via cells.stats.

Scope is exactly the user's VIEW_DASHBOARD units (members/access.py): a committee member's whole
subtree, a secretary her own cell; anything else is a 404.
"""

from __future__ import annotations

import datetime
import hashlib
import uuid

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db.models import OuterRef, Subquery
from django.http import Http404, HttpRequest
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import get_format
from django.utils.html import escape
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from cells import stats
from cells.models import PartyUnit
from cells.templatetags.dashboard import LEVEL_CLASS, pct_text
from config.precompiled import PrecompiledGet
from meetings import summaries
from meetings.summaries import ym_of, ym_split
from members import access
from members.access import Action
from members.audit import client_address, read_log_record

TREND_MONTHS = 24
ZERO_UID = uuid.UUID(int=0)
SORT_COLUMNS = (
    ("name", _("Unit")),
    ("on_schedule", _("On schedule")),
    ("attendance", _("Attendance rate")),
    ("premeeting", _("Pre-meetings")),
    ("thematic", _("Thematic")),
    ("duration", _("Duration")),
    ("higher", _("Delegate")),
    ("missed", _("Missed months")),
)
SORTS = tuple(key for key, _label in SORT_COLUMNS)


# Compiled once per process and prepared on PostgreSQL (config/precompiled.py): every dashboard
# view reads it. The scope queryset (units_for) cost ~1 ms a view to build and plan; this one is a
# uid lookup checked against the user's grants in Python (access.can, the same rule).
_UNIT_BY_UID = PrecompiledGet(
    lambda uid: (
        PartyUnit.objects.select_related("parent")
        .annotate(
            summary_stamp=Subquery(summaries.SummaryStamp.objects.filter(unit_id=OuterRef("pk")).values("stamp")),
            summary_recent=Subquery(summaries.SummaryStamp.objects.filter(unit_id=OuterRef("pk")).values("recent")),
        )
        .filter(uid=uid)
    ),
    field="uid",
    sample=uuid.UUID("00000000-0000-4000-8000-0000000da5b0"),
)


def get_dashboard_unit(user, uid) -> PartyUnit:
    """The unit if the user may see its dashboard, else 404. Its summary stamp rides along as
    `summary_stamp` (None when it has none yet), and the stamp's history as `summary_recent`."""
    unit = _UNIT_BY_UID.get(uid)
    if unit is None or unit.kind == PartyUnit.Kind.GROUP or not access.can(user, Action.VIEW_DASHBOARD, unit):
        raise Http404
    return unit


class PeriodForm(forms.Form):
    PERIODS = (("month", _("Month")), ("quarter", _("Quarter")), ("year", _("Year")), ("range", _("Range")))
    period = forms.ChoiceField(label=_("Period"), choices=PERIODS, required=False)
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100, required=False)
    month = forms.IntegerField(label=_("Month"), min_value=1, max_value=12, required=False)
    quarter = forms.IntegerField(label=_("Quarter"), min_value=1, max_value=4, required=False)
    start = forms.CharField(label=_("From (month)"), required=False, widget=forms.TextInput(attrs={"type": "month"}))
    end = forms.CharField(label=_("To (month)"), required=False, widget=forms.TextInput(attrs={"type": "month"}))
    type = forms.ChoiceField(label=_("Cell type"), choices=[("", _("All types"))], required=False)

    def __init__(self, data, *args, **kwargs):
        super().__init__(data, *args, **kwargs)
        self.fields["type"].choices = [("", _("All types")), *PartyUnit.UnitType.choices]

    @staticmethod
    def _month(value: str) -> int | None:
        try:
            year, month = (int(part) for part in value.split("-")[:2])
        except (ValueError, AttributeError):
            return None
        return ym_of(year, month) if 2000 <= year <= 2100 and 1 <= month <= 12 else None

    def clean(self):
        data = super().clean()
        if data.get("period") == "range":
            low, high = self._month(data.get("start") or ""), self._month(data.get("end") or "")
            if low is None or high is None:
                raise forms.ValidationError(_("Give the first and last month of the range."))
            if high < low:
                raise forms.ValidationError(_("The last month of the range cannot be before the first."))
            if high - low > 59:
                raise forms.ValidationError(_("A range can cover at most five years."))
        return data

    def get_period(self, today: datetime.date) -> stats.Period:
        data = self.cleaned_data if self.is_valid() else {}
        kind = data.get("period") or "year"
        year = data.get("year") or today.year
        if kind == "month":
            return stats.Period.month(year, data.get("month") or today.month, today)
        if kind == "quarter":
            return stats.Period.quarter(year, data.get("quarter") or (today.month - 1) // 3 + 1, today)
        if kind == "range":
            return stats.Period.make("range", self._month(data["start"]), self._month(data["end"]), today)
        return stats.Period.year(year, today)


def _state(request):
    today = timezone.localdate()
    form = PeriodForm(request.GET or None)
    period = form.get_period(today)
    unit_type = form.cleaned_data.get("type") if form.is_valid() else ""
    query = period.query() | ({"type": unit_type} if unit_type else {})
    return form, period, unit_type or None, query


def _sort(rows, key: str, descending: bool):
    if key == "name":
        return sorted(rows, key=lambda r: r[0].search_name, reverse=descending)

    def value(row):
        f = row[1]
        v = f.missed_months if key == "missed" else getattr(f, "premeeting_rate" if key == "premeeting" else key)
        return (v is None, v if v is not None else 0)

    ordered = sorted(rows, key=value, reverse=descending)
    # Units without data stay at the bottom either way.
    return [r for r in ordered if value(r)[0] is False] + [r for r in ordered if value(r)[0] is True]


def trend_chart(points: list[tuple[int, stats.Figures]], width: int = 360, height: int = 160) -> dict:
    """Coordinates for the server-rendered SVG: attendance and on-schedule rate by month."""
    left, right, top, bottom = 30, 6, 8, 22
    n = max(len(points) - 1, 1)
    plot_w, plot_h = width - left - right, height - top - bottom

    def xy(i, rate):
        return round(left + plot_w * i / n, 1), round(top + plot_h * (1 - rate), 1)

    def line(metric):
        segments, current = [], []
        for i, (_ym, f) in enumerate(points):
            rate = getattr(f, metric)
            if rate is None:
                if current:
                    segments.append(current)
                current = []
            else:
                current.append(xy(i, rate))
        if current:
            segments.append(current)
        return [" ".join(f"{x},{y}" for x, y in seg) for seg in segments]

    labels = []
    for i, (ym, _f) in enumerate(points):
        year, month = ym_split(ym)
        if month in (1, 7) or i == 0:
            labels.append({"x": xy(i, 0)[0], "text": f"{month:02d}/{year % 100:02d}"})
    grid = [{"y": xy(0, r)[1], "label": f"{round(r * 100)}%"} for r in (0, 0.5, 0.7, 0.9, 1)]
    return {
        "width": width,
        "height": height,
        "attendance": line("attendance"),
        "dots": [xy(i, f.attendance) for i, (_ym, f) in enumerate(points) if f.attendance is not None],
        "on_schedule": line("on_schedule"),
        "labels": labels,
        "grid": grid,
        "target_y": xy(0, stats.TARGETS["attendance"])[1],
        "left": left,
        "right": width - right,
        "has_data": any(f.expected or f.meetings_held for _ym, f in points),
    }


def dashboard_context(request, unit: PartyUnit) -> dict:
    context, stamp, missed_page = _fragment_context(request, unit)
    period, unit_type, is_cell = context["period"], context["unit_type"], context["is_cell"]
    context["fragments"], ancestors, counts = _fragments(context, stamp, missed_page)
    # access.can() reads the user's grants already loaded for this request: no query per ancestor.
    context["ancestors"] = [a for a in ancestors if access.can(request.user, Action.VIEW_DASHBOARD, a)]
    # Resolutions and tasks are written by another app (its own per-unit month rows, which do not
    # move the summary stamps): read on every view, outside the cached fragments (in the statement
    # that builds fragments when some are missing, else on their own).
    context["resolutions"], context["tasks_due"], context["tasks_done"] = counts or stats.resolution_counts(
        unit, period, unit_type
    )
    context["tasks_rate"] = context["tasks_done"] / context["tasks_due"] if context["tasks_due"] else None
    if is_cell:
        context["meetings"] = list(stats.cell_meetings(unit, period))
        context["members"] = stats.cell_members(unit, period)
    return context


def warm_fragments(unit: PartyUnit) -> None:
    """Build the unit's default view (this year, every type, by unit and name) into the cache, as a
    first visitor would (cells.dashboard_tasks, in the active language); kept ones cost one read."""
    _fragments(*_fragment_context(HttpRequest(), unit))


def _fragment_context(request, unit: PartyUnit) -> tuple[dict, int, int]:
    """What the cached fragments are built from (nothing of the viewer's): the context, the unit's
    stamp and the missed list's page, from the request's query string."""
    form, period, unit_type, query = _state(request)
    group = request.GET.get("group") if request.GET.get("group") in ("unit", "type") else "unit"
    sort = request.GET.get("sort") if request.GET.get("sort") in SORTS else "name"
    descending = request.GET.get("dir") == "desc"
    try:
        missed_page = max(int(request.GET.get("missed_page") or 1), 1)
    except ValueError:
        missed_page = 1
    is_cell = unit.kind == PartyUnit.Kind.CELL
    stamp = getattr(unit, "summary_stamp", None)
    stamp = stamp if stamp is not None else summaries.stamp_of(unit.pk)
    context = {
        "unit": unit,
        "form": form,
        "period": period,
        "unit_type": unit_type,
        "unit_type_label": dict(PartyUnit.UnitType.choices).get(unit_type, ""),
        "query": query,
        "qs": urlencode(query),
        "group": group,
        "sort": sort,
        "descending": descending,
        "is_cell": is_cell,
        "sort_columns": SORT_COLUMNS,
    }
    context["stamp"] = stamp
    return context, stamp, missed_page


# Fragments of the page built from the summary tables, cached under the unit's summary stamp
# (meetings.summaries.SummaryStamp): every write that changes the unit's figures, or the name, type
# or place of a unit in its subtree, gives the unit a new stamp in the same transaction, so no
# fragment outlives a commit. The timeout only bounds what the cache keeps.
FRAGMENT_SECONDS = 24 * 3600


def _fragments(context: dict, stamp: int, missed_page: int) -> dict:
    unit, period, unit_type = context["unit"], context["period"], context["unit_type"]
    base = ":".join(
        str(part)
        for part in (
            "dash",
            unit.pk,
            stamp,
            get_language(),
            period.kind,
            period.low,
            period.high,
            int(period.current is not None),  # the last month in progress counts differently
            unit_type or "",
        )
    )
    if context["is_cell"]:
        table_key = None
    else:
        table_key = f"{base}:{context['group']}:{context['sort']}:{int(context['descending'])}"
    keys = {
        "summary": f"{base}:summary",
        "table": table_key,
        "missed": f"{base}:missed:{missed_page}",
        # The breadcrumb's units: a unit renamed or moved gives its whole subtree a new stamp.
        "ancestors": f"dash:{unit.pk}:{stamp}:ancestors",
    }
    found = cache.get_many([k for k in keys.values() if k])
    out = {name: found[key] for name, key in keys.items() if key in found}
    todo = [name for name, key in keys.items() if key and key not in found]
    counts = None
    if todo:
        new, counts = _build_fragments(context, todo, missed_page)
        out |= new
        cache.set_many({keys[name]: value for name, value in new.items()}, FRAGMENT_SECONDS)
    ancestors = out.pop("ancestors")
    fragments = {
        name: {part: mark_safe(html) for part, html in value.items()}  # noqa: S308 - rendered by us above
        if isinstance(value, dict)
        else mark_safe(value)  # noqa: S308
        for name, value in out.items()
    }
    return fragments, ancestors, counts


def _build_fragments(context: dict, todo: list[str], missed_page: int) -> tuple[dict, tuple[int, int, int]]:
    """The fragments not in the cache, and the live resolution counts. Their figures come from one
    statement (stats.read_parts): the unit's months for the headline and trend, for the child table
    and the missed list only the children whose values are not known (_Children) - after a write
    in one ward, that ward alone - and the live counts."""
    unit, period, unit_type = context["unit"], context["period"], context["unit_type"]
    children = None
    out = {}
    if not context["is_cell"] and ("missed" in todo or ("table" in todo and context["group"] != "type")):
        children = _Children(unit, context)
        if "ancestors" in todo:
            out["ancestors"] = children.ancestors
    if "ancestors" in todo and "ancestors" not in out:
        out["ancestors"] = [
            stats.UnitRow(*r) for r in unit.ancestors().exclude(pk=unit.pk).values_list(*stats.UnitRow.__slots__[:-1])
        ]
    missing = children.missing if children else []
    if children is None:
        missed_paths = [unit.path] if "missed" in todo else []
    else:
        missed_paths = [k.path for k in missing]
    parts = stats.read_parts(
        [
            stats.headline_part(unit, period, TREND_MONTHS, unit_type) if "summary" in todo else None,
            stats.child_figures_part([k.pk for k in missing], period, unit_type),
            stats.missed_part(missed_paths, period, unit_type),
            stats.resolution_counts_part(unit, period, unit_type),
        ]
    )
    if children is not None:
        children.fill(_child_values(missing, parts, context))
    if "summary" in todo:
        out["summary"] = _render_summary(context, *stats.split_headline_and_trend(parts.months, period, TREND_MONTHS))
    if "table" in todo:
        out["table"] = _render_table(context, children.kids if children else None, children.heads if children else {})
    if "missed" in todo:
        if children is None:
            out["missed"] = _render_missed(context, missed_page, parts.missed)
        else:
            out["missed"] = children.missed_fragment(context, missed_page)
    return out, parts.resolution_counts


def _child_values(missing: list[stats.UnitRow], parts: stats.Parts, context: dict) -> dict[int, tuple[dict, list]]:
    """What the page keeps per child: its figures, its table row and how many missed cell-months
    it holds under what digest (the head), and the list of those cell-months."""
    row_html = _unit_row_builder(context)
    values = {}
    missed = _missed_by_child(missing, parts.missed)
    for k in missing:
        f = parts.children.get(k.pk) or stats.Figures()
        rows = missed[k.pk]
        head = {
            "sums": f.sums,
            "row": row_html(k, f) if f.cell_months else "",
            "n": len(rows),
            "sig": hashlib.blake2b(repr(rows).encode(), digest_size=12).hexdigest() if rows else "",
        }
        values[k.pk] = (head, rows)
    return values


def _missed_by_child(kids: list[stats.UnitRow], rows: list[stats.MissedMonth]) -> dict[int, list[tuple]]:
    """The missed cell-months (in missed_months' order) of the cells under each unit, as tuples."""
    missed: dict[int, list] = {k.pk: [] for k in kids}
    paths = [(k.path, k.pk) for k in kids]
    for row in rows:
        pk = next(pk for path, pk in paths if row.path.startswith(path))
        missed[pk].append(row.as_tuple())
    return missed


class _Children:
    """A committee's child units and what its page shows of each (the head: figures, table row,
    how many missed cell-months under what digest), kept in one cache entry per unit, period, type
    and language together with the unit's summary stamp they were read under.

    After a write below the unit, its history of stamps (meetings.summaries.changed_children) names
    the children the writes changed since that stamp: only those are read again (their rows and
    stamps, their figures in the page's one statement) - for a province at 10x, one ward of ~800,
    where reading every child's stamp and cached values cost most of a miss. When the history cannot
    tell (a rebuild, a rename above, a long absence), every child is read with its stamp, and each
    head is taken from the cache under the child's own stamp where it is there (the earlier way).
    Each child's missed cell-months are kept under their digest (content-addressed) and the page's
    list under the digests of all its children: a write that leaves them as they were (most do)
    reuses the rendered list."""

    def __init__(self, unit: PartyUnit, context: dict):
        period, unit_type = context["period"], context["unit_type"] or ""
        self.unit, self.period, self.unit_type = unit, period, unit_type or None
        progress = int(period.current is not None)
        self.suffix = f"{get_language()}:{period.kind}:{period.low}:{period.high}:{progress}:{unit_type}"
        self.stamp = context["stamp"]
        self.key = f"dash:kids:{unit.pk}:{self.suffix}"
        saved = cache.get(self.key)
        since = None
        if saved is not None:
            recent = getattr(unit, "summary_recent", "")
            since = stats.children_since(unit, self.stamp, recent, saved["stamp"], saved["kids"])
        if since is None:
            self.kids, self.ancestors = stats.children_and_ancestors(unit)
            keys = {k.pk: self._child_key(k.pk, k.stamp) for k in self.kids if k.stamp is not None}
            found = cache.get_many(list(keys.values()))
            self.heads = {pk: found[key] for pk, key in keys.items() if key in found}
            self.missing = [k for k in self.kids if k.pk not in self.heads]
            return
        self.ancestors = saved["ancestors"]
        self.kids, self.missing, _histories = since
        fresh = {k.pk for k in self.missing}
        self.heads = {k.pk: saved["heads"][k.pk] for k in self.kids if k.pk not in fresh}

    def _child_key(self, pk: int, stamp: int) -> str:
        return f"dash:child2:{pk}:{stamp}:{self.suffix}"

    def fill(self, fresh: dict[int, tuple[dict, list]]) -> None:
        """The missing children's values, kept: each head under the child's stamp, each list of
        missed cell-months under its digest, and the unit's whole set under its stamp."""
        stamps = {k.pk: k.stamp for k in self.missing}
        entries = {}
        for pk, (head, rows) in fresh.items():
            self.heads[pk] = head
            if stamps.get(pk) is not None:
                entries[self._child_key(pk, stamps[pk])] = head
            if rows:
                entries[f"dash:cmissed:{head['sig']}"] = rows
        entries[self.key] = {"stamp": self.stamp, "kids": self.kids, "ancestors": self.ancestors, "heads": self.heads}
        cache.set_many(entries, FRAGMENT_SECONDS)

    def missed_fragment(self, context: dict, page: int) -> str:
        """The page of the unit's missed cell-months, kept under its children's lists' digests: the
        lists themselves are read (and merged a page at a time) only when one of them changed."""
        with_missed = [k for k in self.kids if self.heads[k.pk]["n"]]
        digest = hashlib.blake2b(
            ";".join(f"{k.pk}:{self.heads[k.pk]['sig']}" for k in with_missed).encode(), digest_size=16
        ).hexdigest()
        key = f"dash:missedpage:{self.unit.pk}:{self.suffix}:{digest}:{page}"
        html = cache.get(key)
        if html is None:
            wanted = {k.pk: f"dash:cmissed:{self.heads[k.pk]['sig']}" for k in with_missed}
            found = cache.get_many(list(wanted.values()))
            lost = [k for k in with_missed if wanted[k.pk] not in found]
            if lost:  # evicted from the cache: read from the summary tables again
                rows = stats.read_parts([stats.missed_part([k.path for k in lost], self.period, self.unit_type)]).missed
                found |= {wanted[pk]: lists for pk, lists in _missed_by_child(lost, rows).items()}
            html = _render_missed(context, page, stats.MergedLists([found[wanted[k.pk]] for k in with_missed]))
            cache.set(key, html, FRAGMENT_SECONDS)
        return html


def _render_summary(context: dict, headline: stats.Figures, trend: list[tuple[int, stats.Figures]]) -> dict:
    ctx = context | {
        "headline": headline,
        "metrics": [(key, label, headline.level(key)) for key, label in stats.METRICS],
        "trend": trend_chart(trend),
    }
    return {
        "cards": render_to_string("cells/dashboard/unit.html#cards", ctx),
        "trend": render_to_string("cells/dashboard/_trend.html", ctx),
    }


def _render_table(context: dict, kids, values: dict[int, dict]) -> str:
    if context["group"] == "type":
        return render_to_string(
            "cells/dashboard/unit.html#type-table",
            context | {"type_rows": stats.by_type(context["unit"], context["period"])},
        )
    rows = [(k, stats.Figures(dict(values[k.pk]["sums"])), values[k.pk]["row"]) for k in kids]
    rows = _sort([r for r in rows if r[1].cell_months], context["sort"], context["descending"])
    body = mark_safe("".join(html for _u, _f, html in rows))  # noqa: S308 - every name is escaped in the row
    return render_to_string("cells/dashboard/unit.html#unit-table", context | {"body": body})


def _unit_row_builder(context: dict):
    """A function giving a child's row of the table as one string: a province holds ~80 units and 8
    figures each, and a template tag per figure cost ~1 ms a row."""
    separator = get_format("DECIMAL_SEPARATOR")
    href = reverse("dashboard:unit", kwargs={"uid": ZERO_UID}).replace(str(ZERO_UID), "{}") + "?" + context["qs"]
    href = escape(href)
    types = {value: escape(label) for value, label in PartyUnit.UnitType.choices}
    flag = f' <span class="badge text-bg-danger" title="{escape(_("Below target"))}">!</span>'

    def row(u: stats.UnitRow, f: stats.Figures) -> str:
        levels = f.levels
        cells = [
            f'<td class="text-end text-{LEVEL_CLASS[levels[metric]]}">{pct_text(value, separator)}</td>'
            for metric, value in (
                ("on_schedule", f.on_schedule),
                ("attendance", f.attendance),
                ("premeeting", f.premeeting_rate),
                ("thematic", f.thematic),
            )
        ]
        badge = (
            f' <span class="badge text-bg-light border d-none d-md-inline">{types.get(u.unit_type, "")}</span>'
            if u.kind == PartyUnit.Kind.CELL
            else ""
        )
        warn = flag if any(level in ("warn", "bad") for level in levels.values()) else ""
        missed = f.missed_months
        missed = f'<span class="text-danger">{missed}</span>' if missed else "0"
        return (
            f'<tr><td><a href="{href.format(u.uid)}">{escape(u.display_name)}</a>{badge}{warn}</td>'
            + "".join(cells)
            + f'<td class="text-end">{pct_text(f.duration, separator)}</td>'
            f'<td class="text-end">{pct_text(f.higher, separator)}</td>'
            f'<td class="text-end">{missed}</td></tr>'
        )

    return row


def _render_missed(context: dict, page: int, rows) -> str:
    """The page of missed cell-months (tuples or stats.MissedMonth in missed_months' order): each
    link built from one reversed URL, not a {% url %} per row."""
    href = reverse("dashboard:unit", kwargs={"uid": ZERO_UID}).replace(str(ZERO_UID), "{}") + "?" + context["qs"]
    missed = Paginator(rows, 20).get_page(page)
    missed.object_list = [
        {"href": href.format(r.uid), "name": r.display_name, "label": r.label}
        for r in (row if isinstance(row, stats.MissedMonth) else stats.MissedMonth(*row) for row in missed.object_list)
    ]
    return render_to_string("cells/dashboard/unit.html#missed", context | {"missed": missed})


@login_required
def dashboard_home(request):
    top = access.root_units_for(request.user, Action.VIEW_DASHBOARD).exclude(kind=PartyUnit.Kind.GROUP).first()
    if top is None:
        raise Http404
    return redirect("dashboard:unit", uid=top.uid)


@login_required
def unit_dashboard(request, uid):
    unit = get_dashboard_unit(request.user, uid)
    return render(request, "cells/dashboard/unit.html", dashboard_context(request, unit))


@login_required
def at_risk(request, uid):
    unit = get_dashboard_unit(request.user, uid)
    today = timezone.localdate()
    try:
        year = int(request.GET.get("year") or today.year)
    except ValueError:
        year = today.year
    year = min(max(year, 2000), today.year)
    # Kept in the cache under the unit's summary stamp (stats.at_risk_list): a repeat view reads the
    # page's 50 entries; each member's link from one reversed URL, not a {% url %} per row.
    page = stats.at_risk_page(unit, year, request.GET.get("page"), 50, today)
    href = reverse("dashboard:member", kwargs={"uid": ZERO_UID}).replace(str(ZERO_UID), "{}") + f"?year={year}"
    for row in page.object_list:
        row.href = href.format(row.member.uid)
    return render(
        request,
        "cells/dashboard/at_risk.html",
        {
            "unit": unit,
            "year": year,
            "page": page,
            "total": page.paginator.count,
            "years": range(today.year, today.year - 5, -1),
        },
    )


@login_required
def member_dashboard(request, uid):
    member = access.members_in_scope(request.user, Action.VIEW_DASHBOARD).filter(uid=uid).select_related("home_unit")
    member = member.first()
    if member is None:
        raise Http404
    read_log_record(user=request.user, member=member, ip=client_address(request))
    today = timezone.localdate()
    try:
        year = min(max(int(request.GET.get("year") or today.year), 2000), today.year)
    except ValueError:
        year = today.year
    months, count = stats.member_year(member, year, today)
    return render(
        request,
        "cells/dashboard/member.html",
        {
            "member": member,
            "year": year,
            "months": months,
            "count": count,
            "level": count.level(),
            "years": range(today.year, today.year - 5, -1),
            "back": reverse("dashboard:unit", kwargs={"uid": member.home_unit.uid}) if member.home_unit else None,
        },
    )
