"""The inbox on a phone: a member sees the unread badge, opens the inbox and follows the
notification to the meeting; the badge is gone afterwards."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from meetings import services
from members.notifications.delivery import send_due
from tests.e2e.conftest import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_member_sees_the_badge_opens_the_inbox_and_follows_the_link_to_the_meeting(e2e, page):
    start = (timezone.now() + datetime.timedelta(days=10)).replace(second=0, microsecond=0)
    meeting = services.meeting_schedule(
        unit=e2e.cell_a, kind="regular", scheduled_start=start, place="Nhà văn hóa khu phố 1", by=e2e.secretary_user
    )
    send_due()  # what the beat sweep does every minute

    sign_in(page, e2e.url, "member")
    badge = page.get_by_test_id("unread-badge")
    expect(badge).to_have_text("1")
    page.get_by_test_id("inbox-link").click()
    expect(page.get_by_test_id("notification")).to_have_count(1)
    page.screenshot(path="var/e2e-inbox.png", full_page=True)
    page.get_by_test_id("notification").get_by_role("link").first.click()
    page.wait_for_url(f"**/meetings/{meeting.uid}/")
    expect(page.locator("main")).to_contain_text("Nhà văn hóa khu phố 1")
    expect(page.get_by_test_id("unread-badge")).to_have_count(0)
