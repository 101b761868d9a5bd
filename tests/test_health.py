"""/healthz, the beat heartbeat and the superusers' status panel.

The broker and the worker are real: kombu's filesystem transport in a temporary folder, and a
Celery worker in a subprocess answering pings over it; a stopped broker is a closed Redis port.
"""

import ctypes
import datetime
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone, translation

from cells.models import Heartbeat
from cells.tasks import BEAT_HEARTBEAT, beat_heartbeat
from config import health
from tests.factories import UserFactory

BASE_DIR = Path(__file__).resolve().parent.parent
CLOSED_PORT_BROKER = "redis://:not-shown-anywhere@127.0.0.1:6390/0"


def broker_options(var: Path) -> dict:
    return {
        "data_folder_in": str(var / "broker" / "out"),
        "data_folder_out": str(var / "broker" / "out"),
        "processed_folder": str(var / "broker" / "processed"),
        "control_folder": str(var / "broker" / "control"),
        "store_processed": False,
        "polling_interval": 0.1,
    }


def _die_with_parent() -> None:
    # If pytest is killed (a CI timeout), the worker goes too instead of lingering (Linux prctl).
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


@pytest.fixture(scope="module")
def worker(tmp_path_factory):
    """A Celery worker on a filesystem broker of its own; yields that broker's transport options."""
    var = tmp_path_factory.mktemp("health-var")
    for folder in ("out", "processed", "control"):
        (var / "broker" / folder).mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "CELERY_", "CHIBO_"))}
    env.update(CHIBO_VAR_DIR=str(var), CELERY_BROKER_URL="filesystem://", DJANGO_SETTINGS_MODULE="config.settings")
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "-l", "info"]
    command += ["--without-gossip", "--without-mingle", "--without-heartbeat", "-n", "health-test@%h"]
    log = var / "worker.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            command, cwd=BASE_DIR, env=env, stdout=out, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent
        )
    options = broker_options(var)
    try:
        # Ping only once the worker is ready: on the filesystem transport a worker that starts
        # declares the reply exchange afresh and drops a binding made before it.
        deadline = time.monotonic() + 30
        while b" ready." not in log.read_bytes():
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the test worker did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.1)
        yield options
    finally:
        proc.send_signal(signal.SIGQUIT)  # cold shutdown: it runs no task, there is nothing to finish
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def running_broker(settings, worker):
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = worker


@pytest.fixture
def fresh_heartbeat(db):
    beat_heartbeat()
    from django.conf import settings

    from members.tasks import beat

    for name in settings.CHIBO_SWEEPS:  # the notification sweeps record theirs too
        beat(name)


def get_health(client, query=""):
    started = time.perf_counter()
    response = client.get(reverse("ops:healthz") + query)
    return response, response.json(), time.perf_counter() - started


# --- /healthz -------------------------------------------------------------------------------------


def test_healthy_with_a_fresh_heartbeat_a_reachable_broker_and_a_worker(client, running_broker, fresh_heartbeat):
    response, body, seconds = get_health(client)
    assert response.status_code == 200, body
    assert body["status"] == "ok"
    assert {name: check["status"] for name, check in body["checks"].items()} == {
        "database": "ok",
        "broker": "ok",
        "heartbeat": "ok",
        "worker": "ok",
    }
    assert "health-test@" in body["checks"]["worker"]["detail"]
    assert all(check["duration_ms"] >= 0 for check in body["checks"].values())
    assert response["Cache-Control"].startswith("max-age=0")
    assert seconds < 2


def test_stopped_broker_gives_503_with_the_broker_failed(client, settings, fresh_heartbeat):
    settings.CELERY_BROKER_URL = CLOSED_PORT_BROKER
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}
    response, body, seconds = get_health(client)
    assert response.status_code == 503
    assert body["status"] == "fail"
    assert body["checks"]["broker"]["status"] == "fail"
    assert body["checks"]["worker"]["status"] == "unknown"
    assert body["checks"]["database"]["status"] == "ok"
    assert seconds < 2
    # No secret and no address leaks to an unauthenticated caller.
    assert "not-shown-anywhere" not in response.content.decode()
    assert "6390" not in response.content.decode()


def test_heartbeat_older_than_max_age_gives_503(client, settings, running_broker, db):
    settings.CHIBO_HEARTBEAT_MAX_AGE = 180
    Heartbeat.objects.create(name=BEAT_HEARTBEAT, at=timezone.now() - datetime.timedelta(seconds=181))
    response, body, _ = get_health(client)
    assert response.status_code == 503
    failed = {name for name, check in body["checks"].items() if check["status"] != "ok"}
    assert failed == {"heartbeat"}
    assert "181 s ago" in body["checks"]["heartbeat"]["detail"]


def test_no_heartbeat_yet_gives_503(client, running_broker, db):
    response, body, _ = get_health(client)
    assert response.status_code == 503
    assert body["checks"]["heartbeat"]["status"] == "fail"


def test_no_worker_answering_the_ping_gives_503(client, settings, tmp_path, fresh_heartbeat):
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = broker_options(tmp_path)
    for folder in ("out", "processed", "control"):
        (tmp_path / "broker" / folder).mkdir(parents=True)
    response, body, seconds = get_health(client)
    assert response.status_code == 503
    assert body["checks"]["broker"]["status"] == "ok"
    assert body["checks"]["worker"]["status"] == "fail"
    assert "no worker replied" in body["checks"]["worker"]["detail"]
    assert seconds < 2


