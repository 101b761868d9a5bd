"""Health checks for /healthz and the operations status panel.

Each check returns a CheckResult: "ok", "fail" or "unknown", a short detail and its duration. The
detail never holds a secret (no URL, no password): /healthz answers without authentication.
Exception texts go to `error`, which only the superusers' panel shows.

Time budget (load balancers time out at a few seconds): the broker gets two connection attempts
of 0.5 s within 1 s in all; the worker ping waits at most 1 s and returns at the first reply; it
runs only when the broker answered. Database and heartbeat are one query each, so the worst case
stays under 2 s. (A database host that drops packets is bounded by the driver's connect timeout,
which comes from DATABASES, not from here.)
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _
from kombu import Connection

from cells.models import Heartbeat
from cells.tasks import BEAT_HEARTBEAT

OK, FAIL, UNKNOWN = "ok", "fail", "unknown"
BROKER_CONNECT_TIMEOUT = 0.5
BROKER_TOTAL_TIMEOUT = 1.0
WORKER_PING_TIMEOUT = 1.0


@dataclass(frozen=True)
class CheckResult:
    status: str
    detail: str
    duration_ms: float
    error: str = ""

    def as_json(self) -> dict:
        return {"status": self.status, "detail": self.detail, "duration_ms": self.duration_ms}


class _Timer:
    def __init__(self) -> None:
        self.started = time.perf_counter()

    def ms(self) -> float:
        return round((time.perf_counter() - self.started) * 1000, 1)


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]


def _failure(message: str, exc: BaseException, timer: _Timer) -> CheckResult:
    return CheckResult(FAIL, message % {"kind": type(exc).__name__}, timer.ms(), _error_text(exc))


def check_database() -> CheckResult:
    timer = _Timer()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return _failure(_("query failed (%(kind)s)"), exc, timer)
    return CheckResult(OK, connection.vendor, timer.ms())


def heartbeat_age(name: str = BEAT_HEARTBEAT) -> float | None:
    """Seconds since the heartbeat was recorded, or None when it never was."""
    at = Heartbeat.objects.filter(name=name).values_list("at", flat=True).first()
    return None if at is None else max((timezone.now() - at).total_seconds(), 0.0)


def check_heartbeat() -> CheckResult:
    timer = _Timer()
    max_age = settings.CHIBO_HEARTBEAT_MAX_AGE
    try:
        age = heartbeat_age()
    except Exception as exc:
        return _failure(_("cannot read (%(kind)s)"), exc, timer)
    if age is None:
        return CheckResult(FAIL, _("no heartbeat recorded yet: are beat and a worker running?"), timer.ms())
    detail = _("last heartbeat %(age)d s ago (max %(max)d s)") % {"age": age, "max": max_age}
    if age > max_age:
        return CheckResult(FAIL, detail, timer.ms())
    # The sweeps (settings.CHIBO_SWEEPS) record their own heartbeats: one that stopped fails too.
    stale = [name for name, sweep_age, limit in sweep_ages() if sweep_age is None or sweep_age > limit]
    if stale:
        return CheckResult(FAIL, _("sweeps late: %(names)s") % {"names": ", ".join(stale)}, timer.ms())
    return CheckResult(OK, detail, timer.ms())


def sweep_ages() -> list[tuple[str, float | None, int]]:
    """(name, seconds since its heartbeat or None, max age) for each periodic sweep, in one query.
    A sweep is late once its heartbeat is older than twice its interval."""
    sweeps = getattr(settings, "CHIBO_SWEEPS", {})
    now = timezone.now()
    seen = dict(Heartbeat.objects.filter(name__in=list(sweeps)).values_list("name", "at"))
    return [
        (name, max((now - seen[name]).total_seconds(), 0.0) if name in seen else None, 2 * interval)
        for name, interval in sweeps.items()
    ]


def _broker_connection() -> Connection:
    options = {
        **getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}),
        # Redis reads these; other transports ignore them.
        "socket_connect_timeout": BROKER_CONNECT_TIMEOUT,
        "socket_timeout": BROKER_CONNECT_TIMEOUT,
    }
    return Connection(settings.CELERY_BROKER_URL, connect_timeout=BROKER_CONNECT_TIMEOUT, transport_options=options)


def _filesystem_folders_problem(conn: Connection) -> str:
    # kombu's filesystem "connection" always succeeds; what can fail is a missing or read-only folder.
    options = conn.transport_options
    for key in ("data_folder_in", "data_folder_out", "control_folder"):
        folder = options.get(key)
        if folder and not (os.path.isdir(folder) and os.access(folder, os.W_OK | os.X_OK)):
            return _("folder %(key)s is missing or not writable") % {"key": key}
    return ""


def check_broker_and_worker(ping: bool = True) -> tuple[CheckResult, CheckResult | None]:
    """The broker check and, over the same connection, the worker ping (None when ping=False)."""
    timer = _Timer()
    conn = _broker_connection()
    try:
        try:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=BROKER_TOTAL_TIMEOUT)
        except Exception as exc:
            broker = _failure(_("unreachable (%(kind)s)"), exc, timer)
        else:
            transport = conn.transport.driver_type
            problem = _filesystem_folders_problem(conn) if transport == "filesystem" else ""
            broker = CheckResult(FAIL if problem else OK, problem or transport, timer.ms())
        if not ping:
            return broker, None
        if broker.status != OK:
            return broker, CheckResult(UNKNOWN, _("not checked: the broker failed"), 0.0)
        return broker, _ping_worker(conn)
    finally:
        conn.release()


def _ping_worker(conn: Connection) -> CheckResult:
    # A ping is a broadcast (fanout exchange). Transports without fanout cannot carry it: then the
    # worker is "unknown" here, not failed, and the heartbeat covers it instead — beat sends the
    # heartbeat task and only a worker can record it, so a fresh heartbeat proves both alive.
    # (kombu 5.7's filesystem transport does fan out, given a control_folder; older ones did not.)
    if "fanout" not in conn.transport.implements.exchange_type:
        return CheckResult(UNKNOWN, _("transport does not support ping"), 0.0)
    from config.celery import app

    timer = _Timer()
    try:
        # limit=1: return at the first reply instead of always waiting the whole timeout.
        replies = app.control.ping(timeout=WORKER_PING_TIMEOUT, limit=1, connection=conn)
    except Exception as exc:
        return _failure(_("ping failed (%(kind)s)"), exc, timer)
    if not replies:
        # A worker with --pool=solo cannot answer while it runs a long task: the heartbeat tells more.
        detail = _("no worker replied within %(seconds)s s") % {"seconds": WORKER_PING_TIMEOUT}
        return CheckResult(FAIL, detail, timer.ms())
    return CheckResult(OK, _("%(worker)s replied") % {"worker": next(iter(replies[0]))}, timer.ms())


CHECK_NAMES = ("database", "broker", "heartbeat", "worker")


def run_checks(only: Iterable[str] | None = None) -> dict[str, CheckResult]:
    """Run the named checks (all by default), in CHECK_NAMES order."""
    wanted = set(CHECK_NAMES if only is None else only)
    results: dict[str, CheckResult] = {}
    if "database" in wanted:
        results["database"] = check_database()
    if "broker" in wanted or "worker" in wanted:
        broker, worker = check_broker_and_worker(ping="worker" in wanted)
        if "broker" in wanted:
            results["broker"] = broker
        if worker is not None:
            results["worker"] = worker
    if "heartbeat" in wanted:
        results["heartbeat"] = check_heartbeat()
    return {name: results[name] for name in CHECK_NAMES if name in results}


def overall_status(results: dict[str, CheckResult]) -> str:
    return FAIL if any(r.status == FAIL for r in results.values()) else OK


# --- Facts for the status panel (superusers only) -----------------------------------------------


def database_facts() -> dict:
    """Vendor, server version and size in bytes of the default database."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT current_setting('server_version'), pg_database_size(current_database())")
            version, size = cursor.fetchone()
        elif connection.vendor == "sqlite":
            cursor.execute("SELECT sqlite_version()")
            (version,) = cursor.fetchone()
            # Logical size: pages in use, the same whether the file is on disk or in memory (tests).
            cursor.execute("PRAGMA page_count")
            (pages,) = cursor.fetchone()
            cursor.execute("PRAGMA page_size")
            size = pages * cursor.fetchone()[0]
        else:
            version, size = "", None
    return {"vendor": connection.display_name, "version": version, "size": size}


def versions() -> list[tuple[str, str]]:
    import platform
    import tomllib

    import celery
    import django
    import kombu

    try:
        with open(settings.BASE_DIR / "pyproject.toml", "rb") as f:
            chibo = tomllib.load(f)["project"]["version"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        chibo = "?"
    return [
        ("Chi bộ", chibo),
        ("Python", platform.python_version()),
        ("Django", django.get_version()),
        ("Celery", celery.__version__),
        ("kombu", kombu.__version__),
    ]


def unapplied_migrations() -> list[str]:
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _backwards in plan]
