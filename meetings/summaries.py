"""Dashboard summaries (DOMAIN.md "Dashboard metrics"): per-meeting counts, cell-month rows and their
roll-up to every ancestor unit, kept in the same transaction as the write that changes them.

Live aggregation over the raw tables costs ~150 ms a year for a province (STACK-NOTES "Measured
floors"); a roll-up row per (unit, cell type, month) answers any unit and range in under a
millisecond. Five tables:

- ``MeetingCount``: one row per meeting, its counts from ``meetings.counting`` (the one rule) and
  the flags the metrics need (held, thematic, pre-meeting, higher-level delegate, duration).
- ``CellMonth``: per cell and month the additive figures (SUM_FIELDS), zero while the cell is not
  active (founded/dissolved dates). Rows exist for every active month up to the horizon.
- ``UnitMonth``: the same figures summed per ancestor unit (the cell included), cell type and month.
- ``MemberYear``: per member and year the months of unexcused absence and of unpaid dues (the
  members-at-risk list, QĐ 24 §8.1).
- ``SummaryStamp``: per unit a random stamp replaced by every write that changes what its dashboard
  shows; the dashboard's cached fragments carry it in their key.

Writes recompute the touched cell-months from MeetingCount rows and add the difference to every
ancestor's row in one ``INSERT ... SELECT ... ON CONFLICT DO UPDATE SET f = f + excluded.f`` over
the cell's ancestor paths. ``live_cell_months`` computes the same cell-month figures from the raw
tables with SQL, independently: ``rebuild`` and ``check`` use it.
A month is held as one integer, ``ym = year * 12 + month - 1``, so a range is one BETWEEN.
"""

from __future__ import annotations

import datetime
import secrets
from collections import defaultdict
from collections.abc import Iterable

from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import Case, Count, Exists, F, IntegerField, OuterRef, Q, Value, When
from django.db.models.functions import ExtractMonth, ExtractYear
from django.utils import timezone

from cells.models import PATH_STEP, PartyUnit, UnitSetting
from cells.tree_settings import DEFAULTS, get_setting
from config.precompiled import prepared_cursor
from members.models import DuesPayment, Member, Membership

from . import counting
from .models import Attendance, Guest, Meeting

WINDOW_KEY = "committee_premeeting_days"
# Figures added up over cells and months; rates are ratios of two of them (cells/stats.py).
SUM_FIELDS = (
    "cell_months",  # 1 when the cell was active in the month: the on-schedule denominator
    "held_months",  # 1 when it held its regular meeting for the month
    "regular_held",  # regular meetings held
    "premeeting",  # ... of which preceded by a held committee meeting within the window
    "higher_delegate",  # ... of which attended by a delegate of a higher committee
    "expected",  # Σ expected over regular meetings held
    "present",  # Σ present over regular meetings held
    "unexcused",  # Σ unexcused absences over regular meetings held
    "timed_held",  # regular and thematic meetings held (duration compliance denominator)
    "duration_ok",  # ... of which lasted 90 (combined: 120) minutes
    "thematic_held",  # thematic meetings held (a regular meeting combined with one counts)
    "meetings_held",  # meetings of every kind held
    "cell_quarters",  # 1 in the cell's first active month of each quarter
    "thematic_quarters",  # 1 in the first month of a quarter in which the cell held a thematic meeting
)


def ym_of(year: int, month: int) -> int:
    return year * 12 + month - 1


def ym_split(ym: int) -> tuple[int, int]:
    return ym // 12, ym % 12 + 1


def ym_start(ym: int) -> datetime.date:
    year, month = ym_split(ym)
    return datetime.date(year, month, 1)


def ym_end(ym: int) -> datetime.date:
    return ym_start(ym + 1) - datetime.timedelta(days=1)


def quarter_start(ym: int) -> int:
    return ym - ym % 3


def first_ym() -> int:
    return ym_of(getattr(settings, "CHIBO_DASHBOARD_FIRST_YEAR", 2022), 1)


def horizon_ym(today: datetime.date | None = None) -> int:
    """Rows exist up to December of next year; `rebuild_summaries --extend` moves it on yearly."""
    today = today or timezone.localdate()
    return ym_of(today.year + 1, 12)


class MeetingCount(models.Model):
    meeting = models.OneToOneField(Meeting, on_delete=models.CASCADE, primary_key=True, related_name="summary")
    # No index of its own: meetingcount_cell_ym leads with it.
    cell = models.ForeignKey(PartyUnit, on_delete=models.CASCADE, related_name="+", db_index=False)
    kind = models.CharField(max_length=16)
    ym = models.PositiveIntegerField()  # regular: the month it is for; others: the month held
    starts_at = models.DateTimeField()
    held = models.BooleanField(default=False)
    thematic = models.BooleanField(default=False)
    on_roll = models.PositiveIntegerField(default=0)
    expected = models.PositiveIntegerField(default=0)
    present = models.PositiveIntegerField(default=0)
    excused = models.PositiveIntegerField(default=0)
    unexcused = models.PositiveIntegerField(default=0)
    premeeting = models.BooleanField(default=False)
    higher_delegate = models.BooleanField(default=False)
    duration_ok = models.BooleanField(null=True)  # None: not a regular or thematic meeting

    class Meta:
        indexes = [models.Index(fields=["cell", "ym"], name="meetingcount_cell_ym")]

    def __str__(self) -> str:
        return f"{self.meeting_id}: {self.present}/{self.expected}"


class _MonthFigures(models.Model):
    # Plain integers, no CHECK (>= 0): the roll-up adds signed deltas with one INSERT ... ON CONFLICT
    # DO UPDATE, and both databases check the proposed row before they find the conflict.
    # rebuild_summaries --check still compares every row with live aggregation.
    unit_type = models.CharField(max_length=24)
    ym = models.PositiveIntegerField()
    cell_months = models.IntegerField(default=0)
    held_months = models.IntegerField(default=0)
    regular_held = models.IntegerField(default=0)
    premeeting = models.IntegerField(default=0)
    higher_delegate = models.IntegerField(default=0)
    expected = models.IntegerField(default=0)
    present = models.IntegerField(default=0)
    unexcused = models.IntegerField(default=0)
    timed_held = models.IntegerField(default=0)
    duration_ok = models.IntegerField(default=0)
    thematic_held = models.IntegerField(default=0)
    meetings_held = models.IntegerField(default=0)
    cell_quarters = models.IntegerField(default=0)
    thematic_quarters = models.IntegerField(default=0)

    class Meta:
        abstract = True

    def values(self) -> dict[str, int]:
        return {f: getattr(self, f) for f in SUM_FIELDS}


