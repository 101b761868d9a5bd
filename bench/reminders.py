"""Plan and send 50,000 meeting reminders to a local SMTP sink; print how long each took and how
many arrived.

    .venv/bin/python bench/reminders.py [--cells 500] [--members 100] [--workers 2]

PostgreSQL, a throw-away database of its own (chibo_bench_reminders on 127.0.0.1:5432 as user
postgres, dropped at the end). Setup (not timed): `cells` cells of `members` members, each with a
login and an address, and one regular meeting per cell in 10 days. Then, timed:

- planning: meetings/notify.py plans each meeting's reminders (3 days before; the 2-hour reminder
  is switched off by a tree setting so that the count is exactly cells × members e-mails), inbox
  and e-mail rows, as the meeting services do;
- sending: `workers` processes run the same sweep as the beat task (members.notifications.delivery
  .send_due) at the reminders' due time, each claiming batches and sending over its own SMTP
  connection, until nothing is due;
- arrived: messages the sink (aiosmtpd in a process of its own) accepted.

Target: planning + sending under 60 s on the 2-core machine, exactly cells × members arrived.
STACK-NOTES.md "Email": Django over one reused connection ~526 msg/s; pre-built bytes 1,914 msg/s.
The sweep builds each meeting's message once and sends bytes, so one connection nears the latter.
"""

import argparse
import datetime
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = "chibo_bench_reminders"
SERVER = os.environ.get("CHIBO_BENCH_POSTGRES", "postgres@127.0.0.1:5432")
TARGET_SECONDS = 60.0

sys.path.insert(0, str(ROOT))


def admin_sql(*statements: str) -> None:
    import psycopg

    with psycopg.connect(f"postgresql://{SERVER}/postgres", autocommit=True) as conn:
        for sql in statements:
            conn.execute(sql)


# --- The SMTP sink (its own process) ---------------------------------------------------------------


class CountingHandler:
    def __init__(self, counter):
        self.counter = counter

    async def handle_DATA(self, server, session, envelope):
        with self.counter.get_lock():
            self.counter.value += len(envelope.rcpt_tos)
        return "250 OK"


