"""Throughput of a meeting's attendance page (60 members) against a one-query view of the same app.

Serves the app with gunicorn (2 sync workers) on PostgreSQL, in a throw-away database of its own
(chibo_bench on 127.0.0.1:5432 as user postgres, dropped at the end), signed in as the cell's
secretary. The load generator is wrk when installed (`apt-get install -y wrk`), else a threaded
Python client with a fixed number of requests. Prints requests per second of both views, their
ratio and the 95th percentile latency:

    .venv/bin/python bench/meeting_page.py [--connections 50] [--duration 10]

Targets: the attendance page serves at least 25% of the one-query view's rate; p95 ≤ 50 ms.
The one-query view is /healthz?checks=database (SELECT 1, no session, no template). The check-in
page is measured too, as the floor of a signed-in page (session, user, scope, base template).

With 50 connections on 2 sync workers, requests queue: by Little's law the mean latency is
connections ÷ throughput, so p95 ≤ 50 ms at 50 connections needs ~1,000 req/s. The script also
measures the page with one connection per worker (--quiet-connections), where latency is the
time to serve a request, without the queue.

The machine is shared: other work slows every process, and a view measured while it runs looks
slower than one measured a minute later. So the views are measured in alternating rounds
(--rounds, medians printed), the server is left to drain its queue between runs (a sync worker
still serves the requests of connections wrk has closed), and the CPU time the gunicorn workers
and their PostgreSQL backends spend per request served (from /proc and gunicorn's access log) is
printed too: its ratio is what the throughput ratio is on an idle machine, and it barely moves
with the load around it.

Measured 2026-11-23, session 3 (load average 1.8-3.4 from other work; medians of 3 rounds):
    one-query view 526 req/s (rounds 278-1,064), 1.92 ms CPU/request; attendance page 175 req/s,
    5.53 ms CPU/request, 3 queries: ratio 33.2% (34.7% by CPU); p95 at 50 connections 339 ms (the
    queue: 50 / 175 req/s; the one-query view's own p95 there was 148 ms), p50 4.5 ms and p95 9.9 ms
    with 2 connections. What got it there, from 20.7-23.0 ms CPU/request (14.5-16.2%) last session:
    the production cache (Redis) with one client per pool (config/cache.py), the user, meeting and
    grants reads compiled once and run as prepared statements (config/precompiled.py; PostgreSQL
    planned the user and grants joins for 0.65 ms each per request), rights checked on the user
    rather than through request.user's lazy wrappers, and the whole page kept per viewer under the
    meeting's last change with the csrf token and inbox badge filled in (config/pagecache.py).
    Later the same day, quieter (load 1.5-2.2): one-query view 1,415 req/s at 1.26 ms CPU/request,
    p95 44 ms at 50 connections; attendance page 331 req/s at 4.97 ms: ratio 23.4% (25.4% by CPU),
    p95 188 ms at 50 connections, p50 5.5 ms / p95 8.7 ms with 2 connections.
    Session 4 (2026-12-07, load 2.4-3.4 with a nice'd data generation running): after the hit was cut
    to its key (rights from the grants already read, the tree settings read with the page and
    compared, the page kept as UTF-8 pieces joined as bytes; 2 Redis round trips) and the grants read
    in the user's own statement: one-query view 768 req/s at 1.84 ms CPU/request; attendance page 323
    req/s at 4.13 ms CPU/request: ratio 42.0% (44.6% by CPU), p95 253 ms at 50 connections, p50 5.5 ms
    / p95 11.5 ms with 2 connections. With the grants in the user's statement (2 queries a hit), load
    1.0-2.8 (the generation on one core): one-query view 817 req/s at 1.32 ms CPU/request, attendance
    page 309 req/s at 3.36 ms: ratio 37.8% (39.3% by CPU), p95 219 ms at 50 connections, p50 7.3 ms /
    p95 14.0 ms with 2 connections.
    The p95 target cannot be met by any page here: with 50 connections on 2 sync workers the queue
    alone is 50 / throughput, so p95 <= 50 ms needs ~1,000 req/s, the one-query view's own rate.
"""

