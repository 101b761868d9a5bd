"""The dashboard's resolution and task counts (DOMAIN.md "Dashboard metrics": resolutions issued,
tasks due and done), kept per unit like the meetings summaries instead of counted live.

Counted live, a province's year read ~22,000 resolutions and ~47,000 tasks on every dashboard view
(87-114 ms of database time at 2,000 cells). ``ResolutionMonth`` holds, per unit (every ancestor
of the issuing unit, that unit included), the issuing unit's type and the month, the resolutions
issued, the tasks due and how many of those are done, so any unit and range is a few index rows.

Rows follow the writes in the same transaction: a resolution issued (``Resolution.save``), a task
created, re-dated, re-statused (``Task.save``, whatever calls it: services, admin, history revert)
or deleted (``post_delete``), and a unit moved or retyped (the cells.hooks registry), each adding
its difference to every ancestor's row with one ``INSERT ... SELECT ... ON CONFLICT DO UPDATE``.
Bulk writes (the seeds) are followed by ``rebuild``, which ``meetings.summaries.rebuild`` runs
(registered in apps.py); ``check`` compares every row with a count over the raw tables.
"""

from __future__ import annotations

import datetime
from collections import defaultdict

from django.db import models
from django.db.models import Count, Q
from django.db.models.functions import ExtractMonth, ExtractYear

from cells.models import PartyUnit
from meetings.summaries import add_to_unit_rows, ancestor_ids, ancestor_paths, ym_of, ym_split

COUNT_FIELDS = ("resolutions", "tasks_due", "tasks_done")


class ResolutionMonth(models.Model):
    # Signed integers, no CHECK (>= 0): deltas are added with ON CONFLICT DO UPDATE, as for UnitMonth.
    unit = models.ForeignKey(PartyUnit, on_delete=models.CASCADE, related_name="+", db_index=False)
    unit_type = models.CharField(max_length=24)  # the issuing unit's type (the dashboard's type filter)
    ym = models.PositiveIntegerField()
    resolutions = models.IntegerField(default=0)
    tasks_due = models.IntegerField(default=0)
    tasks_done = models.IntegerField(default=0)

    class Meta:
        # Leads with the unit: a dashboard reads one unit's months.
        constraints = [models.UniqueConstraint(fields=["unit", "ym", "unit_type"], name="resolutionmonth_unique")]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.unit_type} {ym_split(self.ym)}"


def _ym(day: datetime.date) -> int:
    return ym_of(day.year, day.month)


def _add(unit_type: str, deltas: dict[int, tuple[int, int, int]], *, paths=None, ids=None) -> None:
    """Add (resolutions, tasks due, tasks done) per month to the rows of the units named by path
    (a unit's precomputed ancestor paths) or id, creating missing rows: one statement."""
    deltas = {ym: d for ym, d in deltas.items() if any(d)}
    add_to_unit_rows(ResolutionMonth, COUNT_FIELDS, unit_type, deltas, paths=paths, ids=ids)


def _unit(unit_id: int) -> tuple[str, str]:
    return PartyUnit.objects.values_list("path", "unit_type").get(pk=unit_id)


def resolution_issued(resolution) -> None:
    """Resolution.save() of a new resolution (they are never edited or deleted afterwards)."""
    path, unit_type = _unit(resolution.unit_id)
    _add(unit_type, {_ym(resolution.issued_on): (1, 0, 0)}, paths=ancestor_paths(path))


TASK_FIELDS = ("unit", "due_on", "status")  # what task_state() reads, in its order


def task_state(task) -> tuple[int, datetime.date | None, bool]:
    """What the counts read of a task: its unit, due date and whether it is done."""
    return task.unit_id, task.due_on, task.status == "done"


def task_changed(before: tuple | None, after: tuple | None) -> None:
    """A task's counted state changed (None: it did not exist / no longer exists)."""
    if before == after:
        return
    by_unit: dict[int, dict[int, list[int]]] = {}
    for state, sign in ((before, -1), (after, 1)):
        if state is None or state[1] is None:
            continue  # no due date: counted nowhere
        unit_id, due_on, done = state
        month = by_unit.setdefault(unit_id, {}).setdefault(_ym(due_on), [0, 0, 0])
        month[1] += sign
        month[2] += sign * int(done)
    for unit_id, deltas in by_unit.items():
        path, unit_type = _unit(unit_id)
        _add(unit_type, {ym: tuple(d) for ym, d in deltas.items()}, paths=ancestor_paths(path))


# --- Counted again from the raw tables --------------------------------------------------------------


