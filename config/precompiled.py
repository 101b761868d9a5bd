"""Reads that every signed-in request makes, with their SQL compiled once per process.

Building the SQL of a queryset costs Django ~0.5–1 ms of CPU per query (more with select_related:
every column is compiled), more than PostgreSQL spends answering a primary-key lookup. The
signed-in user and the meeting of the meeting pages are read on every request, so their queries are
compiled once, on first use for each database, and then only run with a new parameter: the same
SQL, the same type converters and the same model instances (with their select_related objects) as
the queryset would give. bench/meeting_page.py measures the difference.

On PostgreSQL they also run as prepared statements (prepared_cursor): planning the user's and the
grants' joins cost PostgreSQL ~0.65 ms each on every request (EXPLAIN's "Planning Time"), running
them 0.05-0.13 ms. Django leaves psycopg's automatic preparation off (for connection poolers in
transaction mode, which this project does not use: docker-compose.yml connects to PostgreSQL
directly); only these few statements are prepared, once per connection.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connections, router
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators


def _preparing_cursor_class():
    from django.db.backends.postgresql.base import ServerBindingCursor

    class PreparingCursor(ServerBindingCursor):
        """Server-side binding, and every statement prepared on its connection (psycopg keeps them)."""

        def execute(self, query, params=None, *, prepare=None, binary=None):
            return super().execute(query, params, prepare=True, binary=binary)

    return PreparingCursor


_PREPARING_CURSOR = None


@contextmanager
def prepared_cursor(using: str = "default"):
    """A cursor whose statements PostgreSQL plans once per connection; elsewhere a plain cursor.

    It goes through Django's cursor wrappers, so the statements are counted, logged and seen by
    execute wrappers like every other query."""
    global _PREPARING_CURSOR
    connection = connections[using]
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            yield cursor
        return
    if _PREPARING_CURSOR is None:
        _PREPARING_CURSOR = _preparing_cursor_class()
    connection.ensure_connection()
    raw = connection.connection
    if raw.prepare_threshold is None:
        # Django turns psycopg's preparation off (None); a threshold no statement reaches turns it
        # back on for explicit requests only (prepare=True above). Django's own cursors bind on the
        # client side and are never prepared either way.
        raw.prepare_threshold = 2**31 - 1
    _log_prepared_sql(connection)
    with connection._prepare_cursor(_PREPARING_CURSOR(raw)) as cursor:
        yield cursor


def _log_prepared_sql(connection) -> None:
    """Query logs (DEBUG, CaptureQueriesContext, assertNumQueries' report) show the SQL of prepared
    statements too: Django reads it from psycopg's last query, which a prepared execution leaves
    empty; it is composed from the statement and its parameters instead, as Django does for
    server-side binding. Once per connection object; other cursors are untouched."""
    ops = connection.ops
    if getattr(ops, "_shows_prepared_sql", False):
        return
    original = ops.last_executed_query

    def last_executed_query(cursor, sql, params):
        shown = original(cursor, sql, params)
        if shown is None and _PREPARING_CURSOR is not None and isinstance(cursor, _PREPARING_CURSOR):
            try:
                return ops.compose_sql(sql, params)
            except Exception:  # noqa: BLE001 - a log line must never break the query
                return sql
        return shown

    ops.last_executed_query = last_executed_query
    ops._shows_prepared_sql = True


@dataclass
class _Plan:
    sql: str
    params: list
    slots: list[int]
    extra_slots: dict[str, list[int]]
    model: type[Model]
    init_list: list[str]
    start: int
    end: int
    populators: list
    converters: dict
    annotations: dict[str, int]


class PrecompiledGet:
    """One object (or None) by one field's value, through a queryset compiled once.

    `build(value, **extra)` returns the queryset for a value (its filters and select_related); `field`
    is the model field the value is compared with, and `sample` a value of that field that the
    queryset is first compiled with (any value no real row is likely to be confused with: it is only
    used to find where the parameter sits in the compiled SQL; it may sit in several places).
    `extra`: other parameters of the queryset (e.g. a day in an annotation), each with its own
    sample, given again to get() by name.
    """

    def __init__(self, build: Callable[..., QuerySet], *, field: str, sample: Any, extra: dict | None = None):
        self.build, self.field_name, self.sample = build, field, sample
        self.extra = dict(extra or {})
        self._plans: dict[str, _Plan] = {}

    def _plan(self, using: str) -> _Plan:
        plan = self._plans.get(using)
        if plan is not None:
            return plan
        queryset = self.build(self.sample, **self.extra)[:1]
        compiler = queryset.query.get_compiler(using=using)
        sql, params = compiler.as_sql()
        prepared = self._prepare(queryset.model, self.sample, using)
        slots = [i for i, param in enumerate(params) if param == prepared]
        if not slots:
            raise ValueError("the sample value does not appear in the compiled query")
        extra_slots = {}
        for name, sample in self.extra.items():
            # May be absent: build() may leave a part out on some databases (members.auth on SQLite).
            extra_slots[name] = [i for i, param in enumerate(params) if param == sample]
            if set(extra_slots[name]) & set(slots):
                raise ValueError(f"the samples of {name} and of the value must differ")
        select, klass_info = compiler.select, compiler.klass_info
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        plan = _Plan(
            sql=sql,
            params=list(params),
            slots=slots,
            extra_slots=extra_slots,
            model=klass_info["model"],
            init_list=[column[0].target.attname for column in select[start:end]],
            start=start,
            end=end,
            populators=get_related_populators(klass_info, select, using),
            converters=compiler.get_converters([column[0] for column in select]),
            # The queryset's annotations (e.g. a Subquery), set on the object like the queryset does.
            annotations=dict(compiler.annotation_col_map or {}),
        )
        self._plans[using] = plan
        return plan

    def _prepare(self, model: type[Model], value: Any, using: str):
        field = model._meta.get_field(self.field_name)
        return field.get_db_prep_value(value, connections[using], prepared=False)

    def get(self, value: Any, **extra: Any) -> Model | None:
        using = router.db_for_read(self._model())
        plan = self._plan(using)
        params = list(plan.params)
        try:
            prepared = self._prepare(plan.model, value, using)
        except (ValidationError, ValueError, TypeError):
            return None  # not a value of the field (a malformed uid): no such object
        for slot in plan.slots:
            params[slot] = prepared
        for name, slots in plan.extra_slots.items():
            for slot in slots:
                params[slot] = extra[name]
        with prepared_cursor(using) as cursor:
            cursor.execute(plan.sql, params)
            row = cursor.fetchone()
        if row is None:
            return None
        if plan.converters:
            row = list(row)
            connection = connections[using]
            for pos, (convs, expression) in plan.converters.items():
                value = row[pos]
                for converter in convs:
                    value = converter(value, expression, connection)
                row[pos] = value
        obj = plan.model.from_db(using, plan.init_list, row[plan.start : plan.end])
        for name, pos in plan.annotations.items():
            setattr(obj, name, row[pos])
        for populator in plan.populators:
            populator.populate(row, obj)
        return obj

    def _model(self) -> type[Model]:
        if not hasattr(self, "_model_cls"):
            self._model_cls = self.build(self.sample, **self.extra).model
        return self._model_cls