class CellMonth(_MonthFigures):
    # The unique (cell, ym) index leads with the cell: no index of its own (the planner preferred
    # the one-column index and then filtered every month of the unit).
    cell = models.ForeignKey(PartyUnit, on_delete=models.CASCADE, related_name="+", db_index=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["cell", "ym"], name="cellmonth_unique")]
        indexes = [
            models.Index(fields=["ym", "cell"], name="cellmonth_ym"),
            # "Cells that missed a month": a few percent of the rows, found without scanning the rest.
            models.Index(fields=["ym", "cell"], name="cellmonth_missed", condition=Q(cell_months=1, held_months=0)),
            # The same months found cell by cell: a dashboard miss after a write below one child reads
            # that child's cells' missed months (0.42 -> 0.07 ms for a ward of 32 cells, 1x: the
            # planner hashed every missed month of the year through the index above).
            models.Index(
                fields=["cell", "ym"], name="cellmonth_missed_cell", condition=Q(cell_months=1, held_months=0)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.cell_id} {ym_split(self.ym)}"

    @property
    def label(self) -> str:
        year, month = ym_split(self.ym)
        return f"{month:02d}/{year}"


class UnitMonth(_MonthFigures):
    # The unique (unit, ym, unit_type) index leads with the unit: no index of its own (the planner
    # preferred the one-column index and then filtered every month: 9.5 ms against 6 ms for a
    # province's child table).
    unit = models.ForeignKey(PartyUnit, on_delete=models.CASCADE, related_name="+", db_index=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["unit", "ym", "unit_type"], name="unitmonth_unique")]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.unit_type} {ym_split(self.ym)}"


class SummaryStamp(models.Model):
    """A unit's dashboard version. Every write that changes the unit's figures (its UnitMonth rows)
    or how its pages read (a unit of its subtree renamed, moved, retyped, re-dated) sets a new random
    stamp in the same transaction; the dashboard's cached fragments carry it in their key, so a
    commit retires them at once in every process."""

    unit = models.OneToOneField(PartyUnit, on_delete=models.CASCADE, primary_key=True, related_name="+")
    stamp = models.BigIntegerField(default=0)
    # The last writes that gave this row its stamps, oldest first, cut to RECENT_CHARS from the
    # right: ";stamp:child,child" per write, the units of this unit's children the write changed
    # ("0": not known, or the unit itself), set in the writer's statement. Writers of one unit
    # queue on this row's lock and each appends to the value the previous one committed, so the
    # text is the unit's whole recent history: changed_children() reads which children changed
    # between two stamps without reading every child (a province holds ~800 at 10x).
    recent = models.TextField(default="", blank=True)

    def __str__(self) -> str:
        return f"{self.unit_id}: {self.stamp}"


