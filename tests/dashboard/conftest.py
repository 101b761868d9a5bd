import datetime
import zoneinfo

import pytest

from meetings import services
from meetings.models import Attendance, Meeting

TZ = zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")


def at(year, month, day, hour=8, minute=0):
    return datetime.datetime(year, month, day, hour, minute, tzinfo=TZ)


def hold(cell, start, by, kind=Meeting.Kind.REGULAR, statuses=None, minutes=120, guests=(), **fields):
    """A meeting held through the services: scheduled, opened (roll taken), attendance, ended.
    statuses: {member: status}; members left out are recorded present."""
    fields.setdefault("place", "Hội trường")
    if kind == Meeting.Kind.THEMATIC or fields.get("combined_thematic"):
        fields.setdefault("topic", "Học tập và làm theo tư tưởng Hồ Chí Minh")
    meeting = services.meeting_schedule(unit=cell, kind=kind, scheduled_start=start, by=by, **fields)
    meeting = services.meeting_open(meeting=meeting, by=by)
    statuses = statuses or {}
    for row in Attendance.objects.filter(meeting=meeting).select_related("member"):
        status = statuses.get(row.member, Attendance.Status.PRESENT)
        reason = "Ốm" if status == Attendance.Status.ABSENT_EXCUSED else ""
        services.attendance_record(meeting=meeting, member=row.member, status=status, reason=reason, by=by)
    for name in guests:
        services.guest_add(meeting=meeting, name=name, title="Đảng ủy phường", by=by)
    return services.meeting_finish(meeting=meeting, by=by, actual_end=start + datetime.timedelta(minutes=minutes))


@pytest.fixture
def held(cast):
    def _held(start, cell=None, **kwargs):
        return hold(cell or cast.cell_a, start, cast.secretary_user, **kwargs)

    return _held


@pytest.fixture(autouse=True)
def _summaries_built(cast):
    """The cast's units are made by factories, not services: build their rows as the seed does."""
    from meetings import summaries

    summaries.rebuild()