import argparse
import datetime
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = "chibo_bench"
SERVER = os.environ.get("CHIBO_BENCH_POSTGRES", "postgres@127.0.0.1:5432")
ONE_QUERY_PATH = "/healthz?checks=database"
REDIS_URL = os.environ.get("CHIBO_BENCH_REDIS", "redis://127.0.0.1:6379/14")
MEMBERS = 60
TARGET_RATIO, TARGET_P95_MS = 0.25, 50.0

sys.path.insert(0, str(ROOT))

import django  # noqa: E402
import psycopg  # noqa: E402


def bench_env(var: Path) -> dict:
    """The environment of this process and of the server; set in main(), never on import."""
    return {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": f"postgres://{SERVER}/{DB_NAME}",
        # Production settings: DEBUG off (no query log), persistent connections (CONN_MAX_AGE=60).
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "bench-only-" + "x" * 40,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "CHIBO_STATICFILES_STORAGE": "django.contrib.staticfiles.storage.StaticFilesStorage",
        "CHIBO_VAR_DIR": str(var),
        # The cache of the production stack (docker-compose.yml): Redis, shared by both workers, so
        # the session, the inbox badge and the page fragments are what production reads.
        "CACHE_URL": REDIS_URL,
        "DJANGO_LOG_LEVEL": "WARNING",
    }


WRK_SCRIPT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p95_us": %d, '
    .. '"p99_us": %d, "errors": %d, "bad_status": %d}\\n', summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status))
end
"""


def admin_sql(*statements: str) -> None:
    with psycopg.connect(f"postgresql://{SERVER}/postgres", autocommit=True) as conn:
        for sql in statements:
            conn.execute(sql)


def build_cell() -> dict:
    """A ward and a cell of 60 members, a secretary with a login, and an open meeting whose
    attendance is recorded the way a real one is (present, online, excused, unexcused, late)."""
    from django.conf import settings
    from django.test import Client
    from django.utils import timezone

    from cells.models import PartyUnit
    from meetings import services as meetings
    from members import services as members
    from members.models import Position, StatusPeriod, User

    ward = PartyUnit.objects.create(kind=PartyUnit.Kind.COMMITTEE, name="Đảng bộ phường Bench")
    cell = PartyUnit.objects.create(kind=PartyUnit.Kind.CELL, name="Chi bộ Khu phố Bench", parent=ward)
    user = User.objects.create(username="bench-secretary", first_name="Trần Thị Hằng")
    roll = []
    for n in range(MEMBERS):
        roll.append(
            members.member_create(
                cell=cell,
                joined_on=datetime.date(2015, 1, 1),
                by=user,
                full_name=f"Nguyễn Văn Thành {n:02d}",
                birth_date=datetime.date(1960 + n % 40, 1 + n % 12, 1 + n % 28),
                gender="male" if n % 3 else "female",
                admitted_on=datetime.date(2000 + n % 20, 3, 1),
                full_member_on=None if n % 15 == 0 else datetime.date(2001 + n % 20, 3, 1),
                card_number=f"{80000000 + n}",
            )
        )
    roll[0].user = user
    roll[0].save(update_fields=["user"])
    members.position_add(
        unit=cell, role=Position.Role.SECRETARY, start=datetime.date(2020, 1, 1), member=roll[0], by=user
    )
    for member in roll[-2:]:
        members.status_period_add(
            member=member, kind=StatusPeriod.Kind.EXEMPTED, start=datetime.date(2024, 1, 1), reason="Tuổi cao", by=user
        )

    meeting = meetings.meeting_schedule(
        unit=cell, kind="regular", scheduled_start=timezone.now(), place="Nhà văn hóa", by=user
    )
    meeting = meetings.meeting_open(meeting=meeting, by=user)
    for n, member in enumerate(roll[:-2]):
        if n % 20 == 7:
            status, extra = "excused", {"reason": "Đi công tác", "reason_approved": True}
        elif n % 29 == 11:
            status, extra = "unexcused", {}
        else:
            status, extra = ("online" if n % 9 == 4 else "present"), {"arrived_late": n % 13 == 5}
        meetings.attendance_record(meeting=meeting, member=member, status=status, by=user, **extra)
    meetings.guest_add(meeting=meeting, name="Lê Văn Phường", title="Đảng ủy viên phường", by=user)

    client = Client()
    client.force_login(user)
    # A browser holds the csrf cookie the first page set, and sends it with every request after.
    client.get(f"/meetings/{meeting.uid}/attendance/", HTTP_HOST="127.0.0.1")
    cookies = [settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME]
    return {
        "cookie": "; ".join(f"{name}={client.cookies[name].value}" for name in cookies),
        "path": f"/meetings/{meeting.uid}/attendance/",
        "meeting_uid": meeting.uid,
    }


def check_in_path(meeting_uid) -> str:
    """The check-in page (GET, a fresh token): a signed-in page through the same session, user,
    scope and meeting lookups and base template as the attendance page, without the roll."""
    from meetings.checkin import make_token

    return f"/meetings/{meeting_uid}/check-in/?t={make_token(meeting_uid)}"


def queries_per_request(path: str, cookie: str) -> int:
    """Queries one request runs, counted in this process against the same database (warm cache)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1", **({"HTTP_COOKIE": cookie} if cookie else {}))
    client.get(path)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return len(ctx.captured_queries)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(port: int, var: Path) -> subprocess.Popen:
    log = open(var / "gunicorn.log", "wb")  # a file, not a pipe: a full pipe would stall the workers
    server = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "config.wsgi:application",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            # Counts the requests the server really served, those of clients wrk already left too.
            "--access-logfile",
            str(var / "access.log"),
        ],
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{ONE_QUERY_PATH}", timeout=1) as r:
                if r.status == 200:
                    return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit(f"gunicorn did not start: {(var / 'gunicorn.log').read_text()[-2000:]}")