class MemberYear(models.Model):
    """Per member and calendar year, the two counts of QĐ 24 §8.1 (meetings.discipline is the rule)
    as month masks, bit m-1 for month m, kept with the writes that change them: unexcused absences
    from a held regular meeting (meeting_changed), months on a roll without dues paid (dues and
    roll hooks). Dues count as unpaid only once the month has ended, so the mask holds every such
    month and the reader keeps the ended ones (cells.stats): no write is due when a month ends.
    Rows exist for every member and year from the first dashboard year to the horizon."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+", db_index=False)  # unique leads
    year = models.PositiveSmallIntegerField()
    absence_mask = models.IntegerField(default=0)
    absence_months = models.SmallIntegerField(default=0)
    unpaid_mask = models.IntegerField(default=0)
    first_unpaid = models.SmallIntegerField(null=True)  # the earliest month in unpaid_mask

    class Meta:
        constraints = [models.UniqueConstraint(fields=["member", "year"], name="memberyear_unique")]
        indexes = [
            # The at-risk list reads only members with an absence or an unpaid month that has ended.
            models.Index(
                fields=["year", "absence_months"], name="memberyear_absent", condition=Q(absence_months__gt=0)
            ),
            models.Index(fields=["year", "first_unpaid"], name="memberyear_unpaid", condition=Q(first_unpaid__gt=0)),
        ]

    def __str__(self) -> str:
        return f"{self.member_id} {self.year}: {self.absence_months} absent, unpaid {self.unpaid_mask:012b}"


def stamp_of(unit_id: int) -> int:
    stamp = SummaryStamp.objects.filter(unit_id=unit_id).values_list("stamp", flat=True).first()
    if stamp is None:
        # Never written since it was made (factories, bulk seeds): a stamp of its own from now on,
        # so a fragment cached for another database's unit with the same id can never match.
        bump_stamps(ids=[unit_id])
        stamp = SummaryStamp.objects.filter(unit_id=unit_id).values_list("stamp", flat=True).first()
    return stamp


def ancestor_paths(path: str) -> list[str]:
    """The materialised paths of a unit and its ancestors (the precomputed ancestor path)."""
    return [path[: i + PATH_STEP + 1] for i in range(0, len(path), PATH_STEP + 1)]


def _units_where(paths: list[str] | None = None, ids: list[int] | None = None) -> tuple[str, list]:
    if paths is not None:
        return f"u.path IN ({', '.join(['%s'] * len(paths))})", list(paths)
    return f"u.id IN ({', '.join(['%s'] * len(ids))})", list(ids)


def bump_stamps(
    *, paths: list[str] | None = None, ids: list[int] | None = None, every: bool = False, chain: bool = False
) -> None:
    """A new stamp for the units named by path or id (or every unit), in one statement. Named by
    path - a unit and its ancestors - or by id with `chain` (ancestors of a cell, by id), each
    unit's history records which of its children were among them; otherwise "not known" (a
    subtree whose breadcrumb changed, every unit)."""
    if not every and not (paths or ids):
        return
    where, params = ("TRUE", []) if every else _units_where(paths, ids)
    units = connection.ops.quote_name(PartyUnit._meta.db_table)
    children = paths is not None or (chain and not every)
    _bump(f"SELECT u.id, u.parent_id FROM {units} u WHERE {where}", params, children=children)  # noqa: S608


# A unit's history of writes (SummaryStamp.recent) keeps about the last 60 writes of one child each.
RECENT_CHARS = 2000


def _bump(units_sql: str, params: list, *, children: bool, cursor_factory=None) -> None:
    """One statement: a new stamp for every unit that units_sql selects (id, parent_id; each once),
    and its history grown by this write: the units of the set that are its children, or "0" (not
    known) where none is or `children` is False. Rows locked in id order by every writer."""
    stamps = connection.ops.quote_name(SummaryStamp._meta.db_table)
    postgres = connection.vendor == "postgresql"
    if children:
        agg = "string_agg(CAST(c.id AS text), ',' ORDER BY c.id)" if postgres else "group_concat(c.id, ',')"
        kids = f"COALESCE((SELECT {agg} FROM b c WHERE c.parent_id = b.id), '0')"  # noqa: S608
    else:
        kids = "'0'"
    keep = "right({0}, {1})" if postgres else "substr({0}, -{1})"
    keep = keep.format(f"{stamps}.recent || excluded.recent", RECENT_CHARS)
    stamp = secrets.randbits(62)
    sql = f"""
        WITH b AS ({units_sql})
        INSERT INTO {stamps} (unit_id, stamp, recent)
        SELECT b.id, %s, CAST(%s AS text) || {kids} FROM b WHERE TRUE ORDER BY b.id
        ON CONFLICT (unit_id) DO UPDATE SET stamp = excluded.stamp, recent = {keep}
    """  # noqa: S608 - names from the models, values are parameters
    with (cursor_factory or connection.cursor)() as cursor:
        cursor.execute(sql, [*params, stamp, f";{stamp}:"])


def changed_children(recent: str, stamp: int, since: int) -> set[int] | None:
    """The children of a unit whose dashboard values may differ between its stamps `since` and
    `stamp` (its current one), read from its history (SummaryStamp.recent): None when the history
    cannot tell - `since` fell out of it, a write did not name the children, or a writer replaced
    the stamp without the history (then the last entry is not the current stamp)."""
    if since == stamp:
        return set()
    entries = [entry.partition(":") for entry in (recent or "").split(";")[1:]]  # the first piece may be cut
    if not entries or entries[-1][0] != str(stamp):
        return None
    since_text = str(since)
    start = next((i for i in range(len(entries) - 1, -1, -1) if entries[i][0] == since_text), None)
    if start is None:
        return None
    changed: set[int] = set()
    for _stamp, _sep, kids in entries[start + 1 :]:
        for kid in kids.split(","):
            if not kid.isdigit() or kid == "0":
                return None
            changed.add(int(kid))
    return changed


# --- The per-meeting row ------------------------------------------------------------------------


def _meeting_ym(meeting: Meeting) -> int:
    if meeting.kind == Meeting.Kind.REGULAR:
        return ym_of(meeting.period_year, meeting.period_month)
    local = timezone.localtime(meeting.scheduled_start)
    return ym_of(local.year, local.month)


def _has_premeeting(meeting: Meeting, window: int) -> bool:
    start = meeting.scheduled_start
    return Meeting.objects.filter(
        unit_id=meeting.unit_id,
        kind=Meeting.Kind.COMMITTEE,
        status__in=Meeting.HELD_STATUSES,
        scheduled_start__lt=start,
        scheduled_start__gte=start - datetime.timedelta(days=window),
    ).exists()


def _meeting_values(meeting: Meeting, window, rows=None, old: MeetingCount | None = None) -> dict:
    """window: a callable giving the pre-meeting window (a settings query, made only when needed).
    old: the meeting's stored row; its pre-meeting flag holds while the meeting keeps its time and
    status (committee meetings moving around it re-flag it themselves, in meeting_changed).
    The meeting may carry `has_delegate` (annotated by meeting_changed): no query for the guests."""
    held = meeting.status in Meeting.HELD_STATUSES
    if rows is None:
        rows = Attendance.objects.filter(meeting=meeting).only(*_COUNT_COLUMNS)
    c = counting.count(rows)
    timed = meeting.kind in (Meeting.Kind.REGULAR, Meeting.Kind.THEMATIC)
    duration = meeting.duration_minutes
    regular_held = held and meeting.kind == Meeting.Kind.REGULAR
    return {
        "cell_id": meeting.unit_id,
        "kind": meeting.kind,
        "ym": _meeting_ym(meeting),
        "starts_at": meeting.scheduled_start,
        "held": held,
        "thematic": meeting.kind == Meeting.Kind.THEMATIC or meeting.combined_thematic,
        "on_roll": c.on_roll,
        "expected": c.expected,
        "present": c.present,
        "excused": c.excused,
        "unexcused": c.unexcused,
        "premeeting": regular_held
        and (
            old.premeeting
            if old is not None and old.held and old.kind == meeting.kind and old.starts_at == meeting.scheduled_start
            else _has_premeeting(meeting, window())
        ),
        "higher_delegate": regular_held
        and (
            meeting.has_delegate
            if hasattr(meeting, "has_delegate")
            else meeting.guests.filter(is_higher_delegate=True).exists()
        ),
        "duration_ok": (duration is not None and duration >= meeting.required_minutes) if timed else None,
    }


# What meeting_changed reads of a meeting and its cell (fewer columns: a cheaper query to build).
_MEETING_COLUMNS = (
    "unit",
    "kind",
    "status",
    "period_year",
    "period_month",
    "scheduled_start",
    "combined_thematic",
    "actual_start",
    "actual_end",
    "unit__kind",
    "unit__path",
    "unit__unit_type",
    "unit__founded_on",
    "unit__dissolved_on",
)
_COUNT_COLUMNS = (
    "member_id",
    "status",
    "reason_approved",
    "arrived_late",
    "is_full",
    "is_exempted",
    "is_suspended",
    "is_attached_here",
    "is_attached_elsewhere",
)


# --- Cell-month rows from the per-meeting rows ------------------------------------------------


def _is_active(cell: PartyUnit, ym: int) -> bool:
    return (cell.founded_on is None or cell.founded_on <= ym_end(ym)) and (
        cell.dissolved_on is None or cell.dissolved_on >= ym_start(ym)
    )


def _cell_range(cell: PartyUnit, today: datetime.date | None = None) -> range:
    low = first_ym()
    if cell.founded_on:
        low = max(low, ym_of(cell.founded_on.year, cell.founded_on.month))
    high = horizon_ym(today)
    if cell.dissolved_on:
        high = min(high, ym_of(cell.dissolved_on.year, cell.dissolved_on.month))
    return range(low, high + 1)


def _cell_months_from_counts(cell: PartyUnit, yms: set[int], rows=None) -> dict[int, dict[str, int]]:
    """The cell's figures for the given months (whole quarters: the quarter flags look back).
    rows: the cell's held MeetingCount rows of those quarters when the caller has them."""
    quarters = {quarter_start(ym) for ym in yms}
    months = sorted({q + i for q in quarters for i in range(3)})
    if rows is None:
        rows = MeetingCount.objects.filter(cell_id=cell.pk, ym__in=months, held=True)
    by_month: dict[int, list[MeetingCount]] = defaultdict(list)
    for row in rows:
        by_month[row.ym].append(row)
    out: dict[int, dict[str, int]] = {}
    for ym in months:
        figures = dict.fromkeys(SUM_FIELDS, 0)
        if _is_active(cell, ym):
            held = by_month.get(ym, [])
            regular = [m for m in held if m.kind == Meeting.Kind.REGULAR]
            timed = [m for m in held if m.duration_ok is not None]
            figures.update(
                cell_months=1,
                held_months=int(bool(regular)),
                regular_held=len(regular),
                premeeting=sum(m.premeeting for m in regular),
                higher_delegate=sum(m.higher_delegate for m in regular),
                expected=sum(m.expected for m in regular),
                present=sum(m.present for m in regular),
                unexcused=sum(m.unexcused for m in regular),
                timed_held=len(timed),
                duration_ok=sum(bool(m.duration_ok) for m in timed),
                thematic_held=sum(m.thematic for m in held),
                meetings_held=len(held),
            )
        out[ym] = figures
    _quarter_flags(out)
    return {ym: v for ym, v in out.items() if ym in months}


def _quarter_flags(months: dict[int, dict[str, int]]) -> None:
    """cell_quarters / thematic_quarters: 1 in the first qualifying month of each quarter."""
    seen_active, seen_thematic = set(), set()
    for ym in sorted(months):
        q, figures = quarter_start(ym), months[ym]
        figures["cell_quarters"] = int(bool(figures["cell_months"]) and q not in seen_active)
        figures["thematic_quarters"] = int(
            bool(figures["cell_months"] and figures["thematic_held"]) and q not in seen_thematic
        )
        if figures["cell_months"]:
            seen_active.add(q)
            if figures["thematic_held"]:
                seen_thematic.add(q)