def test_missing_broker_folder_fails_the_broker(client, settings, tmp_path, fresh_heartbeat):
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = broker_options(tmp_path / "nowhere")
    response, body, _ = get_health(client)
    assert response.status_code == 503
    assert body["checks"]["broker"]["status"] == "fail"
    assert "missing" in body["checks"]["broker"]["detail"]


def test_transport_without_broadcast_leaves_the_worker_unknown_not_failed():
    # kombu 5.7's filesystem and Redis transports both fan out; this is the branch for those that do not.
    conn = SimpleNamespace(transport=SimpleNamespace(implements=SimpleNamespace(exchange_type=frozenset({"direct"}))))
    with translation.override("en"):
        result = health._ping_worker(conn)
        assert (result.status, str(result.detail)) == ("unknown", "transport does not support ping")


def test_a_subset_of_checks_can_be_asked_for(client, db):
    response, body, _ = get_health(client, "?checks=database")
    assert response.status_code == 200
    assert list(body["checks"]) == ["database"]
    response = client.get(reverse("ops:healthz") + "?checks=database,nonsense")
    assert response.status_code == 400
    assert response.json()["unknown"] == ["nonsense"]


def test_healthz_needs_no_login_and_answers_in_english(client, running_broker, fresh_heartbeat):
    client.cookies["django_language"] = "vi"
    response, body, _ = get_health(client)
    assert response.status_code == 200
    assert body["checks"]["heartbeat"]["detail"].startswith("last heartbeat")


# --- The heartbeat task and its schedule ----------------------------------------------------------


def test_heartbeat_task_run_twice_keeps_one_row_with_the_latest_time(db):
    with time_machine.travel(datetime.datetime(2026, 11, 23, 9, 0, tzinfo=datetime.UTC), tick=False):
        beat_heartbeat()
        beat_heartbeat()
    with time_machine.travel(datetime.datetime(2026, 11, 23, 9, 1, tzinfo=datetime.UTC), tick=False):
        beat_heartbeat()
    assert Heartbeat.objects.count() == 1
    assert Heartbeat.objects.get().at == datetime.datetime(2026, 11, 23, 9, 1, tzinfo=datetime.UTC)


def test_beat_schedules_the_heartbeat_every_interval_expiring_just_under_it(db, settings):
    from django_celery_beat.models import PeriodicTask
    from django_celery_beat.schedulers import ModelEntry

    from config.celery import app

    # What DatabaseScheduler.update_from_dict does with CELERY_BEAT_SCHEDULE when beat starts (its
    # schedule property would also close the test's database connection, so the entries go directly).
    for name, fields in settings.CELERY_BEAT_SCHEDULE.items():
        ModelEntry.from_entry(name, app=app, **fields)
    task = PeriodicTask.objects.get(task="cells.tasks.beat_heartbeat")
    interval = settings.CHIBO_HEARTBEAT_INTERVAL
    assert task.interval.every == interval and task.interval.period == "seconds"
    assert 0 < task.expire_seconds < interval


def test_every_scheduled_task_is_registered_in_the_worker():
    """What a worker process loads (each app's tasks.py and CELERY_IMPORTS) holds every task beat
    sends: checked in a fresh process, where no test has imported a task module already."""
    import subprocess
    import sys

    script = (
        "import django; django.setup()\n"
        "from django.conf import settings\n"
        "from config.celery import app\n"
        "app.loader.import_default_modules()\n"
        "print(sorted({e['task'] for e in settings.CELERY_BEAT_SCHEDULE.values()} - set(app.tasks)))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout + done.stderr


# --- Status panel ---------------------------------------------------------------------------------


def test_status_panel_is_404_for_a_committee_member(cast, client_for):
    assert client_for(cast.secretary_user).get(reverse("ops:status")).status_code == 404
    assert client_for(cast.ward_user).get(reverse("ops:status")).status_code == 404


def test_status_panel_is_404_for_an_anonymous_visitor(client, db):
    assert client.get(reverse("ops:status")).status_code == 404


def test_status_panel_shows_checks_counts_and_the_last_backup_to_a_superuser(
    cast, client_for, settings, tmp_path, running_broker, fresh_heartbeat
):
    settings.VAR_DIR = tmp_path
    (tmp_path / "backups").mkdir()
    (tmp_path / "backups" / "chibo-20261101-020000.tar.gz").write_bytes(b"x" * 2048)
    (tmp_path / "backups" / "chibo-20261122-020000.tar.gz").write_bytes(b"x" * 4096)
    superuser = UserFactory(username="root", is_superuser=True, is_staff=True)
    client = client_for(superuser)
    client.cookies["django_language"] = "en"
    response = client.get(reverse("ops:status"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "chibo-20261122-020000.tar.gz" in html and "4.0" in html
    assert "health-test@" in html  # the worker that answered
    assert response.context["members"] == 4
    assert response.context["units"] == 5
    assert response.context["overall"] == "ok"
    assert response.context["database"]["size"] > 0
