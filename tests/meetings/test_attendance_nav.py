"""The tabs above the attendance, dues and QR pages: the meeting's calendar title and a minutes tab."""

import pytest
from django.core.cache import cache
from django.urls import reverse

from meetings import services
from tests.meetings.conftest import at


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def meeting(cast, schedule):
    m = schedule(start=at(2026, 3, 12))
    return services.meeting_open(meeting=m, by=cast.secretary_user)


@pytest.mark.parametrize("page", ["meetings:attendance", "meetings:dues", "meetings:qr"])
def test_tabs_lead_to_the_minutes_and_name_the_meeting_as_the_calendar_does(page, meeting, cast, client_for):
    html = client_for(cast.secretary_user).get(reverse(page, args=[meeting.uid])).content.decode()
    minutes = reverse("meetings:minutes", args=[meeting.uid])
    assert f'href="{minutes}" data-testid="tab-minutes">Biên bản</a>' in html
    assert "Sinh hoạt định kỳ tháng 3/2026" in html  # the calendar's title
    assert "hằng tháng 3/2026" not in html  # the kind's label followed by the month
    assert 'data-testid="attendance-tabs"' in html and "flex-nowrap overflow-x-auto" in html
