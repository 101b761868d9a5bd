"""The header badge's count kept in a shared cache: forgotten on reading and on delivery."""

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from members.notifications.delivery import send_due
from members.notifications.models import Notification
from members.notifications.services import unread_count

from .conftest import at

NOW = at(2026, 12, 1, 9)


@pytest.fixture
def cached_counts(settings):
    settings.CHIBO_INBOX_COUNT_CACHED = True
    cache.clear()
    yield
    cache.clear()


def badge(client) -> str | None:
    html = client.get(reverse("members:inbox")).content.decode()
    marker = 'data-testid="unread-badge">'
    return html.split(marker, 1)[1].split("<", 1)[0] if marker in html else None


@time_machine.travel(NOW, tick=False)
def test_count_is_read_from_the_cache_the_second_time(cached_counts, schedule, cast):
    schedule()
    send_due()
    assert unread_count(cast.member_user) == 1
    with CaptureQueriesContext(connection) as ctx:
        assert unread_count(cast.member_user) == 1
    assert ctx.captured_queries == []


@time_machine.travel(NOW, tick=False)
def test_badge_follows_delivery_and_reading(cached_counts, schedule, cast, client_for):
    client = client_for(cast.member_user)
    assert badge(client) is None  # 0 is now cached for this person
    schedule()
    send_due()  # a new generation: every cached count is forgotten
    assert badge(client) == "1"
    schedule(start=at(2026, 12, 20, 8), kind="thematic", topic="Học tập Nghị quyết")
    send_due()
    assert badge(client) == "2"
    row = Notification.objects.filter(recipient=cast.member_user, channel="inbox", state="sent").first()
    assert client.post(reverse("members:inbox_read", args=[row.uid])).status_code in (200, 302)
    assert badge(client) == "1"
    assert client.post(reverse("members:inbox_read_all")).status_code in (200, 302)
    assert badge(client) is None


@time_machine.travel(NOW, tick=False)
def test_one_persons_reading_leaves_anothers_count(cached_counts, schedule, cast):
    schedule()
    send_due()
    member, secretary = Client(), Client()
    member.force_login(cast.member_user)
    secretary.force_login(cast.secretary_user)
    assert badge(member) == "1" and badge(secretary) == "1"
    member.post(reverse("members:inbox_read_all"))
    assert badge(member) is None and badge(secretary) == "1"


def test_without_a_shared_cache_every_page_counts(settings, cast):
    settings.CHIBO_INBOX_COUNT_CACHED = False
    with CaptureQueriesContext(connection) as ctx:
        unread_count(cast.member_user)
        unread_count(cast.member_user)
    assert len(ctx.captured_queries) == 2
