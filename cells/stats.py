"""The one statistics module: every metric of DOMAIN.md "Dashboard metrics" for a unit's subtree and
a period, grouped by child unit, cell type or month, in a constant number of queries.

The figures come from the roll-up rows of meetings.summaries (one row per unit, cell type and
month), so a province answers as fast as a cell. `live_figures` computes the same figures from the
raw tables (tests, `rebuild_summaries --check`, bench/dashboard.py). Cells count only in the months
they are active (founded/dissolved dates). Thematic cadence is measured per quarter, so a period is
widened to whole quarters for it (a month shows its quarter so far).
"""

from __future__ import annotations

import calendar
import datetime
import heapq
import itertools
import uuid
from dataclasses import dataclass, field

from django.core.cache import cache
from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import Case, Count, F, Func, IntegerField, OuterRef, Q, Subquery, Sum, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cells.models import PATH_STEP, PartyUnit
from cells.tree_settings import settings_for
from config.precompiled import prepared_cursor
from meetings.discipline import discipline_count
from meetings.models import Attendance, CellMonth, Meeting, UnitMonth
from meetings.summaries import (
    SUM_FIELDS,
    MemberYear,
    SummaryStamp,
    ancestor_paths,
    changed_children,
    live_cell_months,
    quarter_start,
    stamp_of,
    ym_end,
    ym_of,
    ym_split,
    ym_start,
)
from members.models import DuesPayment, Member, Membership
from resolutions.models import Resolution, ResolutionMonth, Task

QUARTER_FIELDS = ("cell_quarters", "thematic_quarters")
PERIOD_FIELDS = tuple(f for f in SUM_FIELDS if f not in QUARTER_FIELDS)
# A month still in progress is not missed yet, nor a quarter without its thematic meeting yet: there
# a cell counts in the denominator only once it has held the meeting (the numerator's column).
IN_PROGRESS = {"cell_months": ("held_months", 0), "cell_quarters": ("thematic_quarters", 1)}


def _progress_start(field_name: str, current: int) -> int:
    """The first month whose rows count field_name only where met: the current month, or the first
    month of the current quarter."""
    return quarter_start(current) if IN_PROGRESS[field_name][1] else current


def counted_in_progress(sums: dict[str, int], ym: int, current: int | None) -> dict[str, int]:
    """One month's summed row (UnitMonth or CellMonth columns) as the rates count it when `current`
    is the month in progress (DOMAIN.md metrics; the rule of IN_PROGRESS)."""
    if current is None or ym < quarter_start(current):
        return sums
    out = dict(sums)
    for name, (met, _quarter) in IN_PROGRESS.items():
        if ym >= _progress_start(name, current):
            out[name] = sums.get(met) or 0
    return out


# Targets from practice (DOMAIN.md): attendance >= 90%, on-schedule 100%, pre-meeting 100%,
# thematic at least once a quarter. Below 70% attendance is where one bloc committee started.
TARGETS = {"attendance": 0.90, "on_schedule": 1.0, "premeeting": 1.0, "thematic": 1.0}
POOR = {"attendance": 0.70, "on_schedule": 0.80, "premeeting": 0.80, "thematic": 0.80}


