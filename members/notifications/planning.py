"""Plan and cancel notification rows. Called by each app's planners inside the transaction of the
change that causes them, so a rolled-back change plans nothing."""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection, models, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone, translation

from members.models import Position, User

from .models import Notification, NotificationMessage, NotificationPreference
from .registry import get_kind

logger = logging.getLogger(__name__)

COMMITTEE_ROLES = (
    Position.Role.SECRETARY,
    Position.Role.DEPUTY_SECRETARY,
    Position.Role.STANDING_MEMBER,
    Position.Role.COMMITTEE_MEMBER,
)


def render_text(template: str, context: dict) -> tuple[str, str]:
    """Subject (one line) and text body, always in Vietnamese (messages are documents sent out)."""
    with translation.override(settings.LANGUAGE_CODE):
        subject = render_to_string(f"emails/notifications/{template}_subject.txt", context)
        body = render_to_string(f"emails/notifications/{template}.txt", context)
    return " ".join(subject.split())[:300], body.strip()


def plan(
    *,
    kind: str,
    obj: models.Model,
    recipient_ids: Iterable[int],
    occurrence: str,
    due_at: datetime.datetime,
    context: dict,
    url: str = "",
    calendar: str = "",
    channels: Iterable[str] = (Notification.Channel.INBOX, Notification.Channel.EMAIL),
) -> int:
    """One inbox row and, when the person has an address and wants it, one e-mail row per recipient.
    The text is rendered once for all of them. Rows that exist already are left as they are (the
    unique constraint), so planning again is harmless. Returns the number of rows offered."""
    spec = get_kind(kind)
    ids = sorted({pk for pk in recipient_ids if pk})
    if not ids:
        return 0
    subject, body = render_text(spec.template, {**context, "object": obj})
    content_type = ContentType.objects.get_for_model(obj)
    channels = set(channels)
    email_ids: set[int] = set()
    if Notification.Channel.EMAIL in channels:
        prefs = dict(NotificationPreference.objects.filter(user_id__in=ids, kind=kind).values_list("user_id", "email"))
        with_address = User.objects.filter(pk__in=ids, is_active=True).filter(
            ~Q(email="") | (Q(member__isnull=False) & ~Q(member__email=""))
        )
        email_ids = {pk for pk in with_address.values_list("pk", flat=True) if prefs.get(pk, spec.email_default)}
    key = {"kind": kind, "content_type": content_type, "object_id": obj.pk, "occurrence": occurrence}
    message, _created = NotificationMessage.objects.get_or_create(
        **key, defaults={"subject": subject, "body": body, "url": url, "calendar": calendar}
    )
    common = {**key, "due_at": due_at, "message": message}
    pairs = []
    for pk in ids:
        if Notification.Channel.INBOX in channels:
            pairs.append((pk, Notification.Channel.INBOX.value))
        if pk in email_ids:
            pairs.append((pk, Notification.Channel.EMAIL.value))
    if connection.vendor == "postgresql":
        _insert_postgresql(pairs, common)
    else:
        rows = [Notification(recipient_id=pk, channel=channel, **common) for pk, channel in pairs]
        Notification.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
    if due_at <= timezone.now():
        request_delivery()
    return len(pairs)


def _insert_postgresql(pairs: list[tuple[int, str]], common: dict) -> None:
    """The rows of one message in one statement that PostgreSQL expands from two arrays: Django's
    bulk_create spends ~0.2 ms of Python per row preparing values, most of planning a large cell
    (bench/reminders.py). Same conflict rule: a row that exists stays as it is."""
    if not pairs:
        return
    table = Notification._meta.db_table
    sql = f"""
        INSERT INTO {table} (uid, recipient_id, channel, kind, content_type_id, object_id, occurrence,
                             due_at, state, attempts, last_error, message_id, created_at)
        SELECT gen_random_uuid(), t.recipient, t.channel, %s, %s, %s, %s, %s, %s, 0, '', %s, now()
        FROM unnest(%s::bigint[], %s::varchar[]) AS t(recipient, channel)
        ON CONFLICT DO NOTHING
    """  # noqa: S608 - the table name comes from the model, every value is a parameter
    params = [
        common["kind"],
        common["content_type"].pk,
        common["object_id"],
        common["occurrence"],
        common["due_at"],
        Notification.State.PENDING.value,
        common["message"].pk,
        [pk for pk, _channel in pairs],
        [channel for _pk, channel in pairs],
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def cancel(*, obj: models.Model, kinds: Iterable[str] | None = None, keep_occurrence: str | None = None) -> int:
    """Cancel the object's rows still waiting (of the given kinds; except one occurrence)."""
    rows = Notification.objects.filter(
        content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk, state=Notification.State.PENDING
    )
    if kinds is not None:
        rows = rows.filter(kind__in=list(kinds))
    if keep_occurrence is not None:
        rows = rows.exclude(occurrence=keep_occurrence)
    return rows.update(state=Notification.State.CANCELLED, last_error="")


def request_delivery() -> None:
    """Ask a worker to send what is due now, once the transaction commits (the beat sweep would
    find it within a minute anyway; this only makes invitations prompt)."""
    if not getattr(settings, "CHIBO_NOTIFICATIONS_KICK", True):
        return

    def kick():
        from members.tasks import send_due_notifications

        try:
            send_due_notifications.apply_async(expires=settings.CHIBO_NOTIFICATION_SEND_INTERVAL)
        except Exception:  # the broker is down: the beat sweep sends it later, nothing is lost
            logger.warning("could not enqueue send_due_notifications", exc_info=True)

    transaction.on_commit(kick)


# --- Recipients ----------------------------------------------------------------------------------


def committee_user_ids(unit_ids: Iterable[int], day: datetime.date, roles=COMMITTEE_ROLES) -> dict[int, set[int]]:
    """unit id -> logins of the people holding a committee role on that unit on `day` (one query)."""
    result: dict[int, set[int]] = {}
    rows = (
        Position.objects.filter(Position.active_on(day), unit_id__in=list(unit_ids), role__in=list(roles))
        .values_list("unit_id", "user_id", "member__user_id")
        .order_by()
    )
    for unit_id, user_id, member_user_id in rows:
        if user_id or member_user_id:
            result.setdefault(unit_id, set()).add(user_id or member_user_id)
    return result
