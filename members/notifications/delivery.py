"""Send what is due: inbox rows are delivered by one UPDATE; e-mail rows are claimed in batches and
sent over one SMTP connection per batch.

Exactly once: a row is claimed by a conditional UPDATE (pending -> sending, with a claim token),
after `SELECT … FOR UPDATE SKIP LOCKED` on PostgreSQL, so two workers or a retried task never take
the same row; only rows carrying this worker's token are sent. A worker that dies mid-batch leaves
rows in "sending"; after the lease they go back to pending (at-least-once there, rather than lost).

Speed (STACK-NOTES.md "Email"): the message is built once per object and occurrence, as bytes;
each recipient gets a copy with its own To and Message-ID headers, sent through Django's
connection. The same bytes reach the file and memory backends used in development and tests.
"""

from __future__ import annotations

import datetime
import logging
import random
import smtplib
import socket
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives, get_connection
from django.core.mail.message import sanitize_address
from django.db import connection as db_connection
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone, translation

from .models import Notification
from .registry import KINDS
from .services import forget_unread_counts

logger = logging.getLogger(__name__)

BATCH_SIZE = 200
LEASE = datetime.timedelta(minutes=10)
PLACEHOLDER_TO = "recipient@placeholder.invalid"
PLACEHOLDER_ID = "<placeholder@chibo.invalid>"
# Errors after which the rest of the batch cannot go over this connection.
CONNECTION_ERRORS = (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, ConnectionError, socket.timeout, OSError)


class _RawMessage:
    """What Django's backends need from EmailMessage.message(): the bytes, already built."""

    def __init__(self, data: bytes):
        self.data = data

    def as_bytes(self, unixfrom=False, policy=None, linesep="\n") -> bytes:
        return self.data if linesep == "\r\n" else self.data.replace(b"\r\n", linesep.encode())

    def as_string(self, unixfrom=False, policy=None, linesep="\n") -> str:
        return self.as_bytes(linesep=linesep).decode("utf-8")

    def get_charset(self):
        return None


class PrebuiltEmail(EmailMessage):
    def __init__(self, *, raw: bytes, to: str, subject: str, body: str):
        super().__init__(subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[to])
        self.raw = raw

    def message(self):
        return _RawMessage(self.raw)


def site_url(path: str) -> str:
    if not path or path.startswith(("http://", "https://")):
        return path
    return settings.CHIBO_SITE_URL.rstrip("/") + path


def build_template(row: Notification) -> bytes:
    """The message for every recipient of this row's object and occurrence, with placeholders."""
    spec = KINDS.get(row.kind)
    link = site_url(row.url)
    with translation.override(settings.LANGUAGE_CODE):
        html = render_to_string(
            "emails/notifications/base.html", {"subject": row.subject, "body": row.body, "link": link}
        )
    text = f"{row.body}\n\n{link}" if link else row.body
    message = EmailMultiAlternatives(
        subject=row.subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[PLACEHOLDER_TO],
        headers={"Message-ID": PLACEHOLDER_ID},
    )
    message.attach_alternative(html, "text/html")
    if spec and spec.attachments:
        for attachment in spec.attachments(row):
            if attachment.mimetype.startswith("text/calendar"):
                message.attach(_calendar_part(attachment))
            else:
                message.attach(attachment.filename, attachment.content, attachment.mimetype)
    return message.message().as_bytes(linesep="\r\n")


def _calendar_part(attachment):
    from email.mime.text import MIMEText

    # text/calendar with its METHOD parameter: mail clients then offer to add, update or remove it.
    part = MIMEText(attachment.content.decode("utf-8"), "calendar", "utf-8")
    method = attachment.mimetype.partition("method=")[2]
    if method:
        part.set_param("method", method)
    part.add_header("Content-Disposition", "attachment", filename=attachment.filename)
    return part


def personalise(template: bytes, *, to: str, message_id: str) -> bytes:
    return template.replace(f"To: {PLACEHOLDER_TO}\r\n".encode(), f"To: {to}\r\n".encode(), 1).replace(
        PLACEHOLDER_ID.encode(), message_id.encode(), 1
    )


def address_of(row: Notification) -> str:
    user = row.recipient
    member = getattr(user, "member", None)
    return user.email or (member.email if member else "")


def _plain_address(address: str) -> str:
    # Plain ASCII addresses (nearly all) need no parsing; anything else goes through Django's.
    if address.isascii() and not any(c in address for c in '\r\n<>,;" '):
        return address
    return sanitize_address(address, "utf-8")


def _sender(connection):
    """send(raw, to, row) over the open connection. With Django's SMTP backend the bytes go
    straight to its smtplib connection: no per-message address parsing and locking, about three
    times faster (bench/reminders.py). Other backends (files in development, memory in tests)
    get a PrebuiltEmail through send_messages."""
    from django.core.mail.backends.smtp import EmailBackend as SMTPBackend

    if isinstance(connection, SMTPBackend) and connection.connection is not None:
        smtp, sender = connection.connection, sanitize_address(settings.DEFAULT_FROM_EMAIL, "utf-8")

        def send(raw: bytes, to: str, row: Notification) -> None:
            smtp.sendmail(sender, [to], raw)

        return send

    def send(raw: bytes, to: str, row: Notification) -> None:
        connection.send_messages([PrebuiltEmail(raw=raw, to=to, subject=row.subject, body=row.body)])

    return send


def backoff(attempts: int) -> datetime.timedelta:
    # 1, 2, 4, 8… minutes, capped at 6 hours, with jitter so that retries do not arrive together.
    base = min(settings.CHIBO_NOTIFICATION_RETRY_BASE * 2 ** max(attempts - 1, 0), 6 * 3600)
    return datetime.timedelta(seconds=base * random.uniform(1.0, 1.25))


