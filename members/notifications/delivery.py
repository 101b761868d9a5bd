"""Send what is due: inbox rows are delivered by one UPDATE; e-mail rows are claimed in batches and
sent over one SMTP connection per batch.

Exactly once: a row is claimed by a conditional UPDATE (pending -> sending, with a claim token),
on PostgreSQL one `UPDATE … FROM (SELECT … FOR UPDATE SKIP LOCKED) RETURNING` statement, so two
workers or a retried task never take the same row; only rows carrying this worker's token are sent,
and a batch's sent rows are marked in one UPDATE. A worker that dies mid-batch leaves rows in
"sending"; after the lease they go back to pending (at-least-once there, rather than lost).

Speed (STACK-NOTES.md "Email"; bench/reminders.py): the message is built once per object and
occurrence per sweep, as bytes; each recipient gets a copy with its own To and Message-ID headers,
written straight to smtplib's socket, MAIL/RCPT/DATA pipelined when the server offers it. The same
bytes reach the file and memory backends used in development and tests.
"""

from __future__ import annotations

import datetime
import logging
import random
import re
import smtplib
import socket
import uuid
from dataclasses import dataclass
from email.utils import parseaddr

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives, get_connection
from django.core.mail.message import sanitize_address
from django.db import connection as db_connection
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext

from members.models import Member, User

from .models import Notification, NotificationMessage
from .registry import KINDS
from .services import forget_unread_counts
from .unsubscribe import TOKEN_PLACEHOLDER, make_token, one_click_url, page_url

logger = logging.getLogger(__name__)

BATCH_SIZE = 200
LEASE = datetime.timedelta(minutes=10)
PLACEHOLDER_TO = "recipient@placeholder.invalid"
PLACEHOLDER_ID = "<placeholder@chibo.invalid>"
# Errors after which the rest of the batch cannot go over this connection. smtplib's SMTPException
# is itself an OSError: a refusal of one message (SMTPRecipientsRefused, SMTPDataError) is this
# row's alone and is told apart first (_connection_lost).
CONNECTION_ERRORS = (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, ConnectionError, socket.timeout, OSError)


def _connection_lost(error: BaseException) -> bool:
    if isinstance(error, (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError)):
        return True
    return not isinstance(error, smtplib.SMTPException) and isinstance(error, CONNECTION_ERRORS)


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


