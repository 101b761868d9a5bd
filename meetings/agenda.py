"""The standard order of business (DOMAIN.md) and the registry through which higher apps add items.

`resolutions` registers a contributor in its AppConfig.ready() (e.g. the review of the last
resolution's tasks); `meetings` never imports it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class StandardItem:
    key: str
    title: str


REGULAR = [
    StandardItem(
        "opening", _("Opening: dues collected, attendance report, agenda adopted, minutes secretary appointed")
    ),
    StandardItem("news", _("News and directives from higher levels")),
    StandardItem("assessment", _("Assessment of last month's tasks and of the last resolution's implementation")),
    StandardItem("tasks", _("Tasks for next month")),
    StandardItem("discussion", _("Discussion")),
    StandardItem("vote", _("Conclusion and vote on the resolution")),
    StandardItem("minutes", _("Reading and adoption of the minutes; closing")),
]
THEMATIC = [
    StandardItem("opening", _("Opening: attendance report, agenda adopted, minutes secretary appointed")),
    StandardItem("presentation", _("Presentation of the topic")),
    StandardItem("discussion", _("Discussion")),
    StandardItem("conclusion", _("Conclusion (thematic resolution or conclusion)")),
    StandardItem("minutes", _("Reading and adoption of the minutes; closing")),
]
COMMITTEE = [
    StandardItem("assessment", _("Assessment of last month")),
    StandardItem("content", _("Content of the cell meeting and tasks for next month")),
    StandardItem("draft", _("Draft resolution")),
    StandardItem("minutes", _("Minutes; closing")),
]
EXTRAORDINARY = [
    StandardItem("opening", _("Opening: attendance report, agenda adopted")),
    StandardItem("content", _("Content")),
    StandardItem("vote", _("Conclusion and vote")),
    StandardItem("minutes", _("Reading and adoption of the minutes; closing")),
]

# A contributor gets the meeting and returns (after_key, StandardItem) pairs, or nothing.
Contributor = Callable[[object], list[tuple[str, StandardItem]]]
_contributors: list[Contributor] = []


def register(contributor: Contributor) -> None:
    if contributor not in _contributors:
        _contributors.append(contributor)


def standard_items(meeting) -> list[StandardItem]:
    base = {"regular": REGULAR, "thematic": THEMATIC, "committee": COMMITTEE}.get(meeting.kind, EXTRAORDINARY)
    items = list(base)
    if meeting.kind == "regular" and meeting.combined_thematic:
        at = next(i for i, item in enumerate(items) if item.key == "discussion")
        items.insert(at, StandardItem("presentation", _("Thematic session: presentation of the topic")))
    for contributor in _contributors:
        for after_key, item in contributor(meeting) or []:
            at = next((i + 1 for i, existing in enumerate(items) if existing.key == after_key), len(items))
            items.insert(at, item)
    return items


# Details a higher app shows under an agenda item on the minutes page and in the biên bản PDF (e.g.
# the last resolution's tasks and their review under "assessment"): a function
# (meeting, item, *, document, request) -> HTML string, or "" when it has nothing for that item.
ItemDetail = Callable[..., str]
_item_details: list[ItemDetail] = []


def register_item_detail(detail: ItemDetail) -> None:
    if detail not in _item_details:
        _item_details.append(detail)


def item_details(meeting, item, *, document: bool = False, request=None) -> str:
    from django.utils.safestring import mark_safe

    parts = [detail(meeting, item, document=document, request=request) for detail in _item_details]
    return mark_safe("".join(str(part) for part in parts if part))  # noqa: S308 - details render templates