def run_sink(port: int, counter, ready, stop) -> None:
    from aiosmtpd.controller import Controller

    controller = Controller(CountingHandler(counter), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    stop.wait()
    controller.stop()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- Setup ---------------------------------------------------------------------------------------------


def build(cells: int, members: int, start: datetime.datetime) -> list[int]:
    """Cells, members with logins and addresses, one regular meeting per cell; ids of the meetings."""
    from cells.models import PartyUnit, UnitSetting
    from meetings.models import Meeting
    from members.models import Member, Membership, User

    root = PartyUnit.objects.create(kind=PartyUnit.Kind.COMMITTEE, name="Đảng bộ thử tải")
    UnitSetting.objects.create(unit=root, key="reminder_hours_before_meeting", value=0)
    units = [PartyUnit(kind=PartyUnit.Kind.CELL, name=f"Chi bộ {i}", parent=root) for i in range(cells)]
    for unit in units:
        unit.path, unit.depth = root.path + f"{unit.uid.hex[:12]}.", 1
    PartyUnit.objects.bulk_create(units)
    users = User.objects.bulk_create(
        [User(username=f"dv{i}", email=f"dv{i}@bench.example", password="!") for i in range(cells * members)],
        batch_size=5000,
    )
    people = Member.objects.bulk_create(
        [
            Member(
                full_name=f"Đảng viên {i}",
                search_name=f"dang vien {i}",
                birth_date=datetime.date(1980, 1, 1),
                gender="male",
                admitted_on=datetime.date(2010, 1, 1),
                full_member_on=datetime.date(2011, 1, 1),
                home_unit=units[i // members],
                user=user,
            )
            for i, user in enumerate(users)
        ],
        batch_size=5000,
    )
    Membership.objects.bulk_create(
        [Membership(member=m, cell=units[i // members], start=datetime.date(2015, 1, 1)) for i, m in enumerate(people)],
        batch_size=5000,
    )
    meetings = Meeting.objects.bulk_create(
        [
            Meeting(
                unit=unit,
                kind=Meeting.Kind.REGULAR,
                period_year=start.year,
                period_month=start.month,
                scheduled_start=start,
                place="Hội trường",
            )
            for unit in units
        ]
    )
    return [m.pk for m in meetings]


# --- Sending workers ---------------------------------------------------------------------------------


def send_worker(now_iso: str, results) -> None:
    import django

    django.setup()
    from members.notifications.delivery import send_due

    result = send_due(now=datetime.datetime.fromisoformat(now_iso), batch_size=500)
    results.put((result.sent, result.retried, result.failed, time.process_time()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cells", type=int, default=500)
    parser.add_argument("--members", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    expected = args.cells * args.members

    port = free_port()
    var = Path(tempfile.mkdtemp(prefix="chibo-bench-reminders-"))
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": f"postgres://{SERVER}/{DB_NAME}",
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": "bench-only-" + "x" * 40,
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "CHIBO_VAR_DIR": str(var),
            "EMAIL_URL": f"smtp://127.0.0.1:{port}",
            "CHIBO_NOTIFICATIONS_KICK": "false",
            "DJANGO_LOG_LEVEL": "WARNING",
        }
    )
    admin_sql(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)", f"CREATE DATABASE {DB_NAME}")
    ctx = multiprocessing.get_context("fork")
    counter, ready, stop = ctx.Value("l", 0), ctx.Event(), ctx.Event()
    sink = ctx.Process(target=run_sink, args=(port, counter, ready, stop), daemon=True)
    sink.start()
    ready.wait(10)
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connections
        from django.db.models import Count
        from django.utils import timezone

        from meetings import notify
        from meetings.models import Meeting
        from members.notifications.models import Notification

        t0 = time.perf_counter()
        call_command("migrate", verbosity=0)
        now = timezone.now().replace(second=0, microsecond=0)
        start = now + datetime.timedelta(days=10)
        ids = build(args.cells, args.members, start)
        print(f"setup: migrated, {args.cells} cells × {args.members} members built in {time.perf_counter() - t0:.1f} s")

        t0, cpu0 = time.perf_counter(), time.process_time()
        for meeting in Meeting.objects.filter(pk__in=ids).select_related("unit"):
            notify._plan_reminders(meeting, now)
        planning, planning_cpu = time.perf_counter() - t0, time.process_time() - cpu0
        emails = Notification.objects.filter(kind=notify.REMINDER, channel="email").count()
        inbox = Notification.objects.filter(kind=notify.REMINDER, channel="inbox").count()
        print(
            f"planning: {planning:.1f} s for {emails:,} e-mail and {inbox:,} inbox reminder rows "
            f"(this process used {planning_cpu:.1f} s of CPU; the rest is PostgreSQL and waiting)"
        )

        due = start - datetime.timedelta(days=3)
        connections.close_all()  # the workers are forked: each opens its own connections
        results = ctx.Queue()
        t0 = time.perf_counter()
        workers = [ctx.Process(target=send_worker, args=(due.isoformat(), results)) for _ in range(args.workers)]
        for w in workers:
            w.start()
        totals = [results.get() for _ in workers]
        for w in workers:
            w.join()
        sending = time.perf_counter() - t0
        sent = sum(t[0] for t in totals)
        time.sleep(0.5)  # the sink counts what it accepted; let the last replies land
        arrived = counter.value
        states = dict(
            Notification.objects.filter(kind=notify.REMINDER, channel="email")
            .values_list("state")
            .annotate(n=Count("pk"))
            .order_by()
        )
        total = planning + sending
        print(
            f"sending: {sending:.1f} s with {args.workers} worker(s), {sent:,} sent "
            f"({sent / sending:,.0f} msg/s); rows by state: {states}; "
            f"CPU of the workers: {', '.join(f'{t[3]:.1f} s' for t in totals)}"
        )
        print(f"arrived at the sink: {arrived:,} (expected {expected:,})")
        verdict = "OK" if total < TARGET_SECONDS and arrived == expected else "MISSED"
        print(
            f"total planning + sending: {total:.1f} s "
            f"(target < {TARGET_SECONDS:.0f} s, exactly {expected:,}): {verdict}"
        )
        # On a shared machine the wall times follow the load; with other work running the CPU
        # figures above say what this run itself needed.
        print(f"load average: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    finally:
        stop.set()
        sink.join(5)
        from django.db import connections

        connections.close_all()
        if not args.keep:
            admin_sql(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")


if __name__ == "__main__":
    main()