def _groups(models=None, **unit_filter) -> dict[tuple[int, int], list[int]]:
    """(issuing unit, month) -> [resolutions, tasks due, tasks done] from the raw tables (two
    grouped queries; unit_filter narrows the issuing units, e.g. unit__path__startswith).
    models: (Resolution, Task), the migration's historical ones; the app's by default."""
    if models is None:
        from .models import Resolution, Task
    else:
        Resolution, Task = models

    out: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0, 0])
    issued = (
        Resolution.objects.filter(**unit_filter)
        .annotate(y=ExtractYear("issued_on"), m=ExtractMonth("issued_on"))
        .values("unit_id", "y", "m")
        .annotate(n=Count("pk"))
        .values_list("unit_id", "y", "m", "n")
        .order_by()
    )
    for unit_id, y, m, n in issued:
        out[(unit_id, ym_of(y, m))][0] += n
    due = (
        Task.objects.filter(due_on__isnull=False, **unit_filter)
        .annotate(y=ExtractYear("due_on"), m=ExtractMonth("due_on"))
        .values("unit_id", "y", "m")
        .annotate(n=Count("pk"), done=Count("pk", filter=Q(status="done")))
        .values_list("unit_id", "y", "m", "n", "done")
        .order_by()
    )
    for unit_id, y, m, n, done in due:
        row = out[(unit_id, ym_of(y, m))]
        row[1] += n
        row[2] += done
    return out


def _by_type(groups: dict[tuple[int, int], list[int]], types: dict[int, str]) -> dict[str, dict[int, tuple]]:
    """The groups summed per issuing unit's type and month."""
    out: dict[str, dict[int, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0, 0]))
    for (unit_id, ym), counts in groups.items():
        row = out[types[unit_id]][ym]
        for i, n in enumerate(counts):
            row[i] += n
    return {t: {ym: tuple(c) for ym, c in months.items()} for t, months in out.items()}


def live_rows(models=None) -> dict[tuple[int, str, int], tuple[int, int, int]]:
    """Every (unit, type, month) row the table should hold: each group added to its issuing unit
    and every ancestor. models: (Resolution, Task, PartyUnit), historical ones in a migration."""
    resolution, task, unit_model = models or (None, None, PartyUnit)
    values = unit_model.objects.values_list("pk", "path", "unit_type")
    units = {pk: (path, unit_type) for pk, path, unit_type in values}
    by_path = {path: pk for pk, (path, _type) in units.items()}
    rows: dict[tuple[int, str, int], list[int]] = defaultdict(lambda: [0, 0, 0])
    for (unit_id, ym), counts in _groups((resolution, task) if models else None).items():
        path, unit_type = units[unit_id]
        for ancestor in ancestor_paths(path):
            row = rows[(by_path[ancestor], unit_type, ym)]
            for i, n in enumerate(counts):
                row[i] += n
    return {key: tuple(c) for key, c in rows.items() if any(c)}


def _shift(groups, types, old_ids: list[int], new_ids: list[int], new_type: str | None = None) -> None:
    for unit_type, months in _by_type(groups, types).items():
        _add(unit_type, {ym: tuple(-n for n in c) for ym, c in months.items()}, ids=old_ids)
        _add(new_type or unit_type, months, ids=new_ids)


def unit_changed(unit: PartyUnit, before: dict) -> None:
    """cells.hooks: a unit moved or retyped (inside the write's transaction). What its subtree
    issued leaves the old ancestors above it and joins the new ones; a new type moves the unit's
    own resolutions and tasks to that type in its rows and its ancestors'."""
    if before.get("path") and before["path"] != unit.path:
        subtree = dict(PartyUnit.objects.filter(path__startswith=unit.path).values_list("pk", "unit_type"))
        old_above = [a for a in ancestor_ids(before["path"]) if a not in subtree]
        new_above = [a for a in ancestor_ids(unit.path) if a not in subtree]
        # The unit's type before this write: a move and a retype in one save are two steps.
        types = subtree | {unit.pk: before.get("unit_type", unit.unit_type)}
        _shift(_groups(unit__path__startswith=unit.path), types, old_above, new_above)
    if before.get("unit_type") is not None and before["unit_type"] != unit.unit_type:
        ids = ancestor_ids(unit.path)
        _shift(_groups(unit_id=unit.pk), {unit.pk: before["unit_type"]}, ids, ids, new_type=unit.unit_type)


def rebuild() -> dict[str, int]:
    """Every row again from the raw tables (after bulk writes; meetings.summaries.rebuild runs it)."""
    ResolutionMonth.objects.all().delete()
    rows = live_rows()
    ResolutionMonth.objects.bulk_create(
        (
            ResolutionMonth(unit_id=u, unit_type=t, ym=ym, **dict(zip(COUNT_FIELDS, rows[(u, t, ym)], strict=True)))
            for u, t, ym in sorted(rows, key=lambda k: (k[0], k[2], k[1]))
        ),
        batch_size=5000,
    )
    return {"resolution_months": len(rows)}


def check() -> list[str]:
    """Differences between the stored rows and a count over the raw tables (empty when they agree)."""
    live = live_rows()
    stored = {
        (r[0], r[1], r[2]): tuple(r[3:])
        for r in ResolutionMonth.objects.values_list("unit_id", "unit_type", "ym", *COUNT_FIELDS)
    }
    zero = (0, 0, 0)
    problems = []
    for key in sorted(set(live) | set(stored)):
        a, b = stored.get(key, zero), live.get(key, zero)
        if a != b:
            unit, unit_type, ym = key
            diff = [f"{f} stored {x} live {y}" for f, x, y in zip(COUNT_FIELDS, a, b, strict=True) if x != y]
            problems.append(f"unit {unit} {unit_type} {ym_split(ym)} resolutions: " + ", ".join(diff))
    return problems
