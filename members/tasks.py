"""Beat sweeps for notifications (settings.CELERY_BEAT_SCHEDULE). Each records a heartbeat under
its name, which /healthz and the status panel read (settings.CHIBO_SWEEPS)."""

import logging

from celery import shared_task
from django.utils import timezone

from cells.models import Heartbeat
from members.notifications import delivery
from members.notifications.registry import PLANNERS

logger = logging.getLogger(__name__)

SEND_HEARTBEAT = "notifications-send"
PLAN_HEARTBEAT = "notifications-plan"


def beat(name: str) -> None:
    Heartbeat.objects.bulk_create(
        [Heartbeat(name=name, at=timezone.now())], update_conflicts=True, unique_fields=["name"], update_fields=["at"]
    )


@shared_task(ignore_result=True)
def send_due_notifications() -> dict:
    # No autoretry here: SMTP failures are retried per row (attempts, next due time on the row), so
    # nothing depends on a message in the broker surviving.
    result = delivery.send_due()
    beat(SEND_HEARTBEAT)
    return result.__dict__


@shared_task(ignore_result=True)
def plan_notifications() -> dict:
    """Run every registered planner (time-based kinds: not scheduled by day N, discipline…)."""
    now = timezone.now()
    planned = {}
    for name, planner in PLANNERS.items():
        try:
            planned[name] = planner(now)
        except Exception:  # one broken planner must not stop the others
            logger.exception("notification planner %s failed", name)
    beat(PLAN_HEARTBEAT)
    return planned