def fetch(port: int, path: str, cookie: str) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path, headers={"Cookie": cookie} if cookie else {})
    response = conn.getresponse()
    return response.status, response.read().decode()


def load_wrk(url: str, cookie: str, connections: int, duration: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT)
    try:
        command = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--timeout", "5s", "-s", script.name]
        if cookie:
            command += ["-H", f"Cookie: {cookie}"]
        out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(script.name)
    result = json.loads(out.split("RESULT ", 1)[1])
    return {
        "rps": result["requests"] / (result["duration_us"] / 1e6),
        "p50_ms": result["p50_us"] / 1000,
        "p95_ms": result["p95_us"] / 1000,
        "p99_ms": result["p99_us"] / 1000,
        "requests": result["requests"],
        "failed": result["errors"] + result["bad_status"],
    }


def load_python(url: str, cookie: str, connections: int, requests: int) -> dict:
    """Fallback without wrk: `connections` threads, each with a kept-alive connection, share a
    fixed number of requests."""
    parts = urllib.request.urlparse(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    latencies: list[float] = []
    failed = [0]
    lock = threading.Lock()
    share = requests // connections

    def worker() -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        mine = []
        for _ in range(share):
            started = time.perf_counter()
            conn.request("GET", path, headers={"Cookie": cookie} if cookie else {})
            response = conn.getresponse()
            response.read()
            mine.append(time.perf_counter() - started)
            if response.status != 200:
                failed[0] += 1
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(len(latencies) * p))] * 1000

    return {
        "rps": len(latencies) / elapsed,
        "p50_ms": pct(0.50),
        "p95_ms": pct(0.95),
        "p99_ms": pct(0.99),
        "requests": len(latencies),
        "failed": failed[0],
    }


