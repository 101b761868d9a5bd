from celery import shared_task
from django.utils import timezone

from cells.models import Heartbeat, PartyUnit

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


@shared_task(ignore_result=True)
def warm_at_risk_lists() -> None:
    """Build this year's members-at-risk lists of every committee, deepest first, into the cache
    (cells.stats.at_risk_list; settings.CELERY_BEAT_SCHEDULE). A list's key holds the number of
    months ended, so when a month ends every list is new: without this the first view of each
    list read its whole subtree (a province at 10x: ~430 ms). Deepest first, each committee's
    children are kept already when it is built; a list still kept costs one cache read."""
    from django.db.models import OuterRef, Subquery

    from cells import stats
    from meetings.summaries import SummaryStamp

    today = timezone.localdate()
    stamps = SummaryStamp.objects.filter(unit_id=OuterRef("pk"))
    committees = (
        PartyUnit.objects.exclude(kind__in=[PartyUnit.Kind.CELL, PartyUnit.Kind.GROUP])
        .annotate(summary_stamp=Subquery(stamps.values("stamp")), summary_recent=Subquery(stamps.values("recent")))
        .order_by("-depth", "pk")
    )
    for unit in committees.iterator(chunk_size=500):
        stats.at_risk_list(unit, today.year, today)
