"""A member without a login opens the link at the foot of an e-mail (the file backend's copy),
stops that kind of e-mail, and undoes it; a mail provider's one-click POST needs no CSRF token."""

import email
import re
from email import policy

import pytest
from playwright.sync_api import expect

from meetings import services
from members.notifications.delivery import send_due
from members.notifications.models import NotificationPreference
from tests.factories import MemberFactory
from tests.notifications.conftest import soon

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def mailbox(e2e, settings, tmp_path):
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path)
    settings.CHIBO_SITE_URL = e2e.url
    return tmp_path


def messages_to(mailbox, address):
    found = []
    for path in sorted(mailbox.iterdir()):
        for raw in path.read_bytes().split(b"\n" + b"-" * 79 + b"\n"):
            if raw.strip():
                message = email.message_from_bytes(raw.strip(), policy=policy.default)
                if message["To"] == address:
                    found.append(message)
    return found


def test_member_without_a_login_unsubscribes_from_the_link_in_an_email_and_undoes_it(e2e, mailbox, page):
    offline = MemberFactory(full_name="Lê Thị Mai", cell=e2e.cell_a, email="mai.le@example.vn")
    services.meeting_schedule(
        unit=e2e.cell_a, kind="regular", scheduled_start=soon(), place="Nhà văn hóa khu phố 1", by=e2e.secretary_user
    )
    send_due()
    [message] = messages_to(mailbox, offline.email)
    text = message.get_body(preferencelist=("plain",)).get_content()
    link = re.search(rf"{re.escape(e2e.url)}/unsubscribe/\S+?/(?=\s|$)", text).group(0)

    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(link)
    confirm = page.get_by_test_id("unsubscribe-confirm")
    expect(confirm).to_contain_text("Ngừng nhận loại thư này?")
    expect(confirm).to_contain_text("Thông báo lịch họp")
    expect(page.get_by_test_id("masked-address")).to_have_text("ma***@example.vn")
    page.screenshot(path="var/e2e-unsubscribe-confirm.png", full_page=True)
    page.get_by_role("button", name="Ngừng nhận các thư này").click()

    done = page.get_by_test_id("unsubscribe-done")
    expect(done).to_contain_text("Đồng chí sẽ không nhận các thư này nữa")
    page.screenshot(path="var/e2e-unsubscribe-done.png", full_page=True)
    assert NotificationPreference.objects.get(member=offline, kind="meetings.scheduled").email is False

    page.get_by_role("button", name="Hoàn tác: nhận lại các thư này").click()
    expect(page.get_by_test_id("unsubscribe-confirm")).to_be_visible()
    expect(page.locator("main")).to_contain_text("sẽ lại được gửi tới ma***@example.vn")
    assert NotificationPreference.objects.get(member=offline, kind="meetings.scheduled").email is True

    # What Gmail or Yahoo do with the header: a POST with no cookie and no CSRF token.
    header = re.fullmatch(r"<(.+)>", message["List-Unsubscribe"]).group(1)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    response = page.context.request.post(header, form={"List-Unsubscribe": "One-Click"}, max_redirects=0)
    assert response.status == 200
    assert NotificationPreference.objects.get(member=offline, kind="meetings.scheduled").email is False