class ServerMeter:
    """CPU seconds spent by the gunicorn workers and their PostgreSQL backends, and requests served.

    Other work on a shared machine slows every process down, but barely changes the CPU a
    request costs: CPU per request is the figure to compare between views (and runs) here, the
    requests per second only on a quiet machine.
    """

    def __init__(self, server: subprocess.Popen, var: Path):
        self.server, self.access_log = server, var / "access.log"
        self.tick = os.sysconf("SC_CLK_TCK")

    def pids(self) -> list[int]:
        children = Path(f"/proc/{self.server.pid}/task/{self.server.pid}/children").read_text().split()
        with psycopg.connect(f"postgresql://{SERVER}/postgres", autocommit=True) as conn:
            backends = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND backend_type = 'client backend'", [DB_NAME]
            ).fetchall()
        return [int(pid) for pid in children] + [pid for (pid,) in backends]

    def cpu(self) -> dict[int, float]:
        seconds = {}
        for pid in self.pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except FileNotFoundError:
                continue  # a PostgreSQL backend that just ended (CONN_MAX_AGE)
            seconds[pid] = (int(fields[11]) + int(fields[12])) / self.tick  # utime + stime
        return seconds

    def served(self) -> int:
        with open(self.access_log, "rb") as log:
            return sum(1 for _ in log)

    def drain(self, timeout: float = 60) -> None:
        """Wait until the requests still queued when the load generator stopped are served."""
        deadline, last = time.monotonic() + timeout, -1
        while time.monotonic() < deadline:
            now = self.served()
            if now == last:
                return
            last = now
            time.sleep(0.5)

    def snapshot(self) -> tuple[dict[int, float], int]:
        return self.cpu(), self.served()

    def since(self, before: tuple[dict[int, float], int]) -> tuple[float, int]:
        self.drain()
        cpu, served = self.snapshot()
        spent = sum(seconds - before[0].get(pid, 0.0) for pid, seconds in cpu.items())
        return spent, served - before[1]


def median(values: list[float]) -> float:
    values = sorted(values)
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