def ancestor_ids(path: str) -> list[int]:
    """The ids of a unit and its ancestors, by the precomputed ancestor paths."""
    return list(PartyUnit.objects.filter(path__in=ancestor_paths(path)).values_list("pk", flat=True))


def _write_cell_months(cell: PartyUnit, new: dict[int, dict[str, int]]) -> None:
    """Store the cell's new figures and add the difference to every ancestor's roll-up row."""
    old = {
        row["ym"]: row
        for row in CellMonth.objects.filter(cell_id=cell.pk, ym__in=list(new)).values("ym", "unit_type", *SUM_FIELDS)
    }
    if any(row["unit_type"] != cell.unit_type for row in old.values()):
        # Retyped outside the services (the admin): move the cell's rows to its new type first.
        ancestors = ancestor_ids(cell.path)
        _shift(cell.pk, ancestors, ancestors, new_type=cell.unit_type)
        return _write_cell_months(cell, new)
    changed = {}
    for ym, figures in new.items():
        before = old.get(ym)
        if before is None and not any(figures.values()):
            continue
        delta = {f: figures[f] - (before[f] if before else 0) for f in SUM_FIELDS}
        if any(delta.values()):
            changed[ym] = delta
    if not changed:
        return
    CellMonth.objects.bulk_create(
        [CellMonth(cell_id=cell.pk, unit_type=cell.unit_type, ym=ym, **new[ym]) for ym in changed],
        update_conflicts=True,
        unique_fields=["cell", "ym"],
        update_fields=list(SUM_FIELDS),
    )
    _add_to_ancestors(unit_type=cell.unit_type, deltas=changed, paths=ancestor_paths(cell.path))


def _add_to_ancestors(
    *, unit_type: str, deltas: dict[int, dict[str, int]], paths: list[str] | None = None, ids: list[int] | None = None
) -> None:
    """Add the deltas to the UnitMonth rows of the units named by path (the cell's precomputed
    ancestor path) or id (add_to_unit_rows), and give those units a new stamp."""
    if not deltas or not (paths or ids):
        return
    rows = {ym: tuple(d[f] for f in SUM_FIELDS) for ym, d in deltas.items()}
    add_to_unit_rows(UnitMonth, SUM_FIELDS, unit_type, rows, paths=paths, ids=ids)
    bump_stamps(paths=paths, ids=ids, chain=True)


def add_to_unit_rows(
    model,
    fields: tuple[str, ...],
    unit_type: str,
    deltas: dict[int, tuple[int, ...]],
    *,
    paths: list[str] | None = None,
    ids: list[int] | None = None,
) -> None:
    """Add per month the deltas (values of `fields` in order) to the per-unit month rows of `model`
    (unit, ym, unit_type unique: UnitMonth, resolutions' ResolutionMonth) of the units named by
    path or id, creating missing rows: one INSERT ... SELECT ... ON CONFLICT DO UPDATE for every
    unit and month (was an INSERT plus one UPDATE per month and a query for the ancestors' ids)."""
    if not deltas or not (paths or ids):
        return
    where, unit_params = _units_where(paths, ids)
    columns = ("ym", *fields)
    first = "SELECT " + ", ".join(f"CAST(%s AS integer) AS {c}" for c in columns)
    other = "SELECT " + ", ".join(["CAST(%s AS integer)"] * len(columns))
    months = sorted(deltas)
    values = " UNION ALL ".join([first] + [other] * (len(months) - 1))
    params = [v for ym in months for v in (ym, *deltas[ym])]
    table = model._meta.db_table
    # Rows locked in one order (unit, then month) by every writer: no deadlock between two writes.
    sql = """
        INSERT INTO {table} (unit_id, unit_type, ym, {fields})
        SELECT u.id, %s, d.ym, {d_fields} FROM {units} u CROSS JOIN ({values}) d
        WHERE {where} ORDER BY u.id, d.ym
        ON CONFLICT (unit_id, ym, unit_type) DO UPDATE SET {sums}
    """.format(  # noqa: S608 - names from the models, values are parameters
        table=table,
        fields=", ".join(fields),
        d_fields=", ".join("d." + f for f in fields),
        units=PartyUnit._meta.db_table,
        values=values,
        where=where,
        sums=", ".join(f"{f} = {table}.{f} + excluded.{f}" for f in fields),
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [unit_type, *params, *unit_params])


# --- Entry points called by the services ------------------------------------------------------


def meeting_changed(meeting: Meeting) -> None:
    """Called by every meetings service that writes a meeting, its attendance, guests or minutes,
    inside its transaction. Recomputes the meeting's row; for a committee meeting also the
    pre-meeting flag of the regular meetings in the window after its old and new times (the
    window crosses months: a committee meeting on 25 January serves the meeting of February).
    An attendance change costs five reads and four or five writes: the meeting (with its delegate
    flag), its quarter's counts (its old row among them), its attendance, the attendees' absence
    months stored and live (one UNION), the cell's stored months; the count, an attendee's absence
    months, the cell-months, every ancestor's months and stamps."""
    delegate = Guest.objects.filter(meeting=OuterRef("pk"), is_higher_delegate=True)
    meeting = (
        Meeting.objects.select_related("unit")
        .only(*_MEETING_COLUMNS)
        .annotate(has_delegate=Exists(delegate))
        .get(pk=meeting.pk)
    )
    cell = meeting.unit
    ym = _meeting_ym(meeting)
    quarter = [quarter_start(ym) + i for i in range(3)]
    stored = list(MeetingCount.objects.filter(Q(pk=meeting.pk) | Q(cell_id=cell.pk, ym__in=quarter, held=True)))
    old = next((row for row in stored if row.pk == meeting.pk), None)
    attendance = list(Attendance.objects.filter(meeting=meeting).only(*_COUNT_COLUMNS))
    values = _meeting_values(meeting, lambda: get_setting(cell, WINDOW_KEY), attendance, old)
    if old is None:
        MeetingCount.objects.create(meeting=meeting, **values)
    else:
        MeetingCount.objects.filter(pk=meeting.pk).update(**values)
    if not (values["held"] or (old and old.held)):
        return  # a meeting not held (now or before) counts nowhere
    if attendance and (meeting.kind == Meeting.Kind.REGULAR or (old and old.kind == Meeting.Kind.REGULAR)):
        # A regular meeting's absences count; one retyped to thematic (or back) moves them too.
        years = {ym_split(ym)[0]} | ({ym_split(old.ym)[0]} if old else set())
        _absences_changed([row.member_id for row in attendance], years)
    touched = {ym} | ({old.ym} if old else set())
    if meeting.kind == Meeting.Kind.COMMITTEE:
        window = get_setting(cell, WINDOW_KEY)
        starts = {values["starts_at"]} | ({old.starts_at} if old else set())
        following = Q()
        for start in starts:
            following |= Q(scheduled_start__gt=start, scheduled_start__lte=start + datetime.timedelta(days=window))
        for regular in Meeting.objects.filter(following, unit_id=cell.pk, kind=Meeting.Kind.REGULAR):
            held = regular.status in Meeting.HELD_STATUSES
            MeetingCount.objects.filter(pk=regular.pk).update(premeeting=held and _has_premeeting(regular, window))
            touched.add(_meeting_ym(regular))
    rows = None
    if {quarter_start(t) for t in touched} == {quarter[0]} and meeting.kind != Meeting.Kind.COMMITTEE:
        # The quarter's rows are in hand: this meeting's new row replaces its old one.
        rows = [r for r in stored if r.pk != meeting.pk and r.held]
        if values["held"]:
            rows.append(MeetingCount(meeting_id=meeting.pk, **values))
    _write_cell_months(cell, _cell_months_from_counts(cell, touched, rows))


