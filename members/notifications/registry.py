"""Each app registers its notification kinds and periodic planners in its AppConfig.ready()
(STYLE.md: a lower app defines the registry, higher apps fill it in)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mimetype: str


@dataclass(frozen=True)
class NotificationKind:
    key: str  # "meetings.reminder"
    label: str  # lazy text, shown on the preferences page and in the admin
    # Templates emails/notifications/<template>_subject.txt and <template>.txt render subject and
    # text once per object and occurrence; the HTML wraps that text (emails/notifications/base.html).
    template: str
    # Tree settings that give this kind its lead times (shown to administrators; defaults in cells).
    lead_settings: tuple[str, ...] = ()
    # attachments(row) -> [Attachment]; called once per object and occurrence when sent. The row is
    # a delivery.Claimed (kind, object_id, calendar, subject…), not a model instance.
    attachments: Callable | None = None
    email_default: bool = True
    # Who receives it, for the preferences page: "members" or "committee".
    audience: str = "members"
    extra: dict = field(default_factory=dict)


KINDS: dict[str, NotificationKind] = {}
# name -> planner(now) that plans rows for time-based conditions; run by members.tasks.plan_notifications.
PLANNERS: dict[str, Callable] = {}


def register_kind(kind: NotificationKind) -> NotificationKind:
    KINDS[kind.key] = kind
    return kind


def register_planner(name: str, planner: Callable) -> None:
    PLANNERS[name] = planner


def get_kind(key: str) -> NotificationKind:
    try:
        return KINDS[key]
    except KeyError:
        raise LookupError(f"notification kind {key!r} is not registered") from None


def kind_label(key: str) -> str:
    kind = KINDS.get(key)
    return str(kind.label) if kind else key
