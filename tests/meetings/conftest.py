import datetime
import zoneinfo

import pytest

from meetings import services
from meetings.models import Meeting

TZ = zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")


def at(year, month, day, hour=8, minute=0):
    return datetime.datetime(year, month, day, hour, minute, tzinfo=TZ)


@pytest.fixture
def schedule(cast):
    """schedule(kind="regular", start=at(...), unit=cell_a, **fields) -> Meeting."""

    def _schedule(kind=Meeting.Kind.REGULAR, start=None, unit=None, **fields):
        start = start or at(2026, 3, 12, 8)
        fields.setdefault("place", "Nhà văn hóa khu phố 1")
        return services.meeting_schedule(
            unit=unit or cast.cell_a, kind=kind, scheduled_start=start, by=cast.secretary_user, **fields
        )

    return _schedule


@pytest.fixture
def open_meeting(cast, schedule):
    """A regular meeting of cell A for March 2026, opened (the roll is taken)."""
    m = schedule(start=at(2026, 3, 12), period_month=3, period_year=2026)
    return services.meeting_open(meeting=m, by=cast.secretary_user)
