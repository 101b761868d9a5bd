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
