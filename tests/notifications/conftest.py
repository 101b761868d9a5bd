import datetime
import zoneinfo

import pytest

from meetings import services
from meetings.models import Meeting

TZ = zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")


def at(year, month, day, hour=8, minute=0):
    return datetime.datetime(year, month, day, hour, minute, tzinfo=TZ)


@pytest.fixture
def emails(cast):
    """Addresses for the cast's logins: e-mail goes to the members, the inbox to everyone."""
    for user, address in (
        (cast.secretary_user, "hang@example.vn"),
        (cast.member_user, "duc@example.vn"),
        (cast.outsider_user, "bao@example.vn"),
    ):
        user.email = address
        user.save(update_fields=["email"])
    return cast


@pytest.fixture
def schedule(emails):
    def _schedule(kind=Meeting.Kind.REGULAR, start=None, unit=None, **fields):
        fields.setdefault("place", "Nhà văn hóa khu phố 1")
        return services.meeting_schedule(
            unit=unit or emails.cell_a,
            kind=kind,
            scheduled_start=start or at(2026, 12, 10, 8),
            by=emails.secretary_user,
            **fields,
        )

    return _schedule


def parts(raw: bytes):
    """The parsed message and its parts by content type (the .ics parsed with icalendar)."""
    import email
    from email import policy

    from icalendar import Calendar

    message = email.message_from_bytes(raw, policy=policy.default)
    found = {}
    for part in message.walk():
        ctype = part.get_content_type()
        if ctype == "text/calendar":
            found["calendar"] = Calendar.from_ical(part.get_payload(decode=True))
            found["calendar_method"] = part.get_param("method")
        elif not part.is_multipart():
            found.setdefault(ctype, part.get_content())
    return message, found


class Sink:
    """An SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it receives, or refuses it."""

    def __init__(self):
        self.messages: list[tuple[list[str], bytes]] = []
        self.refuse: str | None = None
        self.refuse_rcpt: str | None = None
        self.refuse_only: set[str] | None = None  # refuse_rcpt for these addresses only
        self.attempts = 0
        # Offer RFC 2920 PIPELINING as Postfix and Exim do (aiosmtpd reads pipelined commands in
        # order but does not announce it); the sender then writes MAIL, RCPT and DATA at once.
        self.pipelining = False

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        return [*responses[:-1], *(["250-PIPELINING"] if self.pipelining else []), responses[-1]]

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse_rcpt and (self.refuse_only is None or address in self.refuse_only):
            return self.refuse_rcpt
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.attempts += 1
        if self.refuse:
            return self.refuse
        self.messages.append((list(envelope.rcpt_tos), envelope.content))
        return "250 OK"

    def to(self, address: str) -> list[bytes]:
        return [content for rcpts, content in self.messages if address in rcpts]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_sink(settings):
    from aiosmtpd.controller import Controller

    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    yield sink
    controller.stop()


def soon(days: int = 10):
    """A meeting time in the future, whole minutes (calendars carry no microseconds)."""
    from django.utils import timezone

    return (timezone.now() + datetime.timedelta(days=days)).replace(second=0, microsecond=0)