def cell_refresh(cell: PartyUnit) -> None:
    """Every month of one cell again (its dates changed, or it was just founded)."""
    cell = PartyUnit.objects.get(pk=cell.pk)
    if cell.kind != PartyUnit.Kind.CELL:
        return
    yms = set(_cell_range(cell)) | set(CellMonth.objects.filter(cell_id=cell.pk).values_list("ym", flat=True))
    yms |= set(MeetingCount.objects.filter(cell_id=cell.pk).values_list("ym", flat=True))
    _write_cell_months(cell, _cell_months_from_counts(cell, yms))


def unit_changed(unit: PartyUnit, before: dict) -> None:
    """cells.services hook: a unit was created, moved, retyped or re-dated (inside its transaction).
    `before` holds the unit's path and unit_type before the write (empty for a new unit)."""
    subtree = _subtree_ids(unit)
    if before.get("path") and before["path"] != unit.path:
        # The subtree's rows leave the old ancestors above it and join the new ones; the ancestors
        # inside the moved subtree keep their ids and rows. The old path itself no longer exists.
        old_above = [a for a in ancestor_ids(before["path"]) if a not in subtree]
        new_above = [a for a in ancestor_ids(unit.path) if a not in subtree]
        for cell_id in PartyUnit.objects.filter(pk__in=subtree, kind=PartyUnit.Kind.CELL).values_list("pk", flat=True):
            _shift(cell_id, old_above, new_above)
    if unit.kind == PartyUnit.Kind.CELL and before.get("unit_type") and before["unit_type"] != unit.unit_type:
        _shift(unit.pk, ancestor_ids(unit.path), ancestor_ids(unit.path), new_type=unit.unit_type)
    if unit.kind == PartyUnit.Kind.CELL:
        cell_refresh(unit)
    # Its name, type or place shows on its own pages, on every ancestor's (old and new), and in the
    # breadcrumb of every page below it.
    bump_stamps(paths=ancestor_paths(unit.path) + (ancestor_paths(before["path"]) if before.get("path") else []))
    bump_stamps(ids=sorted(subtree))


def _shift(cell_id: int, old: list[int], new: list[int], new_type: str | None = None) -> None:
    by_type: dict[str, dict[int, dict[str, int]]] = defaultdict(dict)
    for r in CellMonth.objects.filter(cell_id=cell_id).values("ym", "unit_type", *SUM_FIELDS):
        by_type[r["unit_type"]][r["ym"]] = {f: r[f] for f in SUM_FIELDS}
    for unit_type, rows in by_type.items():
        _add_to_ancestors(
            unit_type=unit_type, deltas={ym: {f: -v for f, v in r.items()} for ym, r in rows.items()}, ids=old
        )
        _add_to_ancestors(unit_type=new_type or unit_type, deltas=rows, ids=new)
    if new_type:
        CellMonth.objects.filter(cell_id=cell_id).update(unit_type=new_type)


def _subtree_ids(unit: PartyUnit) -> set[int]:
    return set(PartyUnit.objects.filter(path__startswith=unit.path).values_list("pk", flat=True))


def roll_changed(*, cell_ids: Iterable[int], since: datetime.date) -> None:
    """members.services hook: a member joined or left a roll (transfer, move, end, exemption) on
    `since`. Meetings of those cells on or after that date whose minutes are still open take the
    roll again, and their counts follow."""
    from .services import attendance_sync

    cell_ids = list(cell_ids)
    open_meetings = Meeting.objects.filter(
        unit_id__in=cell_ids,
        status__in=(Meeting.Status.IN_PROGRESS, Meeting.Status.HELD),
        scheduled_start__date__gte=since,
    ).select_related("unit")
    for meeting in open_meetings:
        attendance_sync(meeting=meeting)
    # Whose months were due changes with the roll: the members-at-risk rows of everyone on them.
    member_years_refresh(Membership.objects.filter(cell_id__in=cell_ids).values_list("member_id", flat=True))


# --- Member years (members at risk) --------------------------------------------------------------