# --- The sweep ---------------------------------------------------------------------------------


@dataclass
class SweepResult:
    inbox: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    cancelled: int = 0
    released: int = 0

    def add(self, other: SweepResult) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


def deliver_inbox(now: datetime.datetime) -> int:
    delivered = Notification.objects.filter(
        channel=Notification.Channel.INBOX, state=Notification.State.PENDING, due_at__lte=now
    ).update(state=Notification.State.SENT, sent_at=now)
    if delivered:
        forget_unread_counts()  # the badges of everyone who received one
    return delivered


def release_expired_claims(now: datetime.datetime) -> int:
    return Notification.objects.filter(state=Notification.State.SENDING, claimed_at__lt=now - LEASE).update(
        state=Notification.State.PENDING, claim=None
    )


# What sending reads of a claimed row and its recipient (not their whole records).
SEND_FIELDS = (
    *("uid", "kind", "content_type_id", "object_id", "occurrence", "attempts", "claim", "state"),
    *("recipient__email", "recipient__member__email", "message"),
)


def claim(now: datetime.datetime, batch_size: int = BATCH_SIZE) -> tuple[uuid.UUID, list[Notification]]:
    token = uuid.uuid4()
    with transaction.atomic():
        due = Notification.objects.filter(
            state=Notification.State.PENDING, channel=Notification.Channel.EMAIL, due_at__lte=now
        ).order_by("due_at", "pk")
        if db_connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        ids = list(due.values_list("pk", flat=True)[:batch_size])
        if not ids:
            return token, []
        # Conditional: a row another worker took in the meantime is no longer pending.
        Notification.objects.filter(pk__in=ids, state=Notification.State.PENDING).update(
            state=Notification.State.SENDING, claim=token, claimed_at=now, attempts=F("attempts") + 1
        )
    rows = (
        Notification.objects.filter(claim=token, state=Notification.State.SENDING)
        .select_related("recipient", "recipient__member", "message")
        .only(*SEND_FIELDS)
    )
    return token, list(rows.order_by("message_id", "pk"))


def _retry_or_fail(row: Notification, token: uuid.UUID, error: BaseException | str, now) -> str:
    if isinstance(error, smtplib.SMTPResponseException):
        reply = error.smtp_error.decode("utf-8", "replace") if isinstance(error.smtp_error, bytes) else error.smtp_error
        text = f"{type(error).__name__}: {error.smtp_code} {reply}"
    else:
        text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    rows = Notification.objects.filter(pk=row.pk, claim=token, state=Notification.State.SENDING)
    if row.attempts >= settings.CHIBO_NOTIFICATION_MAX_ATTEMPTS:
        rows.update(state=Notification.State.FAILED, last_error=text[:2000], claim=None)
        logger.error("notification %s failed after %s attempts: %s", row.pk, row.attempts, text)
        return "failed"
    rows.update(
        state=Notification.State.PENDING, last_error=text[:2000], claim=None, due_at=now + backoff(row.attempts)
    )
    return "retried"


def send_batch(token: uuid.UUID, rows: list[Notification], now: datetime.datetime) -> SweepResult:
    result = SweepResult()
    sent_ids: list[int] = []
    templates: dict[int, bytes] = {}
    connection = get_connection()
    try:
        connection.open()
    except Exception as exc:  # the server refuses or is down: every row waits for a retry
        for row in rows:
            outcome = _retry_or_fail(row, token, exc, now)
            setattr(result, outcome, getattr(result, outcome) + 1)
        return result
    send = _sender(connection)
    try:
        for index, row in enumerate(rows):
            address = address_of(row)
            if not address:
                Notification.objects.filter(pk=row.pk, claim=token).update(
                    state=Notification.State.CANCELLED, last_error="no e-mail address", claim=None
                )
                result.cancelled += 1
                continue
            key = row.message_id
            if key not in templates:
                templates[key] = build_template(row)
            to = _plain_address(address)
            raw = personalise(templates[key], to=to, message_id=f"<{row.uid}@chibo>")
            try:
                send(raw, to, row)
            except CONNECTION_ERRORS as exc:
                # The connection is gone: this row and the rest of the batch wait for a retry.
                for rest in rows[index:]:
                    outcome = _retry_or_fail(rest, token, exc, now)
                    setattr(result, outcome, getattr(result, outcome) + 1)
                break
            except (smtplib.SMTPException, ValueError) as exc:
                outcome = _retry_or_fail(row, token, exc, now)
                setattr(result, outcome, getattr(result, outcome) + 1)
            else:
                sent_ids.append(row.pk)
    finally:
        try:
            connection.close()
        except Exception:  # closing a broken connection must not lose the record of what was sent
            logger.warning("closing the mail connection failed", exc_info=True)
        if sent_ids:
            Notification.objects.filter(pk__in=sent_ids, claim=token).update(
                state=Notification.State.SENT, sent_at=timezone.now(), last_error="", claim=None
            )
    result.sent += len(sent_ids)
    return result


def send_due(*, now: datetime.datetime | None = None, batch_size: int = BATCH_SIZE, max_batches: int | None = None):
    """Deliver everything due, batch after batch, until nothing is left (or max_batches)."""
    now = now or timezone.now()
    total = SweepResult(inbox=deliver_inbox(now), released=release_expired_claims(now))
    batches = 0
    while max_batches is None or batches < max_batches:
        token, rows = claim(now, batch_size)
        if not rows:
            break
        total.add(send_batch(token, rows, now))
        batches += 1
    return total