# --- Periods -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    kind: str  # month, quarter, year, range
    low: int  # first month (ym)
    high: int  # last month (ym), never after the current month
    # The current month when the period reaches it (then high): a month, or a quarter, still in
    # progress counts only where its meeting has been held (counted_in_progress).
    current: int | None = None

    @property
    def start(self) -> datetime.date:
        return ym_start(self.low)

    @property
    def end(self) -> datetime.date:
        return ym_end(self.high)

    @property
    def quarter_low(self) -> int:
        return quarter_start(self.low)

    @property
    def months(self) -> list[int]:
        return list(range(self.low, self.high + 1))

    @property
    def label(self) -> str:
        (y1, m1), (y2, m2) = ym_split(self.low), ym_split(self.high)
        if self.kind == "month":
            return _("Month %(month)s/%(year)s") % {"month": m1, "year": y1}
        if self.kind == "quarter":
            return _("Quarter %(quarter)s/%(year)s") % {"quarter": (m1 - 1) // 3 + 1, "year": y1}
        if self.kind == "year":
            return _("Year %(year)s") % {"year": y1}
        return _("%(m1)s/%(y1)s to %(m2)s/%(y2)s") % {"m1": m1, "y1": y1, "m2": m2, "y2": y2}

    def query(self) -> dict[str, str]:
        y, m = ym_split(self.low)
        if self.kind == "month":
            return {"period": "month", "year": str(y), "month": str(m)}
        if self.kind == "quarter":
            return {"period": "quarter", "year": str(y), "quarter": str((m - 1) // 3 + 1)}
        if self.kind == "year":
            return {"period": "year", "year": str(y)}
        y2, m2 = ym_split(self.high)
        return {"period": "range", "from": f"{y}-{m:02d}", "to": f"{y2}-{m2:02d}"}

    @classmethod
    def make(cls, kind: str, low: int, high: int, today: datetime.date | None = None) -> Period:
        today = today or timezone.localdate()
        now = ym_of(today.year, today.month)
        high = min(high, now)
        return cls(kind, min(low, high), high, now if high == now else None)

    @classmethod
    def month(cls, year: int, month: int, today=None) -> Period:
        return cls.make("month", ym_of(year, month), ym_of(year, month), today)

    @classmethod
    def quarter(cls, year: int, quarter: int, today=None) -> Period:
        low = ym_of(year, 3 * quarter - 2)
        return cls.make("quarter", low, low + 2, today)

    @classmethod
    def year(cls, year: int, today=None) -> Period:
        return cls.make("year", ym_of(year, 1), ym_of(year, 12), today)


# --- Figures -------------------------------------------------------------------------------------


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass
class Figures:
    """Sums over cells and months, and the DOMAIN.md rates computed from them."""

    sums: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SUM_FIELDS, 0))
    resolutions: int | None = None
    tasks_due: int | None = None
    tasks_done: int | None = None

    def __getattr__(self, name):
        sums = self.__dict__.get("sums", {})
        if name in sums:
            return sums[name]
        raise AttributeError(name)

    @property
    def on_schedule(self) -> float | None:
        return _ratio(self.sums["held_months"], self.sums["cell_months"])

    @property
    def premeeting_rate(self) -> float | None:
        return _ratio(self.sums["premeeting"], self.sums["regular_held"])

    @property
    def attendance(self) -> float | None:
        return _ratio(self.sums["present"], self.sums["expected"])

    @property
    def duration(self) -> float | None:
        return _ratio(self.sums["duration_ok"], self.sums["timed_held"])

    @property
    def higher(self) -> float | None:
        return _ratio(self.sums["higher_delegate"], self.sums["regular_held"])

    @property
    def thematic(self) -> float | None:
        return _ratio(self.sums["thematic_quarters"], self.sums["cell_quarters"])

    @property
    def missed_months(self) -> int:
        return self.sums["cell_months"] - self.sums["held_months"]

    @property
    def tasks_rate(self) -> float | None:
        return _ratio(self.tasks_done or 0, self.tasks_due or 0)

    def level(self, metric: str) -> str:
        """ok / warn / bad against the target (DOMAIN.md targets); none without data."""
        value = {
            "attendance": self.attendance,
            "on_schedule": self.on_schedule,
            "premeeting": self.premeeting_rate,
            "thematic": self.thematic,
        }[metric]
        if value is None:
            return "none"
        if value >= TARGETS[metric] - 1e-9:
            return "ok"
        return "warn" if value >= POOR[metric] else "bad"

    @property
    def levels(self) -> dict[str, str]:
        return {m: self.level(m) for m in TARGETS}

    @property
    def flags(self) -> list[str]:
        return [m for m, lvl in self.levels.items() if lvl in ("warn", "bad")]

    def add(self, other: dict[str, int]) -> None:
        for f in SUM_FIELDS:
            self.sums[f] += other.get(f) or 0


METRICS = (
    ("on_schedule", gettext_lazy("Regular meetings on schedule")),
    ("attendance", gettext_lazy("Attendance rate")),
    ("premeeting", gettext_lazy("Committee pre-meetings")),
    ("thematic", gettext_lazy("Thematic meetings each quarter")),
)


def _counted(field_name: str, period: Period):
    """The column as the rates count it (IN_PROGRESS), as an ORM expression."""
    if period.current is None or field_name not in IN_PROGRESS:
        return F(field_name)
    start = _progress_start(field_name, period.current)
    return Case(When(ym__gte=start, then=F(IN_PROGRESS[field_name][0])), default=F(field_name))


def _aggregates(period: Period) -> dict:
    in_period = Q(ym__gte=period.low)
    return {f: Sum(_counted(f, period), filter=in_period) for f in PERIOD_FIELDS} | {
        f: Sum(_counted(f, period)) for f in QUARTER_FIELDS
    }


def _rows(period: Period, unit_type: str | None = None, **filters):
    rows = UnitMonth.objects.filter(ym__gte=period.quarter_low, ym__lte=period.high, **filters)
    return rows.filter(unit_type=unit_type) if unit_type else rows


def _figures(values: dict) -> Figures:
    return Figures({f: values.get(f) or 0 for f in SUM_FIELDS})


def figures(unit: PartyUnit, period: Period, unit_type: str | None = None, resolutions: bool = True) -> Figures:
    """The headline: one query (plus one each for resolutions and tasks, unless left out)."""
    result = _figures(_rows(period, unit_type, unit_id=unit.pk).aggregate(**_aggregates(period)))
    if resolutions:
        result.resolutions, result.tasks_due, result.tasks_done = resolution_counts(unit, period, unit_type)
    return result


def live_resolution_counts(unit: PartyUnit, period: Period, unit_type: str | None = None) -> tuple[int, int, int]:
    """resolution_counts() counted over the raw tables (tests, bench/dashboard.py): one query of
    three scalar subqueries."""
    scope = Q(unit__path__startswith=unit.path) & (Q(unit__unit_type=unit_type) if unit_type else Q())
    resolutions = Resolution.objects.filter(scope, issued_on__gte=period.start, issued_on__lte=period.end)
    tasks = Task.objects.filter(scope, due_on__gte=period.start, due_on__lte=period.end)
    done = Case(When(status=Task.Status.DONE, then=Value(1)))

    def count(queryset, what=None):
        # COUNT over the whole filtered set, as a scalar subquery (no GROUP BY): three counts, one query.
        what = what if what is not None else Value(1)
        return Subquery(queryset.order_by().annotate(n=Func(what, function="COUNT")).values("n"))

    units = PartyUnit.objects.filter(pk=unit.pk).order_by()
    return units.values_list(count(resolutions), count(tasks), count(tasks, done)).get()


def resolution_counts_part(unit: PartyUnit, period: Period, unit_type: str | None = None) -> tuple[str, list]:
    """Part 3 of read_parts: the unit's rows of resolutions/counts.py for the period summed
    (resolutions issued, tasks due, tasks done: in the key, ym and first sum columns)."""
    table = connection.ops.quote_name(ResolutionMonth._meta.db_table)
    rest = _nulls(["bigint"] * (len(SUM_FIELDS) - 1))
    sql = (
        f"SELECT 3, CAST(COALESCE(SUM(resolutions), 0) AS bigint), CAST(COALESCE(SUM(tasks_due), 0) AS integer),"  # noqa: S608
        f" CAST(COALESCE(SUM(tasks_done), 0) AS bigint), {rest}, {_no_text()} FROM {table}"
        " WHERE unit_id = %s AND ym >= %s AND ym <= %s"
    )
    params: list = [unit.pk, period.low, period.high]
    if unit_type:
        sql += " AND unit_type = %s"
        params.append(unit_type)
    return sql, params


def resolution_counts(unit: PartyUnit, period: Period, unit_type: str | None = None) -> tuple[int, int, int]:
    """Resolutions and conclusions issued in the period; tasks due in it and how many are done
    (from the per-unit month rows: a few index rows for any unit and range)."""
    counts = read_parts([resolution_counts_part(unit, period, unit_type)]).resolution_counts
    return counts or (0, 0, 0)


@dataclass(frozen=True, slots=True)
class UnitRow:
    """The columns of a child unit the dashboard's table shows (no model instance per row)."""

    pk: int
    uid: uuid.UUID
    name: str
    short_name: str
    kind: str
    unit_type: str
    search_name: str
    path: str = ""
    stamp: int | None = None

    @property
    def display_name(self) -> str:
        return self.short_name or self.name


def children(unit: PartyUnit, with_stamps: bool = False) -> list[UnitRow]:
    """The unit's child units (groups aside), by name; with_stamps: each with its summary stamp."""
    rows = PartyUnit.objects.filter(parent=unit).exclude(kind=PartyUnit.Kind.GROUP).order_by("search_name")
    stamp = SummaryStamp.objects.filter(unit_id=OuterRef("pk")).values("stamp")
    rows = rows.annotate(stamp=Subquery(stamp) if with_stamps else Value(None, output_field=IntegerField()))
    return [UnitRow(*r) for r in rows.values_list(*UnitRow.__slots__)]


def children_and_ancestors(unit: PartyUnit) -> tuple[list[UnitRow], list[UnitRow]]:
    """children(unit, with_stamps=True) and the unit's ancestors from the root down (the page's
    breadcrumb), in one query (SQL written once: the ORM took ~2 ms to build it)."""
    ancestors = [p for p in ancestor_paths(unit.path) if p != unit.path]
    units, stamps = (connection.ops.quote_name(m._meta.db_table) for m in (PartyUnit, SummaryStamp))
    columns = ", ".join(f"u.{_column(PartyUnit, f)}" for f in UnitRow.__slots__[:-1] if f != "pk")
    above = f" OR u.path IN ({', '.join(['%s'] * len(ancestors))})" if ancestors else ""
    # The stamp as a correlated subquery: one lookup on its unique index per unit (~80 for a
    # province), where a LEFT JOIN was planned as a hash join over every unit's stamp.
    sql = (
        f"SELECT u.id, {columns}, (SELECT s.stamp FROM {stamps} s WHERE s.unit_id = u.id), u.parent_id"  # noqa: S608
        f" FROM {units} u WHERE (u.parent_id = %s AND u.kind <> %s){above} ORDER BY u.depth, u.search_name"
    )
    kids, rows_above = [], []
    with prepared_cursor() as cursor:  # one text per depth: planned once per connection on PostgreSQL
        cursor.execute(sql, [unit.pk, PartyUnit.Kind.GROUP, *ancestors])
        for pk, uid, *values, parent_id in cursor.fetchall():
            row = UnitRow(pk, uid if isinstance(uid, uuid.UUID) else uuid.UUID(str(uid)), *values)
            (kids if parent_id == unit.pk else rows_above).append(row)
    return kids, rows_above


def units_by_id(ids: list[int]) -> list[tuple[UnitRow, int | None, str]]:
    """The units of these ids (groups aside), each with its summary stamp, its parent's id and its
    stamp's history: the children a write changed, read again for a committee's page (one prepared
    statement)."""
    units, stamps = (connection.ops.quote_name(m._meta.db_table) for m in (PartyUnit, SummaryStamp))
    columns = ", ".join(f"u.{_column(PartyUnit, f)}" for f in UnitRow.__slots__[:-1] if f != "pk")
    where, params = _in_list("u.id", ids)
    sql = (
        f"SELECT u.id, {columns}, s.stamp, u.parent_id, s.recent"  # noqa: S608
        f" FROM {units} u LEFT JOIN {stamps} s ON s.unit_id = u.id WHERE {where} AND u.kind <> %s"
    )
    out = []
    with prepared_cursor() as cursor:
        cursor.execute(sql, [*params, PartyUnit.Kind.GROUP])
        for pk, uid, *values, parent_id, recent in cursor.fetchall():
            row = UnitRow(pk, uid if isinstance(uid, uuid.UUID) else uuid.UUID(str(uid)), *values)
            out.append((row, parent_id, recent or ""))
    return out


def children_since(
    unit, stamp: int | None, recent: str | None, saved_stamp: int, saved_kids: list[UnitRow]
) -> tuple[list[UnitRow], list[UnitRow], dict[int, str]] | None:
    """The unit's children now, from those read under its earlier stamp `saved_stamp` and its
    stamp's history (meetings.summaries.changed_children): (children by name, the ones read again,
    {pk: their own history}, to go down a level the same way). Only the children the history names
    are read (one prepared statement); None when it cannot tell (then read every child)."""
    changed = changed_children(recent or "", stamp, saved_stamp) if stamp is not None else None
    if changed is None:
        return None
    if not changed:
        return saved_kids, [], {}
    by_pk = {k.pk: k for k in saved_kids if k.pk not in changed}
    fresh, histories = [], {}
    for row, parent_id, history in units_by_id(sorted(changed)):
        if parent_id == unit.pk:  # still a child (a unit moved away is left out)
            by_pk[row.pk] = row
            fresh.append(row)
            histories[row.pk] = history
    return sorted(by_pk.values(), key=lambda k: k.search_name), fresh, histories


def kept_children(unit, stamp: int | None, recent: str | None) -> tuple[list[UnitRow], dict[int, str]]:
    """children_and_ancestors(unit)'s children, kept in the cache with the unit's stamp and brought
    up to date by children_since: (children, {pk: history} of those read again)."""
    key = f"kids:{unit.pk}"
    saved = cache.get(key) if stamp is not None else None
    if saved is not None and saved["stamp"] == stamp:
        return saved["kids"], {}
    since = children_since(unit, stamp, recent, saved["stamp"], saved["kids"]) if saved is not None else None
    if since is None:
        kids, histories = children_and_ancestors(unit)[0], {}
    else:
        kids, _fresh, histories = since
    if stamp is not None:
        cache.set(key, {"stamp": stamp, "kids": kids}, RISK_SECONDS)
    return kids, histories


class MergedLists:
    """Lists each in one order, as one list in that order for a Paginator: its length is summed,
    and only the slice asked for is merged (heapq), where sorting every row cost a province at 10x
    most of a page's time (~25,000 missed cell-months, ~32,000 members at risk)."""

    def __init__(self, lists: list[list]):
        self.lists = [rows for rows in lists if rows]

    def __len__(self) -> int:
        return sum(len(rows) for rows in self.lists)

    def __iter__(self):
        return heapq.merge(*self.lists)

    def __getitem__(self, index):
        if not isinstance(index, slice) or index.step not in (None, 1):
            raise TypeError("a page: a slice with no step")
        start, stop, _step = index.indices(len(self))
        return list(itertools.islice(heapq.merge(*self.lists), start, stop))


def child_figures(unit_ids: list[int], period: Period, unit_type: str | None = None) -> dict[int, Figures]:
    """Each unit's figures for the period: one query, their roll-up rows summed."""
    return read_parts([child_figures_part(unit_ids, period, unit_type)]).children


def by_child(unit: PartyUnit, period: Period, unit_type: str | None = None) -> list[tuple[UnitRow, Figures]]:
    """One row per child unit (committee, grassroots committee or cell) with data in the period:
    two narrow queries (the children's columns, their roll-up rows summed)."""
    kids = children(unit)
    figures = child_figures([u.pk for u in kids], period, unit_type) if kids else {}
    return [(u, figures[u.pk]) for u in kids if u.pk in figures and figures[u.pk].cell_months]


def by_type(unit: PartyUnit, period: Period) -> list[tuple[str, str, Figures]]:
    grouped = _rows(period, unit_id=unit.pk).values("unit_type").annotate(**_aggregates(period))
    labels = dict(PartyUnit.UnitType.choices)
    rows = [(g["unit_type"], labels.get(g["unit_type"], g["unit_type"]), _figures(g)) for g in grouped]
    return sorted(
        [r for r in rows if r[2].cell_months], key=lambda r: list(labels).index(r[0]) if r[0] in labels else 99
    )


def by_month(
    unit: PartyUnit, low: int, high: int, unit_type: str | None = None, current: int | None = None
) -> list[tuple[int, Figures]]:
    """Each month's figures; `current`: the month in progress (counted_in_progress)."""
    rows = UnitMonth.objects.filter(unit_id=unit.pk, ym__gte=low, ym__lte=high)
    if unit_type:
        rows = rows.filter(unit_type=unit_type)
    grouped = {
        g["ym"]: _figures(counted_in_progress(g, g["ym"], current))
        for g in rows.values("ym").annotate(**{f: Sum(f) for f in SUM_FIELDS})
    }
    return [(ym, grouped.get(ym, Figures())) for ym in range(low, high + 1)]


def trend(unit: PartyUnit, period: Period, months: int = 24, unit_type: str | None = None):
    high = period.high
    return by_month(unit, high - months + 1, high, unit_type, period.current)


def _column(model, name: str) -> str:
    return connection.ops.quote_name(model._meta.get_field(name).column)


# The page's figures after a write, in SQL written once: building these queries with the ORM cost
# ~3-4 ms of Python each at province scale, several times their database time. Each part is one
# SELECT of the same columns (part, key, ym, the sums, the cell's columns), so the parts a miss
# needs go to the database as one UNION ALL: one round trip (read_parts).
_TEXT_COLUMNS = ("search_name", "uid", "name", "short_name", "path")


def _nulls(types: list[str]) -> str:
    # Typed: PostgreSQL matches a UNION's columns part by part, and NULL with NULL makes text.
    return ", ".join(f"CAST(NULL AS {t})" for t in types)


def _no_sums() -> str:
    return _nulls(["bigint"] * len(SUM_FIELDS))


def _no_text() -> str:
    return _nulls([PartyUnit._meta.get_field(f).db_type(connection) for f in _TEXT_COLUMNS])


def _month_sums_part(unit_id: int, low: int, high: int, unit_type: str | None) -> tuple[str, list]:
    """Part 0: the unit's roll-up rows of months low..high summed by month (over cell types, or
    one type), on the unique (unit, ym, unit_type) index."""
    table = connection.ops.quote_name(UnitMonth._meta.db_table)
    sums = ", ".join(f"SUM({_column(UnitMonth, f)})" for f in SUM_FIELDS)
    ym, unit_col = _column(UnitMonth, "ym"), _column(UnitMonth, "unit")
    sql = (
        f"SELECT 0, {ym}, CAST(NULL AS integer), {sums}, {_no_text()} FROM {table}"  # noqa: S608 - names from the model
        f" WHERE {unit_col} = %s AND {ym} >= %s AND {ym} <= %s"
    )
    params: list = [unit_id, low, high]
    if unit_type:
        sql += f" AND {_column(UnitMonth, 'unit_type')} = %s"
        params.append(unit_type)
    return f"{sql} GROUP BY {ym}", params


def _child_figures_part(unit_ids: list[int], period: Period, unit_type: str | None) -> tuple[str, list]:
    """Part 1: each unit's roll-up rows of the period summed (whole quarters for the quarter fields)."""
    table = connection.ops.quote_name(UnitMonth._meta.db_table)
    ym, unit_col = _column(UnitMonth, "ym"), _column(UnitMonth, "unit")
    sums, params = [], []
    for f in SUM_FIELDS:
        column, column_params = _column(UnitMonth, f), []
        if period.current is not None and f in IN_PROGRESS:  # as the rates count it (IN_PROGRESS)
            column = f"CASE WHEN {ym} >= %s THEN {_column(UnitMonth, IN_PROGRESS[f][0])} ELSE {column} END"
            column_params = [_progress_start(f, period.current)]
        if f in QUARTER_FIELDS:
            sums.append(f"SUM({column})")
            params += column_params
        else:
            sums.append(f"SUM(CASE WHEN {ym} >= %s THEN {column} END)")
            params += [period.low, *column_params]
    units, unit_params = _in_list(unit_col, list(unit_ids))
    sql = (
        f"SELECT 1, {unit_col}, CAST(NULL AS integer), {', '.join(sums)}, {_no_text()} FROM {table}"  # noqa: S608 - names from the model
        f" WHERE {units} AND {ym} >= %s AND {ym} <= %s"
    )
    params += unit_params + [period.quarter_low, period.high]
    if unit_type:
        sql += f" AND {_column(UnitMonth, 'unit_type')} = %s"
        params.append(unit_type)
    return f"{sql} GROUP BY {unit_col}", params


def _in_list(column: str, values: list[int]) -> tuple[str, list]:
    """`column IN (...)`; on PostgreSQL `= ANY(array)`, one statement text however many values, so
    read_parts' statements are prepared once per connection (config/precompiled.prepared_cursor)."""
    if connection.vendor == "postgresql":
        return f"{column} = ANY(CAST(%s AS bigint[]))", [values]
    return f"{column} IN ({', '.join(['%s'] * len(values))})", values


def _like_prefix(path: str) -> str:
    return path.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _missed_part(paths: list[str], period: Period, unit_type: str | None) -> tuple[str, list]:
    """Part 2: the missed cell-months of the cells under any of the paths (on the partial index of
    missed cell-months), with the cell's columns."""
    months = connection.ops.quote_name(CellMonth._meta.db_table)
    cells = connection.ops.quote_name(PartyUnit._meta.db_table)
    under = " OR ".join(["c.path LIKE %s ESCAPE '\\'"] * len(paths))
    sql = (
        f"SELECT 2, m.cell_id, m.ym, {_no_sums()}, c.search_name, c.uid, c.name, c.short_name, c.path"  # noqa: S608
        f" FROM {months} m JOIN {cells} c ON c.id = m.cell_id"
        f" WHERE m.ym >= %s AND m.ym <= %s AND m.cell_months = 1 AND m.held_months = 0 AND ({under})"
    )
    # A month in progress is not missed yet.
    high = period.high - 1 if period.current is not None else period.high
    params: list = [period.low, high, *(_like_prefix(p) for p in paths)]
    if unit_type:
        sql += " AND m.unit_type = %s"
        params.append(unit_type)
    return sql, params


def trend_low(period: Period, months: int) -> int:
    return period.high - months + 1


def headline_part(unit: PartyUnit, period: Period, months: int = 24, unit_type: str | None = None):
    """The months headline_and_trend reads, as a part to read with others in one statement."""
    return _month_sums_part(unit.pk, min(period.quarter_low, trend_low(period, months)), period.high, unit_type)


def child_figures_part(unit_ids: list[int], period: Period, unit_type: str | None = None):
    """child_figures as a part (None without units)."""
    return _child_figures_part(unit_ids, period, unit_type) if unit_ids else None


def missed_part(paths: list[str], period: Period, unit_type: str | None = None):
    """missed_under as a part (None without paths)."""
    return _missed_part(paths, period, unit_type) if paths else None


@dataclass
class Parts:
    """What read_parts read: the unit's months by ym, figures by child unit, missed cell-months
    (in missed_months' order)."""

    months: dict[int, dict[str, int]] = field(default_factory=dict)
    children: dict[int, Figures] = field(default_factory=dict)
    missed: list[MissedMonth] = field(default_factory=list)
    resolution_counts: tuple[int, int, int] | None = None


def read_parts(parts: list[tuple[str, list] | None]) -> Parts:
    """The parts (None ones left out) in one statement, UNION ALL, sorted out by their first column."""
    out = Parts()
    parts = [p for p in parts if p]
    if not parts:
        return out
    # The parts side by side (no subqueries: the NULL columns take their type from the other parts).
    sql = " UNION ALL ".join(part for part, _params in parts)
    params = [value for _part, part_params in parts for value in part_params]
    n = len(SUM_FIELDS)
    # Prepared on PostgreSQL (planned once per connection and statement text: ~0.4 ms a miss).
    with prepared_cursor() as cursor:
        cursor.execute(sql, params)
        for row in cursor.fetchall():
            part, key, ym, sums, text = row[0], row[1], row[2], row[3 : 3 + n], row[3 + n :]
            if part == 2:
                search_name, uid, name, short_name, path = text
                uid = uid if isinstance(uid, uuid.UUID) else uuid.UUID(str(uid))
                out.missed.append(MissedMonth(search_name, key, ym, uid, name, short_name, path))
                continue
            if part == 3:
                out.resolution_counts = (int(key or 0), int(ym or 0), int(sums[0] or 0))
                continue
            values = {f: int(v or 0) for f, v in zip(SUM_FIELDS, sums, strict=True)}
            if part == 0:
                out.months[key] = values
            else:
                out.children[key] = Figures(values)
    out.missed.sort(key=lambda r: (r.search_name, r.cell_id, r.ym))
    return out


def month_sums(unit: PartyUnit, low: int, high: int, unit_type: str | None = None) -> dict[int, dict[str, int]]:
    """The unit's roll-up rows of months low..high summed by month (over cell types, or one type)."""
    return read_parts([_month_sums_part(unit.pk, low, high, unit_type)]).months


def split_headline_and_trend(
    months: dict[int, dict[str, int]], period: Period, n: int = 24
) -> tuple[Figures, list[tuple[int, Figures]]]:
    """figures() without resolutions and trend() from the months headline_part read: the period's
    months, and its whole quarters for thematic cadence, summed here."""
    headline = Figures()
    months = {ym: counted_in_progress(sums, ym, period.current) for ym, sums in months.items()}
    for ym, sums in months.items():
        if period.quarter_low <= ym <= period.high:
            headline.add({f: v for f, v in sums.items() if ym >= period.low or f in QUARTER_FIELDS})
    low = trend_low(period, n)
    return headline, [
        (ym, Figures(dict(months[ym])) if ym in months else Figures()) for ym in range(low, period.high + 1)
    ]


def headline_and_trend(
    unit: PartyUnit, period: Period, months: int = 24, unit_type: str | None = None
) -> tuple[Figures, list[tuple[int, Figures]]]:
    """figures() without resolutions and trend() in one query: the months of both read once."""
    rows = read_parts([headline_part(unit, period, months, unit_type)]).months
    return split_headline_and_trend(rows, period, months)


def missed_months(unit: PartyUnit, period: Period, unit_type: str | None = None):
    """Cell-months of the period without a regular meeting held (a queryset: paginate it)."""
    high = period.high - 1 if period.current is not None else period.high  # a month in progress: not yet
    rows = CellMonth.objects.filter(
        cell__path__startswith=unit.path, ym__gte=period.low, ym__lte=high, cell_months=1, held_months=0
    )
    if unit_type:
        rows = rows.filter(unit_type=unit_type)
    return rows.select_related("cell").order_by("cell__search_name", "cell_id", "ym")


@dataclass(frozen=True, slots=True)
class MissedMonth:
    """A cell-month without its regular meeting held, with the cell's columns the list shows."""

    search_name: str
    cell_id: int
    ym: int
    uid: uuid.UUID
    name: str
    short_name: str
    path: str

    @property
    def display_name(self) -> str:
        return self.short_name or self.name

    @property
    def label(self) -> str:
        return month_label(self.ym)

    def as_tuple(self) -> tuple:
        """The row as plain values (what the cache keeps; the uid as text, quicker to unpickle)."""
        return tuple(str(v) if isinstance(v, uuid.UUID) else v for v in (getattr(self, f) for f in self.__slots__))


def missed_under(paths: list[str], period: Period, unit_type: str | None = None) -> list[MissedMonth]:
    """missed_months() for the cells under any of the paths, as rows in the same order: one query."""
    return read_parts([missed_part(paths, period, unit_type)]).missed


def month_label(ym: int) -> str:
    year, month = ym_split(ym)
    return f"{month:02d}/{year}"


# --- A cell and a member ------------------------------------------------------------------------


def cell_meetings(cell: PartyUnit, period: Period):
    """The cell's meetings counted in the period, with their counts (one query)."""
    return (
        Meeting.objects.filter(unit=cell, summary__ym__gte=period.low, summary__ym__lte=period.high)
        .select_related("summary")
        .order_by("scheduled_start")
    )


@dataclass
class MemberLine:
    member: Member
    expected: int = 0
    present: int = 0
    unexcused: int = 0

    @property
    def rate(self) -> float | None:
        return _ratio(self.present, self.expected)


def cell_members(cell: PartyUnit, period: Period) -> list[MemberLine]:
    """Members on the cell's roll during the period and their attendance at its regular meetings."""
    start, end = period.start, period.end
    members = (
        Member.objects.filter(memberships__cell=cell, memberships__start__lte=end)
        .filter(Q(memberships__end__isnull=True) | Q(memberships__end__gt=start))
        .distinct()
        .order_by("search_name")
    )
    present = Q(status__in=Attendance.PRESENT_STATUSES)
    expected = Q(is_suspended=False, is_attached_elsewhere=False) & (Q(is_exempted=False) | present)
    counts = {
        g["member_id"]: g
        for g in Attendance.objects.filter(
            meeting__unit=cell,
            meeting__kind=Meeting.Kind.REGULAR,
            meeting__status__in=Meeting.HELD_STATUSES,
            meeting__summary__ym__gte=period.low,
            meeting__summary__ym__lte=period.high,
        )
        .values("member_id")
        .annotate(
            expected=Count("pk", filter=expected),
            present=Count("pk", filter=present),
            unexcused=Count("pk", filter=Q(status=Attendance.Status.ABSENT_UNEXCUSED)),
        )
    }
    lines = []
    for m in members:
        g = counts.get(m.pk, {})
        lines.append(MemberLine(m, g.get("expected", 0), g.get("present", 0), g.get("unexcused", 0)))
    return lines


@dataclass
class MemberMonth:
    ym: int
    attendance: Attendance | None
    dues: DuesPayment | None
    absence_counted: bool
    unpaid_counted: bool

    @property
    def label(self) -> str:
        return month_label(self.ym)


def member_year(member: Member, year: int, today: datetime.date | None = None):
    """A member's year month by month: regular-meeting attendance, dues, and the discipline count."""
    today = today or timezone.localdate()
    rows = {
        a.meeting.period_month: a
        for a in Attendance.objects.filter(
            member=member,
            meeting__kind=Meeting.Kind.REGULAR,
            meeting__period_year=year,
            meeting__status__in=Meeting.HELD_STATUSES,
        ).select_related("meeting", "meeting__unit")
    }
    dues = {d.month: d for d in DuesPayment.objects.filter(member=member, year=year)}
    count = discipline_count(member, year, today)
    last = 12 if year < today.year else today.month
    months = [
        MemberMonth(
            ym_of(year, m),
            rows.get(m),
            dues.get(m),
            m in count.absence_months,
            m in count.unpaid_months,
        )
        for m in range(1, last + 1)
    ]
    return months, count


# --- Members at risk ----------------------------------------------------------------------------


def _ended_months(year: int, today: datetime.date) -> int:
    """How many months of the year have ended (dues count as unpaid only then)."""
    return sum(1 for m in range(1, 13) if datetime.date(year, m, calendar.monthrange(year, m)[1]) < today)


# The list is kept in the cache (Redis in production) under the unit's summary stamp, the year, the
# number of ended months (the unpaid count depends on it) and the warning threshold: every write
# that changes a member's MemberYear row, name, home cell or end date gives the units above the
# member's cells a new stamp in its transaction (meetings.summaries.member_lists_changed), and a
# unit renamed or moved gives its ancestors and subtree one (unit_changed), so no list outlives a
# commit. A unit's list is its children's lists merged, each kept under the child's own stamp: after
# a write in one cell, a province reads that cell's members again (_RiskTree) and the other lists
# from the cache. The timeout only bounds what the cache keeps.
RISK_SECONDS = 24 * 3600
# More children to read again than this (a cold cache): one query reads the whole subtree instead.
_RISK_SPLIT = 8


@dataclass(frozen=True, slots=True)
class RiskMember:
    """What the at-risk page shows of a member (no model instance per row)."""

    pk: int
    uid: str
    full_name: str
    cell: str


@dataclass
class AtRisk:
    member: Member | RiskMember
    absence_months: int
    unpaid_months: int
    level: str
    href: str = ""


def _risk_key(unit_id: int, stamp, year: int, ended: int, warning: int) -> str:
    return f"risk2:{unit_id}:{stamp}:{year}:{ended}:{warning}"  # risk2: entries without the shown columns


def _unit_stamp(unit: PartyUnit) -> int:
    stamp = getattr(unit, "summary_stamp", None)  # read with the unit by the dashboard views
    return stamp if stamp is not None else stamp_of(unit.pk)


def _risk_entries(year: int, ended: int, warning: int, prefixes: list[str], own: list[int]) -> dict[str, list]:
    """The at-risk entries of the members whose home cell's path starts with one of `prefixes` or
    who are homed at a unit of `own`, grouped by their home's path: {path: [entry]}. One query, SQL
    written once (the ORM spent ~2 ms building the Greatest/bit expression). An entry is a tuple
    that sorts worst first, then by name: (-worst, search_name, member id, absence months, unpaid
    months). Nothing else: a province's 3,300 entries unpickle in 0.4 ms, 5 ms with the full names,
    uids and cell names (_shown)."""
    years, members, units = (connection.ops.quote_name(m._meta.db_table) for m in (MemberYear, Member, PartyUnit))
    # Months 1..ended of the unpaid mask, counted (portable: shifts and ands).
    unpaid = " + ".join(f"((y.unpaid_mask >> {i}) & 1)" for i in range(ended)) or "0"
    where = ["h.path LIKE %s ESCAPE '\\'"] * len(prefixes) + (
        [f"h.id IN ({', '.join(['%s'] * len(own))})"] if own else []
    )
    sql = (
        "SELECT y.member_id, y.absence_months, y.unpaid_mask, m.search_name, h.path"  # noqa: S608
        f" FROM {years} y JOIN {members} m ON m.id = y.member_id"
        f" JOIN {units} h ON h.id = m.home_unit_id"
        " WHERE y.year = %s AND (m.ended_on IS NULL OR m.ended_on > %s)"
        # Only rows in one of MemberYear's two partial indexes: an absence month, or an unpaid month
        # that has ended.
        f" AND (y.absence_months >= %s OR (y.first_unpaid > 0 AND y.first_unpaid <= %s AND {unpaid} >= %s))"
        f" AND ({' OR '.join(where)})"
    )
    params = [year, datetime.date(year, 1, 1), warning, ended, warning, *(_like_prefix(p) for p in prefixes), *own]
    ended_mask = (1 << ended) - 1
    out: dict[str, list[tuple]] = {}
    # Not prepared: a generic plan cannot see how much of the tree a path prefix holds (measured: a
    # province's whole subtree in 86 ms instead of 19).
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for member_id, absence, mask, search_name, path in cursor.fetchall():
            n_unpaid = (mask & ended_mask).bit_count()
            out.setdefault(path, []).append((-max(absence, n_unpaid), search_name, member_id, absence, n_unpaid))
    return out


class _RiskTree:
    """How a unit's list is built when it is not in the cache. Going down from the unit, each
    committee's children's lists are read from the cache (one get_many a level); a missing child
    is read from the database, except the one missing committee of a level (a write below it),
    which is gone down into in turn; a committee with more than _RISK_SPLIT children missing (a
    cold cache) is read whole. Then one query reads every such cell and subtree (and members
    homed at a committee itself, which the services never make), and the lists are put together
    going up, each missing child's kept under its own stamp. After a write in one cell, a province
    reads the cell's ~25 members, not its ward's ~800: one children query a level (the tree's
    depth at most) and one small query."""

    def __init__(self, year: int, ended: int, warning: int):
        self.year, self.ended, self.warning = year, ended, warning
        self.levels: dict[int, tuple] = {}  # committee -> (kids, keys, lists, missing, whole)
        self.prefixes: list[str] = []
        self.own: list[int] = []
        self.rows: dict[str, list[tuple]] = {}

    def build(self, unit, stamp: int) -> list[tuple] | MergedLists:
        self._plan(unit, stamp, getattr(unit, "summary_recent", None))
        self.rows = _risk_entries(self.year, self.ended, self.warning, self.prefixes, self.own)
        return self._assemble(unit, top=True)

    def _plan(self, unit, stamp: int | None, history: str | None) -> None:
        if unit.kind == PartyUnit.Kind.CELL:
            self.prefixes.append(unit.path)
            return
        # The children kept with the unit's stamp: after a write, only the ones it changed are read.
        kids, histories = kept_children(unit, stamp, history)
        keys = {
            k.pk: _risk_key(k.pk, k.stamp, self.year, self.ended, self.warning) for k in kids if k.stamp is not None
        }
        found = cache.get_many(list(keys.values()))
        lists = {pk: found[key] for pk, key in keys.items() if key in found}
        missing = [k for k in kids if k.pk not in lists]
        whole = len(missing) > _RISK_SPLIT
        self.levels[unit.pk] = (kids, keys, lists, missing, whole)
        if whole:
            self.prefixes.append(unit.path)
            return
        self.own.append(unit.pk)
        committees = [k for k in missing if k.kind != PartyUnit.Kind.CELL]
        for kid in missing:
            if len(committees) == 1 and kid is committees[0]:
                self._plan(kid, kid.stamp, histories.get(kid.pk))  # one way down, however wide the tree
            else:
                self.prefixes.append(kid.path)

    def _under(self, path: str) -> list[tuple]:
        return [e for home, rows in self.rows.items() if home.startswith(path) for e in rows]

    def _assemble(self, unit, top: bool = False) -> list[tuple] | MergedLists:
        if unit.pk not in self.levels:  # a cell, or a committee read whole
            return sorted(self._under(unit.path))
        kids, keys, lists, missing, whole = self.levels[unit.pk]
        if whole:
            # Each row to the child it is under: the child's path is the first `cut` characters.
            cut = len(unit.path) + PATH_STEP + 1
            by_kid: dict[str, list[tuple]] = {}
            for home, rows in self.rows.items():
                if home.startswith(unit.path):
                    by_kid.setdefault(home[:cut], []).extend(rows)
            for kid in missing:
                lists[kid.pk] = sorted(by_kid.pop(kid.path, []))
            kid_paths = {k.path for k in kids}
            mine = [e for path, rows in by_kid.items() if path not in kid_paths for e in rows]
        else:
            for kid in missing:
                lists[kid.pk] = self._assemble(kid)
            mine = self.rows.get(unit.path, [])
        cache.set_many({keys[k.pk]: lists[k.pk] for k in missing if k.pk in keys}, RISK_SECONDS)
        merged = MergedLists([sorted(mine), *lists.values()])
        if top and len(merged) > _RISK_KEEP:
            return merged  # the unit viewed: its pages are kept, not the whole list
        return list(merged)


# A list longer than this is not kept whole for the unit viewed (a province at 10x: ~32,000
# entries, 15 ms to store after each write); its pages are, and its children's lists.
_RISK_KEEP = 5000


def at_risk_list(unit: PartyUnit, year: int, today: datetime.date | None = None, values: dict | None = None):
    """Members of the subtree (by their current home cell) with at least the warning number of
    months of unexcused absence or unpaid dues in the calendar year (QĐ 24 §8.1), from the
    member-year summary (meetings.summaries.MemberYear), worst first then by name: (entries,
    warning, alert), the entries as _risk_entries makes them (a list, or for a long one its
    children's lists merged as they are read: MergedLists)."""
    today = today or timezone.localdate()
    values = values or settings_for(unit)
    warning, alert = values["discipline_warning_months"], values["discipline_alert_months"]
    ended = _ended_months(year, today)
    stamp = _unit_stamp(unit)
    entries = cache.get(_risk_key(unit.pk, stamp, year, ended, warning))
    if entries is None:
        entries = _RiskTree(year, ended, warning).build(unit, stamp)
        if isinstance(entries, list):
            cache.set(_risk_key(unit.pk, stamp, year, ended, warning), entries, RISK_SECONDS)
    return entries, warning, alert


def _shown(entries: list[tuple]) -> list[tuple]:
    """The page's entries with what the page shows of each member: (pk, uid, full name, cell name,
    absence months, unpaid months, -worst). One query by primary key."""
    if not entries:
        return []
    members, units = (connection.ops.quote_name(m._meta.db_table) for m in (Member, PartyUnit))
    # The cell's name by a lookup per row: a join was hashed over every unit (1.5 ms for 50 rows).
    sql = (
        "SELECT m.id, m.uid, m.full_name,"  # noqa: S608
        f" (SELECT COALESCE(NULLIF(h.short_name, ''), h.name) FROM {units} h WHERE h.id = m.home_unit_id)"
        f" FROM {members} m WHERE m.id IN ({', '.join(['%s'] * len(entries))})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [e[2] for e in entries])
        shown = {
            pk: (str(uid) if isinstance(uid, uuid.UUID) else str(uuid.UUID(uid)), full_name, cell or "")
            for pk, uid, full_name, cell in cursor.fetchall()
        }
    return [(pk, *shown[pk], absence, unpaid, worst) for worst, _name, pk, absence, unpaid in entries if pk in shown]


def _risk_row(row: tuple, alert: int) -> AtRisk:
    pk, uid, full_name, cell, absence, unpaid, worst = row
    return AtRisk(RiskMember(pk, uid, full_name, cell), absence, unpaid, "alert" if -worst >= alert else "warning")


def at_risk_page(unit: PartyUnit, year: int, number, per_page: int = 50, today: datetime.date | None = None):
    """One page of the list (django Page of AtRisk rows with RiskMember members). The page itself
    is kept beside the list under the same key: a repeat view reads 50 entries, not 3,000."""
    today = today or timezone.localdate()
    values = settings_for(unit)
    warning, alert = values["discipline_warning_months"], values["discipline_alert_months"]
    try:
        asked = max(int(number), 1)
    except (TypeError, ValueError):
        asked = 1
    base = _risk_key(unit.pk, _unit_stamp(unit), year, _ended_months(year, today), warning)
    found = cache.get(f"{base}:{per_page}:{asked}")
    if found is None:
        entries, _warning, _alert = at_risk_list(unit, year, today, values)
        page = Paginator(entries, per_page).get_page(asked)
        found = (len(entries), page.number, _shown(page.object_list))
        cache.set_many({f"{base}:{per_page}:{n}": found for n in {asked, page.number}}, RISK_SECONDS)
    count, number, rows = found
    return Page([_risk_row(row, alert) for row in rows], number, Paginator(range(count), per_page))


def members_at_risk(unit: PartyUnit, year: int, today: datetime.date | None = None, limit: int | None = None):
    """The list with the members' records (the tests compare it with the live one)."""
    entries, _warning, alert = at_risk_list(unit, year, today)
    return risk_members(entries[:limit] if limit else entries, alert)


def risk_members(entries, alert: int) -> list[AtRisk]:
    """at_risk_list's entries with the members' records (one query)."""
    members = Member.objects.select_related("home_unit").in_bulk([e[2] for e in entries])
    return [
        AtRisk(members[pk], absence, unpaid, "alert" if -worst >= alert else "warning")
        for worst, _name, pk, absence, unpaid in entries
        if pk in members  # deleted since the list was kept
    ]


def live_members_at_risk(unit: PartyUnit, year: int, today: datetime.date | None = None) -> list[AtRisk]:
    """members_at_risk from the raw tables (tests and the bench compare the two).
    Three queries whatever the size: absence months grouped in SQL; paid months counted in SQL,
    and the roll dates read only for members who paid fewer months than have ended."""
    today = today or timezone.localdate()
    values = settings_for(unit)
    warning, alert = values["discipline_warning_months"], values["discipline_alert_months"]
    in_subtree = Q(home_unit__path__startswith=unit.path) & (
        Q(ended_on__isnull=True) | Q(ended_on__gt=datetime.date(year, 1, 1))
    )
    absences = dict(
        Attendance.objects.filter(
            member__home_unit__path__startswith=unit.path,
            status=Attendance.Status.ABSENT_UNEXCUSED,
            meeting__kind=Meeting.Kind.REGULAR,
            meeting__period_year=year,
            meeting__status__in=Meeting.HELD_STATUSES,
        )
        .values("member_id")
        .annotate(n=Count("meeting__period_month", distinct=True))
        .values_list("member_id", "n")
    )
    # Months that have ended without payment count (DOMAIN.md "Dues").
    ended = [m for m in range(1, 13) if datetime.date(year, m, calendar.monthrange(year, m)[1]) < today]
    unpaid: dict[int, int] = {}
    if ended:
        candidates = (
            Member.objects.filter(in_subtree, admitted_on__lte=ym_end(ym_of(year, ended[-1])))
            .annotate(paid=Count("dues", filter=Q(dues__year=year, dues__month__in=ended)))
            .filter(paid__lt=len(ended))
            .values_list("pk", "admitted_on", "ended_on")
        )
        candidates = {pk: (admitted, left) for pk, admitted, left in candidates}
        if candidates:
            paid: dict[int, set[int]] = {}
            for member_id, month in DuesPayment.objects.filter(
                member_id__in=list(candidates), year=year, month__in=ended
            ).values_list("member_id", "month"):
                paid.setdefault(member_id, set()).add(month)
            rolls: dict[int, list] = {}
            for member_id, start, stop in Membership.objects.filter(member_id__in=list(candidates)).values_list(
                "member_id", "start", "end"
            ):
                rolls.setdefault(member_id, []).append((start, stop))
            for pk, (admitted, left) in candidates.items():
                n = 0
                for month in ended:
                    end = datetime.date(year, month, calendar.monthrange(year, month)[1])
                    if month in paid.get(pk, ()):
                        continue
                    on_roll = any(s <= end and (e is None or e > end) for s, e in rolls.get(pk, ()))
                    if on_roll and admitted <= end and (left is None or left > end):
                        n += 1
                if n:
                    unpaid[pk] = n
    # Both counts as they are (a member at risk for one shows the other below the threshold too).
    ids = {pk for pk in set(absences) | set(unpaid) if max(absences.get(pk, 0), unpaid.get(pk, 0)) >= warning}
    members = Member.objects.filter(in_subtree, pk__in=ids).select_related("home_unit")
    out = []
    for m in members:
        a, u = absences.get(m.pk, 0), unpaid.get(m.pk, 0)
        worst = max(a, u)
        out.append(AtRisk(m, a, u, "alert" if worst >= alert else "warning"))
    out.sort(key=lambda r: (-max(r.absence_months, r.unpaid_months), r.member.search_name))
    return out


# --- Live aggregation over the raw tables (for tests, the check and the bench) ---------------------


def live_figures(unit: PartyUnit, period: Period, unit_type: str | None = None) -> Figures:
    cells = live_cell_months(unit, period.quarter_low, period.high)
    types = (
        dict(
            PartyUnit.objects.filter(path__startswith=unit.path, kind=PartyUnit.Kind.CELL).values_list(
                "pk", "unit_type"
            )
        )
        if unit_type
        else None
    )
    result = Figures()
    for (cell_id, ym), values in cells.items():
        if types is not None and types.get(cell_id) != unit_type:
            continue
        values = counted_in_progress(values, ym, period.current)
        for f in SUM_FIELDS:
            if f in QUARTER_FIELDS or ym >= period.low:
                result.sums[f] += values[f]
    return result
