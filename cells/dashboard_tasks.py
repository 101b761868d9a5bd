"""Beat tasks of the dashboards (a top layer: reads every app through cells.stats). Loaded by the
worker through settings.CELERY_IMPORTS (cells.tasks sits below the apps it would read)."""

from celery import shared_task
from django.conf import settings
from django.db.models import OuterRef, Subquery
from django.utils import timezone, translation

from cells import stats
from cells.models import PartyUnit
from cells.views_dashboard import warm_fragments
from meetings.summaries import SummaryStamp


@shared_task(ignore_result=True)
def warm_dashboards() -> None:
    """Beat's warm-up (settings.CELERY_BEAT_SCHEDULE): the members-at-risk lists, then every
    committee's default dashboard view in the site's language. The default view (this year) gets
    new keys when a month ends too: a province's first view at 10x read all its ~800 children and
    ~25,000 missed cell-months (344 ms)."""
    warm_at_risk_lists()
    warm_default_views()


def warm_default_views() -> None:
    """Every committee's default dashboard view, deepest first, in settings.LANGUAGE_CODE."""
    with translation.override(settings.LANGUAGE_CODE):
        for unit in _committees().iterator(chunk_size=500):
            warm_fragments(unit)


def _committees():
    stamps = SummaryStamp.objects.filter(unit_id=OuterRef("pk"))
    return (
        PartyUnit.objects.exclude(kind__in=[PartyUnit.Kind.CELL, PartyUnit.Kind.GROUP])
        .annotate(summary_stamp=Subquery(stamps.values("stamp")), summary_recent=Subquery(stamps.values("recent")))
        .order_by("-depth", "pk")
    )


def warm_at_risk_lists() -> None:
    """Build this year's members-at-risk lists of every committee, deepest first, into the cache
    (cells.stats.at_risk_list; settings.CELERY_BEAT_SCHEDULE). A list's key holds the number of
    months ended, so when a month ends every list is new: without this the first view of each
    list read its whole subtree (a province at 10x: ~430 ms). Deepest first, each committee's
    children are kept already when it is built; a list still kept costs one cache read."""
    today = timezone.localdate()
    for unit in _committees().iterator(chunk_size=500):
        stats.at_risk_list(unit, today.year, today)