def build_template(row: Claimed, token: str = TOKEN_PLACEHOLDER) -> bytes:
    """The message for every recipient of this row's object and occurrence, with placeholders
    (the recipient's address, Message-ID and unsubscribe token)."""
    spec = KINDS.get(row.kind)
    # A member without a login could not open the page: no link, and no word of settings or inbox,
    # but a link to stop this kind of e-mail (a login has its settings page for that).
    link = site_url(row.url) if row.has_login else ""
    unsubscribe = "" if row.has_login else site_url(page_url(token))
    with translation.override(settings.LANGUAGE_CODE):
        html = render_to_string(
            "emails/notifications/base.html",
            {
                "subject": row.subject,
                "body": row.body,
                "link": link,
                "has_login": row.has_login,
                "unsubscribe": unsubscribe,
            },
        )
        text = f"{row.body}\n\n{link}" if link else row.body
        if unsubscribe:
            text += "\n\n-- \n" + gettext("To stop receiving this kind of e-mail: %(url)s") % {"url": unsubscribe}
    message = EmailMultiAlternatives(
        subject=row.subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[PLACEHOLDER_TO],
        headers={
            "Message-ID": PLACEHOLDER_ID,
            # RFC 8058 one-click: the mail provider POSTs "List-Unsubscribe=One-Click" to the URL.
            "List-Unsubscribe": f"<{site_url(one_click_url(token))}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    message.attach_alternative(html, "text/html")
    if spec and spec.attachments:
        for attachment in spec.attachments(row):
            if attachment.mimetype.startswith("text/calendar"):
                message.attach(_calendar_part(attachment))
            else:
                message.attach(attachment.filename, attachment.content, attachment.mimetype)
    # The generator folds the long header onto a second line ("List-Unsubscribe: \r\n <https…>");
    # legal, but parsers then read a leading space. One line is well under the 998-octet limit.
    return UNSUBSCRIBE_FOLDED.sub(b"List-Unsubscribe: <", message.message().as_bytes(linesep="\r\n"), count=1)


UNSUBSCRIBE_FOLDED = re.compile(rb"^List-Unsubscribe:[ \t]*\r\n[ \t]+<", re.MULTILINE)


def _calendar_part(attachment):
    from email.mime.text import MIMEText

    # text/calendar with its METHOD parameter: mail clients then offer to add, update or remove it.
    part = MIMEText(attachment.content.decode("utf-8"), "calendar", "utf-8")
    method = attachment.mimetype.partition("method=")[2]
    if method:
        part.set_param("method", method)
    part.add_header("Content-Disposition", "attachment", filename=attachment.filename)
    return part


def personalise(template: bytes, *, to: str, message_id: str, token: str) -> bytes:
    return (
        template.replace(f"To: {PLACEHOLDER_TO}\r\n".encode(), f"To: {to}\r\n".encode(), 1)
        .replace(PLACEHOLDER_ID.encode(), message_id.encode(), 1)
        .replace(TOKEN_PLACEHOLDER.encode(), token.encode())
    )


def unsubscribe_token(row: Claimed) -> str:
    """Keyed on the member record (a login's choice is then stored on the login), or on a login
    that has no member record."""
    return make_token(kind=row.kind, address=row.address, member_uid=row.member_uid, user_id=row.recipient_id)


def placeholders_intact(template: bytes, has_login: bool) -> bool:
    """The token placeholder can be swapped in the bytes: it sits in the List-Unsubscribe header, and
    for a member without a login in the text and HTML footers. A body with a line over 998 octets
    is quoted-printable encoded, which may split the placeholder and limits lines to 76 characters;
    such a message is then built for each recipient (build_template with the token)."""
    if has_login:
        return template.count(TOKEN_PLACEHOLDER.encode()) == 1
    return template.count(TOKEN_PLACEHOLDER.encode()) == 3 and b"quoted-printable" not in template


def _plain_address(address: str) -> str:
    # Plain ASCII addresses (nearly all) need no parsing; anything else goes through Django's.
    if address.isascii() and not any(c in address for c in '\r\n<>,;" '):
        return address
    return sanitize_address(address, "utf-8")


def _smtp_reply_error(code: int, reply: bytes, default: type[smtplib.SMTPException], *args):
    if code == 421:  # the server is closing the connection: the rest of the batch waits
        return smtplib.SMTPServerDisconnected(f"{code} {reply.decode('utf-8', 'replace')}")
    return default(code, reply, *args)


def _pipelined(smtp: smtplib.SMTP, sender: str, to: str, data: bytes) -> None:
    """MAIL, RCPT and DATA in one write, then the message (RFC 2920 PIPELINING, which Postfix and
    Exim offer): two round trips a message instead of four. `data` is dot-stuffed and ends with
    CRLF.CRLF. A refusal raises what smtplib.sendmail would, after RSET."""
    smtp.send(f"MAIL FROM:<{sender}>\r\nRCPT TO:<{to}>\r\nDATA\r\n".encode())
    mail, rcpt, start = smtp.getreply(), smtp.getreply(), smtp.getreply()
    if start[0] == 354 and mail[0] == 250 and rcpt[0] in (250, 251):
        smtp.send(data)
        code, reply = smtp.getreply()
        if code == 250:
            return
        error = _smtp_reply_error(code, reply, smtplib.SMTPDataError)
    else:
        if start[0] == 354:  # a server that took DATA after refusing the envelope: end it empty
            smtp.send(b".\r\n")
            smtp.getreply()
        if mail[0] != 250:
            error = _smtp_reply_error(*mail, smtplib.SMTPSenderRefused, sender)
        elif rcpt[0] not in (250, 251):
            error = (
                _smtp_reply_error(*rcpt, smtplib.SMTPDataError)
                if rcpt[0] == 421
                else smtplib.SMTPRecipientsRefused({to: rcpt})
            )
        else:
            error = _smtp_reply_error(*start, smtplib.SMTPDataError)
    if isinstance(error, smtplib.SMTPServerDisconnected):
        smtp.close()
    else:
        smtp.rset()
    raise error


def _sender(connection):
    """send(template, to, row) over the open connection. With Django's SMTP backend the bytes go
    straight to its smtplib connection (no per-message address parsing and locking), pipelined
    when the server offers it; the template is dot-stuffed once (the personal headers never start
    with a dot). Other backends (files in development, memory in tests) get a PrebuiltEmail."""
    from django.core.mail.backends.smtp import EmailBackend as SMTPBackend

    if isinstance(connection, SMTPBackend) and connection.connection is not None:
        smtp, sender = connection.connection, sanitize_address(settings.DEFAULT_FROM_EMAIL, "utf-8")
        smtp.ehlo_or_helo_if_needed()
        envelope_sender = parseaddr(sender)[1]  # "Chi bộ <no-reply@…>" -> the address alone
        if smtp.has_extn("pipelining") and envelope_sender.isascii():
            # id -> (template, stuffed): holding the template keeps its id from being reused.
            stuffed: dict[int, tuple[bytes, bytes]] = {}

            def send(template: bytes, to: str, row: Claimed) -> None:
                entry = stuffed.get(id(template))
                if entry is None or entry[0] is not template:
                    entry = stuffed[id(template)] = (template, _stuff(template))
                data = personalise(entry[1], to=to, message_id=f"<{row.uid}@chibo>", token=unsubscribe_token(row))
                _pipelined(smtp, envelope_sender, to, data)

            return send

        def send(template: bytes, to: str, row: Claimed) -> None:
            data = personalise(template, to=to, message_id=f"<{row.uid}@chibo>", token=unsubscribe_token(row))
            smtp.sendmail(sender, [to], data)

        return send

    def send(template: bytes, to: str, row: Claimed) -> None:
        raw = personalise(template, to=to, message_id=f"<{row.uid}@chibo>", token=unsubscribe_token(row))
        connection.send_messages([PrebuiltEmail(raw=raw, to=to, subject=row.subject, body=row.body)])

    return send


def _stuff(template: bytes) -> bytes:
    data = smtplib._quote_periods(template)  # what smtplib.SMTP.data() does to every message
    return data + (b"" if data.endswith(b"\r\n") else b"\r\n") + b".\r\n"


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


@dataclass
class Claimed:
    """What sending needs of a claimed e-mail row: no model instances (building 100,000 of them with
    their recipients was a third of a sweep's CPU in bench/reminders.py)."""

    pk: int
    uid: uuid.UUID
    kind: str
    object_id: int
    attempts: int
    message_id: int
    address: str
    has_login: bool = True
    recipient_id: int | None = None
    # The member record the unsubscribe token names: the member without a login, or the login's.
    member_uid: uuid.UUID | None = None
    message: NotificationMessage | None = None

    subject = property(lambda self: self.message.subject)
    body = property(lambda self: self.message.body)
    url = property(lambda self: self.message.url)
    calendar = property(lambda self: self.message.calendar)


def claim(now: datetime.datetime, batch_size: int = BATCH_SIZE) -> tuple[uuid.UUID, list[Claimed]]:
    """Take up to batch_size due e-mail rows for this worker (pending -> sending, with a token)."""
    token = uuid.uuid4()
    if db_connection.vendor == "postgresql":
        rows = _claim_postgresql(token, now, batch_size)
    else:
        rows = _claim_orm(token, now, batch_size)
    messages = NotificationMessage.objects.in_bulk({row.message_id for row in rows})
    for row in rows:
        row.message = messages[row.message_id]
    return token, sorted(rows, key=lambda row: (row.message_id, row.pk))


def _claim_postgresql(token: uuid.UUID, now: datetime.datetime, batch_size: int) -> list[Claimed]:
    """One statement: lock due rows no other worker holds (SKIP LOCKED), mark them sending with
    this token, and return them with the address (the login's, else its member's, else the member
    record's for a member without a login)."""
    notification, user, member = Notification._meta.db_table, User._meta.db_table, Member._meta.db_table
    sql = f"""
        WITH due AS (
            SELECT id FROM {notification}
            WHERE state = 'pending' AND channel = 'email' AND due_at <= %(now)s
            ORDER BY due_at, id
            LIMIT %(limit)s
            FOR UPDATE SKIP LOCKED
        ), claimed AS (
            UPDATE {notification} n
            SET state = 'sending', claim = %(token)s, claimed_at = %(now)s, attempts = n.attempts + 1
            FROM due
            WHERE n.id = due.id AND n.state = 'pending'
            RETURNING n.id, n.uid, n.kind, n.object_id, n.attempts, n.message_id, n.recipient_id, n.member_id
        )
        SELECT c.id, c.uid, c.kind, c.object_id, c.attempts, c.message_id,
               coalesce(nullif(u.email, ''), nullif(um.email, ''), m.email, ''), c.recipient_id IS NOT NULL,
               c.recipient_id, coalesce(m.uid, um.uid)
        FROM claimed c
        LEFT JOIN {user} u ON u.id = c.recipient_id
        LEFT JOIN {member} um ON um.user_id = c.recipient_id
        LEFT JOIN {member} m ON m.id = c.member_id
    """  # noqa: S608 - table names come from the models, every value is a parameter
    with transaction.atomic(), db_connection.cursor() as cursor:
        cursor.execute(sql, {"now": now, "limit": batch_size, "token": token})
        return [Claimed(*row) for row in cursor.fetchall()]


def _claim_orm(token: uuid.UUID, now: datetime.datetime, batch_size: int) -> list[Claimed]:
    with transaction.atomic():
        due = Notification.objects.filter(
            state=Notification.State.PENDING, channel=Notification.Channel.EMAIL, due_at__lte=now
        ).order_by("due_at", "pk")
        if db_connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        ids = list(due.values_list("pk", flat=True)[:batch_size])
        if not ids:
            return []
        # Conditional: a row another worker took in the meantime is no longer pending.
        Notification.objects.filter(pk__in=ids, state=Notification.State.PENDING).update(
            state=Notification.State.SENDING, claim=token, claimed_at=now, attempts=F("attempts") + 1
        )
    rows = Notification.objects.filter(claim=token, state=Notification.State.SENDING).values_list(
        "pk", "uid", "kind", "object_id", "attempts", "message_id", "recipient__email", "recipient__member__email",
        "member__email", "recipient_id", "member__uid", "recipient__member__uid",
    )  # fmt: skip
    return [
        Claimed(
            *row[:6],
            address=row[6] or row[7] or row[8] or "",
            has_login=bool(row[9]),
            recipient_id=row[9],
            member_uid=row[10] or row[11],
        )
        for row in rows
    ]


def _retry_or_fail(row: Claimed, token: uuid.UUID, error: BaseException | str, now) -> str:
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


def send_batch(
    token: uuid.UUID, rows: list[Claimed], now: datetime.datetime, templates: dict | None = None
) -> SweepResult:
    """`templates` ((message id, has login) -> bytes) may be shared by the batches of one sweep: a cell's
    reminder spans batches, and building it (text, HTML, the .ics) costs ~15 ms."""
    result = SweepResult()
    sent_ids: list[int] = []
    templates = {} if templates is None else templates
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
            if not row.address:
                # The address was removed after planning: nobody to send to (a login still has its inbox).
                Notification.objects.filter(pk=row.pk, claim=token).update(
                    state=Notification.State.CANCELLED, last_error="no e-mail address", claim=None
                )
                result.cancelled += 1
                continue
            key = (row.message_id, row.has_login)
            if key not in templates:
                templates[key] = build_template(row)
            template = templates[key]
            if not placeholders_intact(template, row.has_login):
                template = build_template(row, token=unsubscribe_token(row))
            try:
                send(template, _plain_address(row.address), row)
            except (*CONNECTION_ERRORS, ValueError) as exc:
                if _connection_lost(exc):
                    # The connection is gone: this row and the rest of the batch wait for a retry.
                    for rest in rows[index:]:
                        outcome = _retry_or_fail(rest, token, exc, now)
                        setattr(result, outcome, getattr(result, outcome) + 1)
                    break
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
    batches, templates = 0, {}
    while max_batches is None or batches < max_batches:
        token, rows = claim(now, batch_size)
        if not rows:
            break
        if len(templates) > 1000:
            templates.clear()
        total.add(send_batch(token, rows, now, templates))
        batches += 1
    return total
