from celery import shared_task
from django.utils import timezone

from cells.models import Heartbeat

BEAT_HEARTBEAT = "beat"


@shared_task(ignore_result=True)
def beat_heartbeat() -> None:
    """Record that beat sent this task and a worker ran it (settings.CELERY_BEAT_SCHEDULE).

    A fresh row therefore proves both processes alive; config/health.py reads its age.
    """
    # One upsert statement: a retry, a second worker or two beats racing leave one row, the latest time.
    Heartbeat.objects.bulk_create(
        [Heartbeat(name=BEAT_HEARTBEAT, at=timezone.now())],
        update_conflicts=True,
        unique_fields=["name"],
        update_fields=["at"],
    )
