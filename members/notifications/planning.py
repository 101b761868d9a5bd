"""Plan and cancel notification rows. Called by each app's planners inside the transaction of the
change that causes them, so a rolled-back change plans nothing."""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection, models, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone, translation

from members.models import Member, Position, User

from .models import Notification, NotificationMessage, NotificationPreference
from .registry import get_kind
from .services import TURNED_OFF

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


NO_ADDRESS = "no login and no e-mail address"


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
    member_ids: Iterable[int] = (),
) -> int:
    """Rows for one message, its text rendered once for all recipients:

    - each login (recipient_ids): an inbox row, and an e-mail row when the login or its member has
      an address and the person has not turned the kind off;
    - each member without a login (member_ids): an e-mail row to the member record's address. A
      member with neither login nor address gets that row as failed, with the reason, so the
      administrator sees who was not reached instead of the message silently going nowhere; a
      member who turned the kind off (the link in an e-mail) gets it as cancelled, with the reason.

    Rows that exist already are left as they are (the unique constraints), so planning again is
    harmless. Returns the number of rows offered (PostgreSQL: inserted)."""
    spec = get_kind(kind)
    ids = sorted({pk for pk in recipient_ids if pk})
    member_ids = sorted({pk for pk in member_ids if pk})
    if not ids and not member_ids:
        return 0
    subject, body = render_text(spec.template, {**context, "object": obj})
    content_type = ContentType.objects.get_for_model(obj)
    channels = set(channels)
    key = {"kind": kind, "content_type": content_type, "object_id": obj.pk, "occurrence": occurrence}
    text = {"subject": subject, "body": body, "url": url, "calendar": calendar}
    if connection.vendor == "postgresql":
        planned = _plan_postgresql(spec, key, text, due_at, ids, member_ids, channels)
    else:
        planned = _plan_orm(spec, key, text, due_at, ids, member_ids, channels)
    if due_at <= timezone.now():
        request_delivery()
    return planned


def _plan_orm(spec, key, text, due_at, ids, member_ids, channels) -> int:
    inbox, email = Notification.Channel.INBOX in channels, Notification.Channel.EMAIL in channels
    email_ids: set[int] = set()
    if email:
        prefs = dict(
            NotificationPreference.objects.filter(user_id__in=ids, kind=spec.key).values_list("user_id", "email")
        )
        with_address = User.objects.filter(pk__in=ids, is_active=True).filter(
            ~Q(email="") | (Q(member__isnull=False) & ~Q(member__email=""))
        )
        email_ids = {pk for pk in with_address.values_list("pk", flat=True) if prefs.get(pk, spec.email_default)}
    message, _created = NotificationMessage.objects.get_or_create(**key, defaults=text)
    common = {**key, "due_at": due_at, "message": message}
    rows = []
    for pk in ids:
        if inbox:
            rows.append(Notification(recipient_id=pk, channel=Notification.Channel.INBOX, **common))
        if pk in email_ids:
            rows.append(Notification(recipient_id=pk, channel=Notification.Channel.EMAIL, **common))
    if email and member_ids:
        member_prefs = dict(
            NotificationPreference.objects.filter(member_id__in=member_ids, kind=spec.key).values_list(
                "member_id", "email"
            )
        )
        for pk, address in Member.objects.filter(pk__in=member_ids).values_list("pk", "email"):
            wanted = member_prefs.get(pk, spec.email_default)
            if not wanted and pk not in member_prefs:
                continue  # the kind is off by default: no row
            if not wanted:  # turned off through the link in an earlier e-mail: recorded, not sent
                state, reason = Notification.State.CANCELLED, TURNED_OFF
            elif address:
                state, reason = Notification.State.PENDING, ""
            else:
                state, reason = Notification.State.FAILED, NO_ADDRESS
            rows.append(
                Notification(member_id=pk, channel=Notification.Channel.EMAIL, state=state, last_error=reason, **common)
            )
    Notification.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
    return len(rows)