def member_years(today: datetime.date | None = None) -> range:
    return range(first_ym() // 12, horizon_ym(today) // 12 + 1)


def _absence_rows(member_ids: Iterable[int] | None, years: Iterable[int]):
    rows = Attendance.objects.filter(
        status=Attendance.Status.ABSENT_UNEXCUSED,
        meeting__kind=Meeting.Kind.REGULAR,
        meeting__status__in=Meeting.HELD_STATUSES,
        meeting__period_year__in=list(years),
    )
    return rows if member_ids is None else rows.filter(member_id__in=list(member_ids))


def _absence_masks(member_ids: Iterable[int] | None, years: Iterable[int]) -> dict[tuple[int, int], int]:
    rows = _absence_rows(member_ids, years)
    masks: dict[tuple[int, int], int] = defaultdict(int)
    for member_id, year, month in rows.values_list("member_id", "meeting__period_year", "meeting__period_month"):
        masks[(member_id, year)] |= 1 << (month - 1)
    return masks


def _member_year_masks(member_ids: list[int] | None, years: Iterable[int]) -> dict[tuple[int, int], tuple[int, int]]:
    """(absence mask, unpaid mask) per member and year from the raw tables, by the rule of
    meetings.discipline for many members at once: a month is unpaid when the member was on a roll,
    admitted and not yet gone at its end, and paid nothing for it (ended or not: see MemberYear)."""
    years = list(years)
    people = Member.objects.all() if member_ids is None else Member.objects.filter(pk__in=member_ids)
    by_member = {} if member_ids is None else {"member_id__in": member_ids}
    absent = _absence_masks(member_ids, years)
    paid: dict[tuple[int, int], int] = defaultdict(int)
    for member_id, year, month in DuesPayment.objects.filter(year__in=years, **by_member).values_list(
        "member_id", "year", "month"
    ):
        paid[(member_id, year)] |= 1 << (month - 1)
    rolls: dict[int, list] = defaultdict(list)
    for member_id, start, stop in Membership.objects.filter(**by_member).values_list("member_id", "start", "end"):
        rolls[member_id].append((start, stop))
    month_ends = {year: [ym_end(ym_of(year, m)) for m in range(1, 13)] for year in years}
    out = {}
    for pk, admitted, left in people.values_list("pk", "admitted_on", "ended_on"):
        spans = rolls.get(pk, ())
        for year in years:
            due = 0
            for bit, end in enumerate(month_ends[year]):
                if admitted <= end and (left is None or left > end):
                    if any(start <= end and (stop is None or stop > end) for start, stop in spans):
                        due |= 1 << bit
            out[(pk, year)] = (absent.get((pk, year), 0), due & ~paid.get((pk, year), 0))
    return out


def _member_year_row(member_id: int, year: int, absence: int, unpaid: int) -> MemberYear:
    return MemberYear(
        member_id=member_id,
        year=year,
        absence_mask=absence,
        absence_months=absence.bit_count(),
        unpaid_mask=unpaid,
        first_unpaid=(unpaid & -unpaid).bit_length() or None,
    )


def _store_member_years(masks: dict[tuple[int, int], tuple[int, int]], fields=None, batch: int = 5000) -> None:
    MemberYear.objects.bulk_create(
        (_member_year_row(m, y, a, u) for (m, y), (a, u) in masks.items()),
        update_conflicts=True,
        unique_fields=["member", "year"],
        update_fields=fields or ["absence_mask", "absence_months", "unpaid_mask", "first_unpaid"],
        batch_size=batch,
    )


def member_years_refresh(member_ids: Iterable[int], years: Iterable[int] | None = None) -> None:
    """Both masks of these members again (dues paid or removed, a member added, a roll changed)."""
    ids = sorted(set(member_ids))
    if ids:
        _store_member_years(_member_year_masks(ids, years or member_years()))
        member_lists_changed(ids)


# Past this many members a write gives every unit a new stamp (a bulk import, a new year's rows).
_BUMP_EVERY_MEMBERS = 2000


def member_lists_changed(member_ids: list[int]) -> None:
    """These members' rows of the members-at-risk list changed (their MemberYear rows, or what the
    list shows of them: name, home cell, end date): a new stamp, in the writer's transaction, for
    every unit above their home cell and above every cell whose roll they were ever on (a transfer
    takes a member from one unit's list to another's). cells.stats keeps the list under the stamps.
    One statement: the cells' ancestor paths are their path's prefixes, cut in SQL."""
    if len(member_ids) > _BUMP_EVERY_MEMBERS:
        bump_stamps(every=True)
        return
    units, members, rolls = (connection.ops.quote_name(m._meta.db_table) for m in (PartyUnit, Member, Membership))
    ids = ", ".join(["%s"] * len(member_ids))
    lengths = " UNION ALL ".join(f"SELECT {n} AS n" for n in range(PATH_STEP + 1, 256, PATH_STEP + 1))
    # Every join an index lookup: the members' cells by id, their ancestors by path.
    units_sql = f"""
        SELECT DISTINCT u.id, u.parent_id FROM (
            SELECT home_unit_id AS id FROM {members} WHERE id IN ({ids})
            UNION SELECT cell_id FROM {rolls} WHERE member_id IN ({ids})
        ) cells
        JOIN {units} c ON c.id = cells.id JOIN ({lengths}) k ON k.n <= length(c.path)
        JOIN {units} u ON u.path = substr(c.path, 1, k.n)
    """  # noqa: S608 - names from the models, values are parameters
    # Planned once per connection and number of members (0.6 ms to plan, 0.2 ms to run).
    _bump(units_sql, [*member_ids, *member_ids], children=True, cursor_factory=prepared_cursor)


def _absences_changed(member_ids: list[int], years: set[int]) -> None:
    """meeting_changed: the absence masks of a regular meeting's attendees for its year(s), stored
    and live in one query (a UNION); only rows whose mask moved are written."""
    stored_rows = MemberYear.objects.filter(member_id__in=member_ids, year__in=years).values_list(
        "member_id", "year", "absence_mask", Value(0)
    )
    live_rows = _absence_rows(member_ids, years).values_list(
        "member_id", "meeting__period_year", "meeting__period_month", Value(1)
    )
    stored: dict[tuple[int, int], int] = {}
    live: dict[tuple[int, int], int] = defaultdict(int)
    for member_id, year, value, is_live in stored_rows.order_by().union(live_rows.order_by(), all=True):
        if is_live:
            live[(member_id, year)] |= 1 << (value - 1)
        else:
            stored[(member_id, year)] = value
    missing = {m for m in member_ids for y in years if (m, y) not in stored}
    member_years_refresh(missing)
    changed = {key: (live.get(key, 0), 0) for key, mask in stored.items() if live.get(key, 0) != mask}
    if changed:
        _store_member_years(changed, fields=["absence_mask", "absence_months"])
        member_lists_changed(sorted({member_id for member_id, _year in changed}))


def member_changed(*, member_ids: Iterable[int]) -> None:
    """members.hooks: dues recorded or removed, a member added, re-dated or renamed."""
    member_years_refresh(member_ids)


# --- Live aggregation over the raw tables (independent of the rows above) --------------------


def _windows(cells: list[tuple[int, str]]) -> dict[int, list[int]]:
    """Cells grouped by the pre-meeting window in force for them (tree settings, nearest wins)."""
    overrides = sorted(
        UnitSetting.objects.filter(key=WINDOW_KEY).values_list("unit__path", "value"), key=lambda r: len(r[0])
    )
    groups: dict[int, list[int]] = defaultdict(list)
    for pk, path in cells:
        window = DEFAULTS[WINDOW_KEY]
        for prefix, value in overrides:
            if path.startswith(prefix):
                window = value
        groups[window].append(pk)
    return groups


def _meeting_ym_expr():
    # The month a meeting counts for, in SQL: local time (Django converts for the active zone).
    return Case(
        When(kind=Meeting.Kind.REGULAR, then=F("period_year") * 12 + F("period_month") - 1),
        default=ExtractYear("scheduled_start") * 12 + ExtractMonth("scheduled_start") - 1,
        output_field=IntegerField(),
    )


def live_cell_months(unit: PartyUnit, low: int, high: int) -> dict[tuple[int, int], dict[str, int]]:
    """Every (cell, month) figure of `unit`'s subtree between two months, from Meeting, Attendance,
    Guest and PartyUnit only. Months of inactive cells are left out (they are all zero)."""
    cells = list(
        PartyUnit.objects.filter(path__startswith=unit.path, kind=PartyUnit.Kind.CELL).values_list(
            "pk", "path", "founded_on", "dissolved_on"
        )
    )
    out: dict[tuple[int, int], dict[str, int]] = {}
    active: dict[int, set[int]] = {}
    for pk, _path, founded, dissolved in cells:
        stub = PartyUnit(founded_on=founded, dissolved_on=dissolved)
        active[pk] = {ym for ym in range(low - low % 3, high + 1) if _is_active(stub, ym)}
    held = Meeting.objects.filter(unit__path__startswith=unit.path, status__in=Meeting.HELD_STATUSES).annotate(
        cym=_meeting_ym_expr()
    )
    held = held.filter(cym__gte=low - low % 3, cym__lte=high)
    regular = Q(kind=Meeting.Kind.REGULAR)
    timed = Q(kind__in=(Meeting.Kind.REGULAR, Meeting.Kind.THEMATIC))
    long_enough = Q(combined_thematic=False, actual_end__gte=F("actual_start") + datetime.timedelta(minutes=90)) | Q(
        combined_thematic=True, actual_end__gte=F("actual_start") + datetime.timedelta(minutes=120)
    )
    delegate = Guest.objects.filter(meeting=OuterRef("pk"), is_higher_delegate=True)
    rows: dict[tuple[int, int], dict[str, int]] = defaultdict(lambda: dict.fromkeys(SUM_FIELDS, 0))
    for window, cell_ids in _windows([(c[0], c[1]) for c in cells]).items():
        committee = Meeting.objects.filter(
            unit_id=OuterRef("unit_id"),
            kind=Meeting.Kind.COMMITTEE,
            status__in=Meeting.HELD_STATUSES,
            scheduled_start__lt=OuterRef("scheduled_start"),
            scheduled_start__gte=OuterRef("scheduled_start") - datetime.timedelta(days=window),
        )
        # One window for every cell (no override in the tree): no id list in the query.
        subset = held if len(cell_ids) == len(cells) else held.filter(unit_id__in=cell_ids)
        grouped = subset.values("unit_id", "cym").annotate(
            regular_held=Count("pk", filter=regular),
            premeeting=Count("pk", filter=regular & Q(Exists(committee))),
            higher_delegate=Count("pk", filter=regular & Q(Exists(delegate))),
            timed_held=Count("pk", filter=timed),
            duration_ok=Count("pk", filter=timed & long_enough),
            thematic_held=Count("pk", filter=Q(kind=Meeting.Kind.THEMATIC) | Q(regular, combined_thematic=True)),
            meetings_held=Count("pk"),
        )
        for g in grouped:
            row = rows[(g["unit_id"], g["cym"])]
            for f in ("regular_held", "premeeting", "higher_delegate", "timed_held", "duration_ok"):
                row[f] = g[f]
            row["thematic_held"], row["meetings_held"] = g["thematic_held"], g["meetings_held"]
    present = Q(status__in=counting.PRESENT)
    expected = Q(is_suspended=False, is_attached_elsewhere=False) & (Q(is_exempted=False) | present)
    people = (
        Attendance.objects.filter(
            meeting__unit__path__startswith=unit.path,
            meeting__status__in=Meeting.HELD_STATUSES,
            meeting__kind=Meeting.Kind.REGULAR,
        )
        .annotate(cym=F("meeting__period_year") * 12 + F("meeting__period_month") - 1)
        .filter(cym__gte=low, cym__lte=high)
        .values("meeting__unit_id", "cym")
        .annotate(
            expected=Count("pk", filter=expected),
            present=Count("pk", filter=present),
            unexcused=Count("pk", filter=Q(status=Attendance.Status.ABSENT_UNEXCUSED)),
        )
    )
    for g in people:
        row = rows[(g["meeting__unit_id"], g["cym"])]
        row["expected"], row["present"], row["unexcused"] = g["expected"], g["present"], g["unexcused"]
    for pk, months in active.items():
        per_month = {}
        for ym in sorted(months):
            figures = dict(rows.get((pk, ym)) or dict.fromkeys(SUM_FIELDS, 0))
            figures["cell_months"] = 1
            figures["held_months"] = int(figures["regular_held"] > 0)
            per_month[ym] = figures
        _quarter_flags(per_month)
        for ym, figures in per_month.items():
            if low <= ym <= high:
                out[(pk, ym)] = figures
    return out


# --- Rebuild and check ----------------------------------------------------------------------


def _meeting_rows_live(unit: PartyUnit) -> dict[int, dict]:
    """MeetingCount values of every meeting in the subtree, in SQL (rebuild and check)."""
    present = Q(attendance__status__in=counting.PRESENT)
    expected = Q(attendance__is_suspended=False, attendance__is_attached_elsewhere=False) & (
        Q(attendance__is_exempted=False) | present
    )
    excused = Q(
        attendance__status=Attendance.Status.ABSENT_EXCUSED,
        attendance__is_exempted=False,
        attendance__is_suspended=False,
        attendance__is_attached_elsewhere=False,
    )
    meetings = Meeting.objects.filter(unit__path__startswith=unit.path).annotate(
        cym=_meeting_ym_expr(),
        on_roll_n=Count("attendance", filter=Q(attendance__is_attached_here=False)),
        expected_n=Count("attendance", filter=expected),
        present_n=Count("attendance", filter=present),
        excused_n=Count("attendance", filter=excused),
        unexcused_n=Count("attendance", filter=Q(attendance__status=Attendance.Status.ABSENT_UNEXCUSED)),
    )
    cells = list(
        PartyUnit.objects.filter(path__startswith=unit.path, kind=PartyUnit.Kind.CELL).values_list("pk", "path")
    )
    window_of = {pk: w for w, ids in _windows(cells).items() for pk in ids}
    by_cell: dict[int, list] = defaultdict(list)
    for m in Meeting.objects.filter(
        unit__path__startswith=unit.path, kind=Meeting.Kind.COMMITTEE, status__in=Meeting.HELD_STATUSES
    ).values_list("unit_id", "scheduled_start"):
        by_cell[m[0]].append(m[1])
    delegates = set(
        Guest.objects.filter(meeting__unit__path__startswith=unit.path, is_higher_delegate=True).values_list(
            "meeting_id", flat=True
        )
    )
    out = {}
    for m in meetings.values(
        "pk",
        "unit_id",
        "kind",
        "status",
        "cym",
        "scheduled_start",
        "combined_thematic",
        "actual_start",
        "actual_end",
        "on_roll_n",
        "expected_n",
        "present_n",
        "excused_n",
        "unexcused_n",
    ):
        held = m["status"] in Meeting.HELD_STATUSES
        regular_held = held and m["kind"] == Meeting.Kind.REGULAR
        window = datetime.timedelta(days=window_of.get(m["unit_id"], DEFAULTS[WINDOW_KEY]))
        start = m["scheduled_start"]
        timed = m["kind"] in (Meeting.Kind.REGULAR, Meeting.Kind.THEMATIC)
        need = datetime.timedelta(minutes=120 if m["combined_thematic"] else 90)
        out[m["pk"]] = {
            "cell_id": m["unit_id"],
            "kind": m["kind"],
            "ym": m["cym"],
            "starts_at": start,
            "held": held,
            "thematic": m["kind"] == Meeting.Kind.THEMATIC or m["combined_thematic"],
            "on_roll": m["on_roll_n"],
            "expected": m["expected_n"],
            "present": m["present_n"],
            "excused": m["excused_n"],
            "unexcused": m["unexcused_n"],
            "premeeting": regular_held and any(start - window <= c < start for c in by_cell.get(m["unit_id"], ())),
            "higher_delegate": regular_held and m["pk"] in delegates,
            "duration_ok": (
                bool(m["actual_start"] and m["actual_end"] and m["actual_end"] - m["actual_start"] >= need)
                if timed
                else None
            ),
        }
    return out


def _rollup(cell_rows: dict[tuple[int, int], dict[str, int]], unit: PartyUnit) -> dict[tuple[int, str, int], list]:
    units = dict(PartyUnit.objects.values_list("path", "pk"))
    cells = dict(
        PartyUnit.objects.filter(path__startswith=unit.path, kind=PartyUnit.Kind.CELL).values_list(
            "pk", "path", named=False
        )
    )
    types = dict(PartyUnit.objects.filter(pk__in=list(cells)).values_list("pk", "unit_type"))
    ancestors = {}
    for pk, path in cells.items():
        prefixes = [path[: i + PATH_STEP + 1] for i in range(0, len(path), PATH_STEP + 1)]
        ancestors[pk] = [units[p] for p in prefixes if p in units]
    totals: dict[tuple[int, str, int], list] = {}
    for (cell_id, ym), figures in cell_rows.items():
        values = [figures[f] for f in SUM_FIELDS]
        for a in ancestors[cell_id]:
            key = (a, types[cell_id], ym)
            acc = totals.get(key)
            if acc is None:
                totals[key] = list(values)
            else:
                for i, v in enumerate(values):
                    acc[i] += v
    return totals


# Summaries a higher app keeps beside these (resolutions' counts), rebuilt and checked with them:
# (rebuild() -> {name: rows}, check() -> [problems]) pairs registered in that app's ready().
_other_summaries: list[tuple] = []


def register_summary(rebuild_fn, check_fn) -> None:
    if (rebuild_fn, check_fn) not in _other_summaries:
        _other_summaries.append((rebuild_fn, check_fn))


def _roots() -> list[PartyUnit]:
    return list(PartyUnit.objects.filter(parent__isnull=True))


@transaction.atomic
def rebuild(stdout=None, batch: int = 5000) -> dict[str, int]:
    """All three tables again from the raw tables, for the whole tree."""
    MeetingCount.objects.all().delete()
    CellMonth.objects.all().delete()
    UnitMonth.objects.all().delete()
    counts = {"meetings": 0, "cell_months": 0, "unit_months": 0}
    low, high = first_ym(), horizon_ym()
    types = dict(PartyUnit.objects.filter(kind=PartyUnit.Kind.CELL).values_list("pk", "unit_type"))
    for root in _roots():
        meetings = _meeting_rows_live(root)
        MeetingCount.objects.bulk_create(
            (MeetingCount(meeting_id=pk, **values) for pk, values in meetings.items()), batch_size=batch
        )
        counts["meetings"] += len(meetings)
        cell_rows = live_cell_months(root, low, high)
        # Rows written in key order: a unit's months sit on a few pages (its child table reads
        # ~15 months × types × children; scattered, that was 1,220 pages for a province's year).
        CellMonth.objects.bulk_create(
            (CellMonth(cell_id=c, ym=ym, unit_type=types[c], **cell_rows[(c, ym)]) for c, ym in sorted(cell_rows)),
            batch_size=batch,
        )
        counts["cell_months"] += len(cell_rows)
        totals = _rollup(cell_rows, root)
        UnitMonth.objects.bulk_create(
            (
                UnitMonth(unit_id=u, unit_type=t, ym=ym, **dict(zip(SUM_FIELDS, totals[(u, t, ym)], strict=True)))
                for u, t, ym in sorted(totals, key=lambda k: (k[0], k[2], k[1]))
                if any(totals[(u, t, ym)])
            ),
            batch_size=batch,
        )
        counts["unit_months"] += len(totals)
    MemberYear.objects.all().delete()
    masks = _member_year_masks(None, member_years())
    # A year's rows together on disk: the at-risk list reads one year.
    _store_member_years({key: masks[key] for key in sorted(masks, key=lambda k: (k[1], k[0]))}, batch=batch)
    counts["member_years"] = len(masks)
    for rebuild_other, _check in _other_summaries:
        counts |= rebuild_other()
    bump_stamps(every=True)
    return counts


def extend(today: datetime.date | None = None) -> int:
    """Rows for active months up to the new horizon (run yearly; cheap when nothing is missing),
    and member years up to it."""
    made = 0
    for year in member_years(today):
        have = MemberYear.objects.filter(year=year).values("member_id")
        missing = list(Member.objects.exclude(pk__in=have).values_list("pk", flat=True))
        member_years_refresh(missing, [year])
        made += len(missing)
    for cell in PartyUnit.objects.filter(kind=PartyUnit.Kind.CELL):
        have = set(CellMonth.objects.filter(cell_id=cell.pk).values_list("ym", flat=True))
        missing = {ym for ym in _cell_range(cell, today) if ym not in have}
        if missing:
            _write_cell_months(cell, _cell_months_from_counts(cell, missing))
            made += len(missing)
    return made


def check() -> list[str]:
    """Differences between the stored rows and live aggregation (empty when they agree)."""
    problems: list[str] = []
    low, high = first_ym(), horizon_ym()
    stored_meetings = {row["meeting_id"]: row for row in MeetingCount.objects.values()}
    stored_cells = {(r["cell_id"], r["ym"]): r for r in CellMonth.objects.values("cell_id", "ym", *SUM_FIELDS)}
    stored_units = {
        (r["unit_id"], r["unit_type"], r["ym"]): [r[f] for f in SUM_FIELDS]
        for r in UnitMonth.objects.values("unit_id", "unit_type", "ym", *SUM_FIELDS)
    }
    live_meetings, live_cells, live_units = {}, {}, {}
    for root in _roots():
        live_meetings.update(_meeting_rows_live(root))
        rows = live_cell_months(root, low, high)
        live_cells.update(rows)
        live_units.update(_rollup(rows, root))
    for pk in set(stored_meetings) | set(live_meetings):
        a, b = stored_meetings.get(pk), live_meetings.get(pk)
        if a is None or b is None:
            problems.append(f"meeting {pk}: {'missing' if a is None else 'extra'} count row")
            continue
        diff = [k for k, v in b.items() if a[k] != v]
        if diff:
            problems.append(f"meeting {pk}: " + ", ".join(f"{k} stored {a[k]} live {b[k]}" for k in diff))
    zero = dict.fromkeys(SUM_FIELDS, 0)
    for key in set(stored_cells) | set(live_cells):
        a, b = stored_cells.get(key, zero), live_cells.get(key, zero)
        diff = [f for f in SUM_FIELDS if a[f] != b[f]]
        if diff:
            cell, ym = key
            problems.append(f"cell {cell} {ym_split(ym)}: " + ", ".join(f"{f} stored {a[f]} live {b[f]}" for f in diff))
    columns = ("absence_mask", "absence_months", "unpaid_mask", "first_unpaid")
    stored_years = {(r[0], r[1]): r[2:] for r in MemberYear.objects.values_list("member_id", "year", *columns)}
    for (m, y), (a, u) in _member_year_masks(None, member_years()).items():
        row = _member_year_row(m, y, a, u)
        live, stored = tuple(getattr(row, c) for c in columns), stored_years.pop((m, y), None)
        if stored != live:
            problems.append(f"member {m} {y}: stored {stored} live {live}")
    problems.extend(f"member {m} {y}: extra row" for m, y in stored_years)
    zeros = [0] * len(SUM_FIELDS)
    for key in set(stored_units) | set(live_units):
        a, b = stored_units.get(key, zeros), live_units.get(key, zeros)
        if a != b:
            unit, unit_type, ym = key
            diff = [f"{f} stored {x} live {y}" for f, x, y in zip(SUM_FIELDS, a, b, strict=True) if x != y]
            problems.append(f"unit {unit} {unit_type} {ym_split(ym)}: " + ", ".join(diff))
    for _rebuild, check_other in _other_summaries:
        problems.extend(check_other())
    return problems
