"""Writing the minutes on a phone: autosave, two people on one item, a lost connection, closing."""

import re

import pytest
from playwright.sync_api import expect

from meetings import services
from meetings.models import AgendaItem, Meeting
from members.models import Position
from tests.e2e.conftest import sign_in
from tests.factories import PositionFactory
from tests.meetings.conftest import at

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"viewport": {"width": 360, "height": 780}, "locale": "vi-VN"}


@pytest.fixture
def meeting(e2e):
    """A regular meeting in progress with the secretary and the member present."""
    meeting = services.meeting_schedule(
        unit=e2e.cell_a, kind="regular", scheduled_start=at(2026, 3, 12, 8), place="Nhà văn hóa", by=e2e.secretary_user
    )
    services.meeting_open(meeting=meeting, by=e2e.secretary_user)
    for member in (e2e.secretary, e2e.member):
        services.attendance_record(meeting=meeting, member=member, status="present", by=e2e.secretary_user)
    return meeting


def open_minutes(browser, e2e, meeting, username="secretary"):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    sign_in(page, e2e.url, username)
    page.goto(f"{e2e.url}/meetings/{meeting.uid}/minutes/")
    return context, page


def item_card(page, item):
    return page.locator(f"#item-{item.pk}")


def test_typed_text_is_saved_automatically_and_is_there_after_a_reload(e2e, browser, meeting):
    item = meeting.agenda.get(order=2)
    context, page = open_minutes(browser, e2e, meeting)
    card = item_card(page, item)
    card.locator("textarea[name=content]").fill("Đồng chí Bí thư phổ biến Chỉ thị số 35-CT/TW.")
    status = card.locator("[data-autosave-status]")
    expect(status).to_have_attribute("data-state", "saved", timeout=10_000)
    expect(status).to_contain_text(re.compile(r"(Đã lưu|Saved) \d\d:\d\d"))
    page.screenshot(path="var/e2e-minutes-autosave.png", full_page=True)

    page.reload()
    expect(item_card(page, item).locator("textarea[name=content]")).to_have_value(
        "Đồng chí Bí thư phổ biến Chỉ thị số 35-CT/TW."
    )
    item.refresh_from_db()
    assert (item.content, item.version) == ("Đồng chí Bí thư phổ biến Chỉ thị số 35-CT/TW.", 1)
    assert page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('chibo:minutes:'))") == []
    context.close()


def test_second_editor_gets_the_conflict_and_keeps_the_text_typed(e2e, browser, meeting):
    PositionFactory(unit=e2e.cell_a, role=Position.Role.DEPUTY_SECRETARY, member=e2e.member)
    item = meeting.agenda.get(order=3)
    first_context, first = open_minutes(browser, e2e, meeting, "secretary")
    second_context, second = open_minutes(browser, e2e, meeting, "member")

    first_card = item_card(first, item)
    first_card.locator("textarea[name=content]").fill("Văn bản của đồng chí Hằng.")
    expect(first_card.locator("[data-autosave-status]")).to_have_attribute("data-state", "saved", timeout=10_000)

    second_card = item_card(second, item)
    second_card.locator("textarea[name=content]").fill("Văn bản của đồng chí Đức.")
    expect(second_card.locator("[data-autosave-status]")).to_have_attribute("data-state", "conflict", timeout=10_000)
    conflict = second_card.locator("[data-autosave-conflict]")
    expect(conflict).to_be_visible()
    expect(conflict).to_contain_text("Trần Thị Hằng")
    expect(conflict.locator("[data-theirs=content]")).to_have_text("Văn bản của đồng chí Hằng.")
    expect(second_card.locator("textarea[name=content]")).to_have_value("Văn bản của đồng chí Đức.")
    second.screenshot(path="var/e2e-minutes-conflict.png", full_page=True)
    item.refresh_from_db()
    assert (item.content, item.version) == ("Văn bản của đồng chí Hằng.", 1)  # nothing overwritten

    second_card.locator("[data-action=keep-mine]").click()
    expect(second_card.locator("[data-autosave-status]")).to_have_attribute("data-state", "saved", timeout=10_000)
    expect(conflict).to_be_hidden()
    item.refresh_from_db()
    assert (item.content, item.version) == ("Văn bản của đồng chí Đức.", 2)
    first_context.close()
    second_context.close()