def _plan_postgresql(spec, key, text, due_at, ids, member_ids, channels) -> int:
    """The same rows in one statement: the shared message (inserted, or the one planned before),
    then every row, PostgreSQL choosing e-mail recipients by address and preference. Django's
    bulk_create spent ~0.2 ms of Python per row and the ORM path takes six round trips; planning a
    cell's reminders is then one round trip (bench/reminders.py)."""
    names = {
        "message": NotificationMessage._meta.db_table,
        "notification": Notification._meta.db_table,
        "user": User._meta.db_table,
        "member": Member._meta.db_table,
        "preference": NotificationPreference._meta.db_table,
    }
    sql = """
        WITH new_message AS (
            INSERT INTO {message} (kind, content_type_id, object_id, occurrence, subject, body, url, calendar,
                                   created_at)
            VALUES (%(kind)s, %(ct)s, %(obj)s, %(occurrence)s, %(subject)s, %(body)s, %(url)s, %(calendar)s, now())
            ON CONFLICT DO NOTHING
            RETURNING id
        ), message AS (
            SELECT id FROM new_message
            UNION ALL
            SELECT id FROM {message}
            WHERE kind = %(kind)s AND content_type_id = %(ct)s AND object_id = %(obj)s AND occurrence = %(occurrence)s
            LIMIT 1
        ), wanted (recipient_id, member_id, channel, state, last_error) AS (
            SELECT u, NULL::bigint, 'inbox', 'pending', '' FROM unnest(%(users)s::bigint[]) AS u WHERE %(inbox)s
            UNION ALL
            SELECT u.id, NULL, 'email', 'pending', ''
            FROM {user} u
            LEFT JOIN {member} m ON m.user_id = u.id
            LEFT JOIN {preference} p ON p.user_id = u.id AND p.kind = %(kind)s
            WHERE %(email)s AND u.id = ANY(%(users)s::bigint[]) AND u.is_active
              AND (u.email <> '' OR coalesce(m.email, '') <> '') AND coalesce(p.email, %(email_default)s)
            UNION ALL
            SELECT NULL, m.id, 'email',
                   CASE WHEN NOT coalesce(mp.email, true) THEN 'cancelled'
                        WHEN m.email <> '' THEN 'pending' ELSE 'failed' END,
                   CASE WHEN NOT coalesce(mp.email, true) THEN %(turned_off)s
                        WHEN m.email <> '' THEN '' ELSE %(no_address)s END
            FROM {member} m
            LEFT JOIN {preference} mp ON mp.member_id = m.id AND mp.kind = %(kind)s
            WHERE %(email)s AND m.id = ANY(%(members)s::bigint[]) AND (mp.email IS NOT NULL OR %(email_default)s)
        )
        INSERT INTO {notification} (uid, recipient_id, member_id, channel, kind, content_type_id, object_id,
                                    occurrence, due_at, state, attempts, last_error, message_id, created_at)
        SELECT gen_random_uuid(), w.recipient_id, w.member_id, w.channel, %(kind)s, %(ct)s, %(obj)s,
               %(occurrence)s, %(due_at)s, w.state, 0, w.last_error, (SELECT id FROM message), now()
        FROM wanted w
        ON CONFLICT DO NOTHING
    """.format(**names)  # noqa: S608 - table names come from the models, every value is a parameter
    params = {
        **text,
        "kind": key["kind"],
        "ct": key["content_type"].pk,
        "obj": key["object_id"],
        "occurrence": key["occurrence"],
        "due_at": due_at,
        "users": ids,
        "members": member_ids,
        "inbox": Notification.Channel.INBOX in channels,
        "email": Notification.Channel.EMAIL in channels,
        "email_default": spec.email_default,
        "no_address": NO_ADDRESS,
        "turned_off": TURNED_OFF,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


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


def replan(
    *,
    kind: str,
    obj: models.Model,
    recipient_ids: Iterable[int],
    occurrence: str,
    due_at: datetime.datetime,
    member_ids: Iterable[int] = (),
    **text,
) -> int:
    """Make the object's rows of one kind match this plan, when what they depend on changed (a
    deadline moved, a task reassigned, a member commented): rows still waiting for another
    occurrence or for people no longer concerned are cancelled; rows of this occurrence cancelled
    by an earlier replan come back (a withdrawn comment, an assignee put back), due at the new time;
    the rest is planned. Rows cancelled for another reason (e-mail turned off) stay cancelled."""
    users, members = {pk for pk in recipient_ids if pk}, {pk for pk in member_ids if pk}
    rows = Notification.objects.filter(content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk, kind=kind)
    concerned = Q(occurrence=occurrence) & (Q(recipient_id__in=users) | Q(member_id__in=members))
    rows.filter(state=Notification.State.PENDING).exclude(concerned).update(
        state=Notification.State.CANCELLED, last_error=""
    )
    rows.filter(concerned, state__in=[Notification.State.PENDING, Notification.State.CANCELLED], last_error="").update(
        state=Notification.State.PENDING, due_at=due_at
    )
    return plan(
        kind=kind, obj=obj, recipient_ids=users, member_ids=members, occurrence=occurrence, due_at=due_at, **text
    )


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


@dataclass
class Recipients:
    """Logins (inbox and e-mail) and members without a login (e-mail to the member record)."""

    users: set[int] = field(default_factory=set)
    members: set[int] = field(default_factory=set)

    def __or__(self, other: Recipients) -> Recipients:
        return Recipients(self.users | other.users, self.members | other.members)

    def as_plan(self) -> dict:
        return {"recipient_ids": self.users, "member_ids": self.members}


NOBODY = Recipients(frozenset(), frozenset())


def committee_recipients(unit_ids: Iterable[int], day: datetime.date, roles=COMMITTEE_ROLES) -> dict[int, Recipients]:
    """unit id -> the people holding a committee role on that unit on `day` (one query): their
    logins, or the member record of a member in the role who has no login."""
    result: dict[int, Recipients] = {}
    rows = (
        Position.objects.filter(Position.active_on(day), unit_id__in=list(unit_ids), role__in=list(roles))
        .values_list("unit_id", "user_id", "member__user_id", "member_id")
        .order_by()
    )
    for unit_id, user_id, member_user_id, member_id in rows:
        found = result.setdefault(unit_id, Recipients())
        if user_id or member_user_id:
            found.users.add(user_id or member_user_id)
        elif member_id:
            found.members.add(member_id)
    return result
