"""A meeting as an iCalendar object (RFC 5545), for the download link and for e-mailed invitations.

The UID is stable and SEQUENCE is the meeting's revision (moved on every change of time or place),
so a calendar that imported the meeting updates it instead of adding a second one. The text is a
document, always in Vietnamese whatever the reader's language (STYLE.md "Documents").
"""

from __future__ import annotations

import datetime
import zoneinfo
from functools import cache

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar, Event, Timezone

from .models import Meeting

PRODID = "-//Chi bo//Lich sinh hoat chi bo//VI"
TZID = "Asia/Ho_Chi_Minh"
ZONE = zoneinfo.ZoneInfo(TZID)


@cache
def _vtimezone() -> Timezone:
    # Building a VTIMEZONE costs ~11 ms (STACK-NOTES.md): once per process.
    return Timezone.from_tzid(TZID)


def meeting_uid(meeting: Meeting) -> str:
    return f"meeting-{meeting.uid}@chibo"


def meeting_summary(meeting: Meeting) -> str:
    """ "Sinh hoạt chi bộ định kỳ tháng 3/2026 — Chi bộ Khu phố 1"."""
    if meeting.kind == Meeting.Kind.REGULAR:
        what = f"Sinh hoạt chi bộ định kỳ tháng {meeting.period_month}/{meeting.period_year}"
        if meeting.combined_thematic:
            what += f" kết hợp chuyên đề: {meeting.topic}"
    elif meeting.kind == Meeting.Kind.THEMATIC:
        what = f"Sinh hoạt chuyên đề: {meeting.topic}"
    elif meeting.kind == Meeting.Kind.COMMITTEE:
        what = "Họp chi ủy"
    else:
        what = "Sinh hoạt chi bộ bất thường"
        if meeting.topic:
            what += f": {meeting.topic}"
    return f"{what} — {meeting.unit.name}"


def _description(meeting: Meeting, url: str | None) -> str:
    lines = []
    if meeting.online_link:
        lines.append(f"Dự họp trực tuyến: {meeting.online_link}")
    if meeting.status == Meeting.Status.CANCELLED and meeting.cancel_reason:
        lines.append(f"Đã hủy. Lý do: {meeting.cancel_reason}")
    if url:
        lines.append(f"Chi tiết và tài liệu: {url}")
    return "\n".join(lines)


def _default_url(meeting: Meeting) -> str | None:
    base = getattr(settings, "CHIBO_SITE_URL", "")
    return f"{base.rstrip('/')}{reverse('meetings:detail', args=[meeting.uid])}" if base else None


def meeting_ics(
    meeting: Meeting, method: str = "PUBLISH", *, url: str | None = None, organizer: str | None = None
) -> bytes:
    """METHOD:PUBLISH for the download link; REQUEST and CANCEL for e-mailed invitations (the
    reminders add ATTENDEE lines to a copy when they need them)."""
    method = method.upper()
    url = url or _default_url(meeting)
    start = meeting.scheduled_start.astimezone(ZONE)
    end = start + datetime.timedelta(minutes=meeting.planned_minutes or 90)
    stamp = (meeting.updated_at or timezone.now()).astimezone(datetime.UTC)

    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", method)
    cal.add_component(_vtimezone())

    event = Event()
    event.add("uid", meeting_uid(meeting))
    event.add("sequence", meeting.revision)
    # DTSTAMP follows the meeting's last change, so the same meeting always gives the same bytes.
    event.add("dtstamp", stamp)
    if meeting.created_at:
        event.add("created", meeting.created_at.astimezone(datetime.UTC))
    event.add("last-modified", stamp)
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("summary", meeting_summary(meeting))
    event.add("location", meeting.place)
    description = _description(meeting, url)
    if description:
        event.add("description", description)
    if url:
        event.add("url", url)
    if organizer:
        event.add("organizer", f"mailto:{organizer}", parameters={"CN": meeting.unit.name})
    cancelled = method == "CANCEL" or meeting.status == Meeting.Status.CANCELLED
    event.add("status", "CANCELLED" if cancelled else "TENTATIVE" if meeting.status == "draft" else "CONFIRMED")
    event.add("transp", "OPAQUE")
    cal.add_component(event)
    return cal.to_ical()