def test_take_theirs_puts_the_saved_text_in_the_boxes(e2e, browser, meeting):
    item = meeting.agenda.get(order=4)
    context, page = open_minutes(browser, e2e, meeting)
    services.agenda_item_save(item=item, base_version=0, content="Đã lưu ở máy khác", by=e2e.secretary_user)
    card = item_card(page, item)
    card.locator("textarea[name=conclusion]").fill("Kết luận gõ ở đây")
    expect(card.locator("[data-autosave-status]")).to_have_attribute("data-state", "conflict", timeout=10_000)
    card.locator("[data-action=take-theirs]").click()
    expect(card.locator("textarea[name=content]")).to_have_value("Đã lưu ở máy khác")
    expect(card.locator("textarea[name=conclusion]")).to_have_value("")
    item.refresh_from_db()
    assert (item.content, item.conclusion, item.version) == ("Đã lưu ở máy khác", "", 1)
    context.close()


def test_text_typed_offline_reaches_the_server_when_the_connection_is_back(e2e, browser, meeting):
    item = meeting.agenda.get(order=5)
    context, page = open_minutes(browser, e2e, meeting)
    card = item_card(page, item)
    context.set_offline(True)
    card.locator("textarea[name=content]").fill("Ý kiến ghi khi mất mạng.")
    status = card.locator("[data-autosave-status]")
    expect(status).to_have_attribute("data-state", "offline", timeout=10_000)
    expect(status).to_contain_text(re.compile("Mất kết nối|Connection lost"))
    page.screenshot(path="var/e2e-minutes-offline.png", full_page=True)
    keys = page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('chibo:minutes:'))")
    assert keys == [f"chibo:minutes:{meeting.uid}:{item.pk}:0"]
    assert AgendaItem.objects.get(pk=item.pk).content == ""

    context.set_offline(False)
    expect(status).to_have_attribute("data-state", "saved", timeout=15_000)
    item.refresh_from_db()
    assert (item.content, item.version) == ("Ý kiến ghi khi mất mạng.", 1)
    context.close()


def test_unsent_text_is_restored_and_sent_when_the_page_is_opened_again(e2e, browser, meeting):
    item = meeting.agenda.get(order=6)
    context, page = open_minutes(browser, e2e, meeting)
    page.evaluate(
        "([key, text]) => localStorage.setItem(key, JSON.stringify({content: text, conclusion: ''}))",
        [f"chibo:minutes:{meeting.uid}:{item.pk}:0", "Gõ hôm qua, chưa gửi được."],
    )
    page.reload()
    card = item_card(page, item)
    expect(card.locator("textarea[name=content]")).to_have_value("Gõ hôm qua, chưa gửi được.")
    expect(card.locator("[data-autosave-status]")).to_have_attribute("data-state", "saved", timeout=10_000)
    item.refresh_from_db()
    assert item.content == "Gõ hôm qua, chưa gửi được."
    context.close()


def test_secretary_records_a_vote_closes_the_minutes_and_the_meeting_page_shows_closed(e2e, browser, meeting):
    context, page = open_minutes(browser, e2e, meeting)
    header = page.locator("#minutes-header")
    header.locator("select[name=chair]").select_option(str(e2e.secretary.pk))
    header.locator("select[name=minutes_secretary]").select_option(str(e2e.member.pk))
    header.locator("input[name=actual_start]").fill("2026-03-12T08:00")
    header.locator("input[name=actual_end]").fill("2026-03-12T10:00")
    header.locator("button[type=submit]").click()
    expect(page.locator("#minutes-header [role=status]")).to_be_visible()

    votes = page.locator("#votes")
    votes.locator("input[name=subject]").fill("Nghị quyết tháng 3/2026")
    votes.locator("input[name=votes_for]").fill("3")
    votes.locator("button.btn-party").click()
    expect(page.get_by_test_id("vote-error")).to_be_visible()  # 3 > 2 full members present
    expect(page.locator("#votes input[name=subject]")).to_have_value("Nghị quyết tháng 3/2026")
    page.locator("#votes input[name=votes_for]").fill("2")
    page.locator("#votes button.btn-party").click()
    expect(page.locator("#votes .badge.text-bg-success")).to_be_visible()
    page.screenshot(path="var/e2e-minutes-vote.png", full_page=True)

    page.goto(f"{e2e.url}/meetings/{meeting.uid}/close/")
    page.screenshot(path="var/e2e-minutes-close.png", full_page=True)
    page.once("dialog", lambda dialog: dialog.accept())  # the last confirmation before closing
    page.get_by_test_id("close-minutes").click()
    page.wait_for_url(re.compile(rf"/meetings/{meeting.uid}/$"))
    expect(page.get_by_test_id("status")).to_contain_text(re.compile("closed|khóa", re.IGNORECASE))
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.CLOSED and len(meeting.minutes_sha256) == 64

    page.goto(f"{e2e.url}/meetings/{meeting.uid}/minutes/")
    expect(page.locator("textarea")).to_have_count(0)
    expect(page.get_by_test_id("minutes-state")).to_contain_text(re.compile("Closed|khóa", re.IGNORECASE))
    context.close()
