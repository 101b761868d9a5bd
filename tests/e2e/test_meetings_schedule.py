"""Scheduling on a phone: the secretary plans next March's regular meeting, is told it lacks the
committee meeting before it, schedules that, and a member finds the meeting and takes the .ics."""

import datetime
import re

import icalendar
import pytest
from django.utils import timezone
from playwright.sync_api import expect

from meetings.models import Meeting
from tests.e2e.conftest import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 360, "height": 780}


def _next_march() -> int:
    today = timezone.localdate()
    return today.year + 1 if today.month >= 3 else today.year


def test_secretary_schedules_march_and_its_committee_meeting_and_a_member_takes_the_ics(e2e, browser, tmp_path):
    year = _next_march()
    secretary = browser.new_context(viewport=PHONE).new_page()
    sign_in(secretary, e2e.url, "secretary")
    panel = secretary.get_by_test_id("next-meeting-panel")
    expect(panel).to_be_visible()
    panel.get_by_role("link", name=re.compile("Lịch|Calendar")).click()
    secretary.locator(f"main a[href$='/meetings/units/{e2e.cell_a.uid}/new/']").first.click()

    # The regular meeting: the month defaults to the month of the date.
    expect(secretary.locator("input[name=kind][value=regular]")).to_be_checked()
    secretary.fill("input[name=date]", f"{year}-03-12")
    secretary.fill("input[name=time]", "19:30")
    secretary.fill("input[name=place]", "Nhà văn hóa khu phố 1")
    secretary.locator("#meeting-form button[type=submit]").click()
    expect(secretary.get_by_test_id("status")).to_be_visible()
    regular = Meeting.objects.get(kind="regular")
    assert (regular.period_month, regular.period_year) == (3, year)
    assert timezone.localtime(regular.scheduled_start).strftime("%H:%M") == "19:30"

    warnings = secretary.get_by_test_id("schedule-warnings")
    expect(warnings).to_be_visible()
    expect(warnings).to_contain_text("14")
    secretary.screenshot(path="var/e2e-meeting-detail.png", full_page=True)

    # The warning offers the committee meeting, three days before; the kind is already chosen.
    warnings.get_by_role("link").click()
    expect(secretary.locator("input[name=kind][value=committee]")).to_be_checked()
    expect(secretary.locator("input[name=date]")).to_have_value(f"{year}-03-09")
    expect(secretary.locator("input[name=topic]")).to_be_hidden()  # fields of other kinds are folded away
    secretary.fill("input[name=time]", "19:30")
    secretary.locator("#meeting-form button[type=submit]").click()
    expect(secretary.get_by_test_id("status")).to_be_visible()
    committee = Meeting.objects.get(kind="committee")
    assert timezone.localdate(committee.scheduled_start) == datetime.date(year, 3, 9)

    secretary.goto(f"{e2e.url}/meetings/{regular.uid}/")
    expect(secretary.get_by_test_id("schedule-warnings")).to_have_count(0)

    # A member finds it in the calendar of March (phones get the day list) and downloads the .ics.
    member = browser.new_context(viewport=PHONE, accept_downloads=True).new_page()
    sign_in(member, e2e.url, "member")
    member.get_by_test_id("next-meeting-panel").get_by_role("link", name=re.compile("Lịch|Calendar")).click()
    member.goto(f"{member.url}?view=month&month={year}-03")
    expect(member.get_by_test_id("month-title")).to_contain_text(str(year))
    day_list = member.locator(".d-md-none")
    expect(day_list.locator(f"a[href$='/meetings/{regular.uid}/']")).to_be_visible()
    expect(member.locator(f"a[href$='/meetings/{committee.uid}/']")).to_have_count(0)  # the committee's own
    member.screenshot(path="var/e2e-meetings-calendar.png", full_page=True)

    day_list.locator(f"a[href$='/meetings/{regular.uid}/']").click()
    expect(member.get_by_test_id("next-action")).to_have_count(0)  # read-only for a member
    with member.expect_download() as download:
        member.get_by_test_id("ics").click()
    path = tmp_path / "meeting.ics"
    download.value.save_as(path)
    (event,) = icalendar.Calendar.from_ical(path.read_bytes()).walk("VEVENT")
    start = event.decoded("DTSTART")
    assert str(start.tzinfo) == "Asia/Ho_Chi_Minh"
    assert start.replace(tzinfo=None) == datetime.datetime(year, 3, 12, 19, 30)
    assert str(event["SUMMARY"]).startswith(f"Sinh hoạt chi bộ định kỳ tháng 3/{year}")
