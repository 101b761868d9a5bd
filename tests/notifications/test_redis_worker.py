"""End to end through a real Redis broker: a Celery worker started by the test delivers a meeting
invitation to the SMTP sink. CI runs Redis (.ci/run); elsewhere these tests skip with the reason,
unless CI=true, where a missing Redis is an error."""

import os
import time

import pytest
from django.utils import timezone

from members.notifications.models import Notification

from .conftest import parts, soon

REDIS_URL = os.environ.get("CHIBO_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def _redis_or_skip():
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except Exception as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"needs Redis at {REDIS_URL} ({type(exc).__name__}); CI starts one")


@pytest.fixture
def redis_worker(settings):
    """A Celery worker (solo pool, in a thread of this process) consuming from Redis."""
    _redis_or_skip()
    import redis
    from celery.contrib.testing.worker import start_worker

    from config.celery import app

    redis.Redis.from_url(REDIS_URL).flushdb()  # a database of its own: nothing left from before
    saved = app.conf.broker_url, app.conf.broker_transport_options
    app.conf.broker_url, app.conf.broker_transport_options = REDIS_URL, {}
    _forget_connections(app)  # producers must connect to Redis, not to a broker used before
    settings.CELERY_BROKER_URL = REDIS_URL
    settings.CHIBO_NOTIFICATIONS_KICK = True
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        yield app
    app.conf.broker_url, app.conf.broker_transport_options = saved
    _forget_connections(app)


def _forget_connections(app):
    app._pool = None
    app.amqp._producer_pool = None


def wait_for(condition, seconds=20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_a_worker_delivers_a_meeting_invitation_end_to_end(schedule, smtp_sink, redis_worker, cast):
    # Scheduling commits the rows and enqueues a sweep on Redis; the worker sends them.
    meeting = schedule(start=soon())
    assert wait_for(lambda: len(smtp_sink.messages) >= 2), smtp_sink.messages
    time.sleep(0.5)  # anything more would be a duplicate
    assert len(smtp_sink.to("duc@example.vn")) == 1 and len(smtp_sink.to("hang@example.vn")) == 1
    _message, found = parts(smtp_sink.to("duc@example.vn")[0])
    assert found["calendar"].events[0]["UID"] == f"meeting-{meeting.uid}@chibo"
    assert Notification.objects.filter(kind="meetings.scheduled", channel="email", state="sent").count() == 2


def test_the_sweep_sent_twice_through_the_broker_sends_once(schedule, smtp_sink, redis_worker, settings):
    from members.tasks import send_due_notifications

    settings.CHIBO_NOTIFICATIONS_KICK = False
    schedule(start=soon())
    for _ in range(3):  # beat's sweep, a kick and a redelivered message, all at once
        send_due_notifications.delay()
    assert wait_for(
        lambda: not Notification.objects.filter(channel="email", state="pending", due_at__lte=timezone.now()).exists()
    )
    time.sleep(1)
    assert len(smtp_sink.messages) == 2
    assert len({rcpt for rcpts, _ in smtp_sink.messages for rcpt in rcpts}) == 2
