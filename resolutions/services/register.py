"""The resolution register (sổ nghị quyết, DOMAIN.md "Documents"): a unit's issued resolutions and
conclusions per term in number order, with the vote, the tasks and their state.

Reads only. The page, the PDF book and the spreadsheet take their rows from `register_rows`, whose
query count does not grow with the number of resolutions or tasks: the rows (with unit, term and
meeting joined), then the tasks, their assignees and the latest reviews, each in one prefetch.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cells.models import PartyUnit, Term
from cells.text import fold

from ..models import Resolution, Task, TaskReview

# Filters on a resolution's standing and its tasks' progress.
STATUSES = [
    ("in_force", _("In force")),
    ("replaced", _("Replaced")),
    ("open_tasks", _("Tasks still open")),
    ("overdue", _("Tasks overdue")),
    ("completed", _("All tasks done")),
]


@dataclass
class Filters:
    year: int | None = None
    term: Term | None = None
    status: str = ""
    q: str = ""
    terms: list[Term] = field(default_factory=list)
    years: list[int] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return bool(self.year or self.term or self.status or self.q)

    def query_string(self) -> str:
        from urllib.parse import urlencode

        params = {
            "year": self.year or "",
            "term": self.term.pk if self.term else "",
            "status": self.status,
            "q": self.q,
        }
        return urlencode({k: v for k, v in params.items() if v})


def parse_filters(unit: PartyUnit, params) -> Filters:
    """Filters from the query string; unknown values are ignored rather than refused."""
    terms = list(Term.objects.filter(unit=unit).order_by("-start"))
    years = sorted({d.year for d in Resolution.objects.filter(unit=unit).dates("issued_on", "year")}, reverse=True)
    filters = Filters(terms=terms, years=years)
    year = params.get("year", "")
    if year.isdigit() and 1930 <= int(year) <= 2200:
        filters.year = int(year)
    term = params.get("term", "")
    filters.term = next((t for t in terms if str(t.pk) == term), None)
    if params.get("status", "") in dict(STATUSES):
        filters.status = params["status"]
    filters.q = " ".join(params.get("q", "").split())[:100]
    return filters


def _open_tasks(day: datetime.date) -> Exists:
    return Exists(Task.objects.filter(resolution=OuterRef("pk")).exclude(status=Task.Status.DONE))


def register_rows(unit: PartyUnit, filters: Filters | None = None, day: datetime.date | None = None):
    """The unit's register in book order: term by start, then kind (NQ before KL), then number."""
    filters = filters or Filters()
    day = day or timezone.localdate()
    rows = Resolution.objects.filter(unit=unit)
    if filters.year:
        rows = rows.filter(issued_on__year=filters.year)
    if filters.term:
        rows = rows.filter(term=filters.term)
    if filters.q:
        words = fold(filters.q).split()
        for word in words:
            rows = rows.filter(Q(search_text__contains=word) | Q(number_label__icontains=word))
    replaced = Exists(Resolution.objects.filter(amends=OuterRef("pk"), supersedes=True))
    any_task = Exists(Task.objects.filter(resolution=OuterRef("pk")))
    if filters.status == "in_force":
        rows = rows.exclude(replaced)
    elif filters.status == "replaced":
        rows = rows.filter(replaced)
    elif filters.status == "open_tasks":
        rows = rows.filter(_open_tasks(day))
    elif filters.status == "overdue":
        rows = rows.filter(
            Exists(Task.objects.filter(resolution=OuterRef("pk"), due_on__lt=day).exclude(status=Task.Status.DONE))
        )
    elif filters.status == "completed":
        rows = rows.filter(any_task).exclude(_open_tasks(day))
    reviews = TaskReview.objects.select_related("meeting").order_by("task_id", "-meeting__scheduled_start")
    tasks = Task.objects.order_by("order", "due_on", "pk").prefetch_related(
        "assignees", Prefetch("reviews", queryset=reviews)
    )
    return (
        rows.select_related("unit", "term", "meeting", "amends")
        .annotate(is_replaced=replaced)
        .prefetch_related(Prefetch("tasks", queryset=tasks))
        .order_by("term__start", "kind", "number")
    )


def decorate(resolutions, day: datetime.date | None = None) -> list[Resolution]:
    """Per-row counts of the prefetched tasks (no query)."""
    day = day or timezone.localdate()
    rows = list(resolutions)
    for resolution in rows:
        tasks = list(resolution.tasks.all())
        for task in tasks:
            task.overdue = task.is_overdue_on(day)
            reviews = list(task.reviews.all())
            task.last_review = reviews[0] if reviews else None
        resolution.task_rows = tasks
        resolution.tasks_done = sum(1 for t in tasks if t.status == Task.Status.DONE)
        resolution.tasks_overdue = sum(1 for t in tasks if t.overdue)
    return rows


def register_units(scope: QuerySet[PartyUnit]) -> QuerySet[PartyUnit]:
    """Units in scope that keep a register (cells and grassroots committees), in tree order."""
    return scope.filter(kind__in=(PartyUnit.Kind.CELL, PartyUnit.Kind.GRASSROOTS_COMMITTEE)).order_by("path")


def assignee_names(task: Task, committee: str | None = None) -> str:
    names = [m.full_name for m in task.assignees.all()]
    if task.assigned_to_committee:
        names.insert(0, committee or str(_("The committee")))
    return ", ".join(names)