def load_average() -> str:
    return ", ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement (wrk)")
    parser.add_argument("--requests", type=int, default=5000, help="requests per measurement (no wrk)")
    parser.add_argument("--quiet-connections", type=int, default=2, help="the unqueued latency measurement")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds; medians are printed")
    args = parser.parse_args()

    load_before = load_average()
    var = Path(tempfile.mkdtemp(prefix="chibo-meeting-page-bench-"))
    os.environ.update(bench_env(var))
    admin_sql(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)", f"CREATE DATABASE {DB_NAME}")
    server = None
    try:
        django.setup()
        from django.core.cache import cache
        from django.core.management import call_command
        from django.db import connections

        cache.clear()  # the bench's own Redis database: no fragment of an earlier run

        t0 = time.perf_counter()
        call_command("migrate", verbosity=0)
        cell = build_cell()
        print(f"database {DB_NAME}: migrated and a {MEMBERS}-member cell built in {time.perf_counter() - t0:.1f} s")
        page_queries = queries_per_request(cell["path"], cell["cookie"])
        one_queries = queries_per_request(ONE_QUERY_PATH, "")
        floor_queries = queries_per_request(check_in_path(cell["meeting_uid"]), cell["cookie"])
        connections.close_all()

        port = free_port()
        server = start_gunicorn(port, var)
        base = f"http://127.0.0.1:{port}"
        status, html = fetch(port, cell["path"], cell["cookie"])
        rows = html.count('class="att-row"')
        assert status == 200 and rows == MEMBERS, f"attendance page: HTTP {status}, {rows} rows (signed in?)"

        have_wrk = shutil.which("wrk") is not None
        tool = f"wrk, {args.duration} s" if have_wrk else f"Python threads, {args.requests} requests"
        print(
            f"gunicorn 2 sync workers on 127.0.0.1:{port}; PostgreSQL; {args.connections} connections ({tool}); "
            f"{os.cpu_count()} CPUs shared by server, database and load generator"
        )

        def load(path: str, cookie: str, warm: bool = False, connections: int = args.connections) -> dict:
            if have_wrk:
                return load_wrk(base + path, cookie, connections, 2 if warm else args.duration)
            return load_python(base + path, cookie, connections, args.requests // (5 if warm else 1))

        meter = ServerMeter(server, var)
        targets = {
            "one-query view": (lambda: ONE_QUERY_PATH, "", one_queries),
            "attendance page": (lambda: cell["path"], cell["cookie"], page_queries),
            # A fresh token each time: it lives two minutes, a run on a busy machine takes longer.
            "check-in page": (lambda: check_in_path(cell["meeting_uid"]), cell["cookie"], floor_queries),
        }
        for path, cookie, _ in targets.values():
            # Both workers warm: connections, templates, the cached rows.
            load(path(), cookie, warm=True)
            meter.drain()
        # Rounds alternate the views, so that other work on the machine weighs on each alike.
        runs: dict[str, list[dict]] = {name: [] for name in targets}
        for _ in range(args.rounds):
            for name, (path, cookie, _) in targets.items():
                before = meter.snapshot()
                r = load(path(), cookie)
                r["cpu_s"], r["served"] = meter.since(before)
                runs[name].append(r)
        results = {}
        for name, rs in runs.items():
            queries = targets[name][2]
            results[name] = r = {
                key: median([x[key] for x in rs]) for key in ("rps", "p50_ms", "p95_ms", "p99_ms", "requests")
            }
            r["failed"] = sum(x["failed"] for x in rs)
            r["cpu_ms"] = median([1000 * x["cpu_s"] / max(x["served"], 1) for x in rs])
            rates = " ".join(f"{x['rps']:.0f}" for x in rs)
            print(
                f"  {name:16} {r['rps']:8.0f} req/s   p50 {r['p50_ms']:6.1f} ms   p95 {r['p95_ms']:6.1f} ms   "
                f"p99 {r['p99_ms']:6.1f} ms   {r['cpu_ms']:5.2f} ms CPU/request   ({queries} queries each; "
                f"rounds: {rates} req/s; {r['failed']} failed)"
            )
        page, floor = results["attendance page"], results["one-query view"]
        ratio = page["rps"] / max(floor["rps"], 1e-9)
        cpu_ratio = floor["cpu_ms"] / max(page["cpu_ms"], 1e-9)
        ok_ratio, ok_p95 = ratio >= TARGET_RATIO, page["p95_ms"] <= TARGET_P95_MS
        verdict = "met" if ok_ratio else "NOT met"
        target = f"target ≥ {TARGET_RATIO:.0%}: {verdict}"
        print(f"  ratio            {ratio:8.1%}   (of the medians of {args.rounds} rounds; {target})")
        print(
            f"  ratio by CPU     {cpu_ratio:8.1%}   (one-query view's CPU per request ÷ the page's, gunicorn workers "
            f"and their PostgreSQL backends: what the ratio is when nothing else runs)"
        )
        signed_in = results["check-in page"]["rps"] / max(floor["rps"], 1e-9)
        signed_in_cpu = floor["cpu_ms"] / max(results["check-in page"]["cpu_ms"], 1e-9)
        print(
            f"  check-in page    {signed_in:8.1%}   of the one-query view ({signed_in_cpu:.1%} by CPU): "
            "a signed-in page without the roll"
        )
        verdict = "met" if ok_p95 else "NOT met"
        print(f"  attendance p95   {page['p95_ms']:6.1f} ms (target ≤ {TARGET_P95_MS:.0f} ms: {verdict})")
        quiet = load(cell["path"], cell["cookie"], connections=args.quiet_connections)
        meter.drain()
        print(
            f"  attendance page with {args.quiet_connections} connections (no queue): {quiet['rps']:.0f} req/s, "
            f"p50 {quiet['p50_ms']:.1f} ms, p95 {quiet['p95_ms']:.1f} ms"
        )
        print(f"  load average before / after: {load_before} / {load_average()} (other work here skews these)")
        if any(r["failed"] for r in (*results.values(), quiet)):
            print("  warning: some requests failed (wrk's 5 s timeout under a queue, or an error status)")
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        from django.db import connections

        connections.close_all()
        admin_sql(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        shutil.rmtree(var, ignore_errors=True)
        print(f"server stopped; database {DB_NAME} dropped")


if __name__ == "__main__":
    main()
