"""The attendance page kept whole per viewer (config/pagecache.py): served again without rendering,
but never to another viewer, never stale after a change, with this request's csrf token (a form
posted from a cached page is accepted), the current inbox badge and pending messages."""

import datetime
import re

import pytest
import time_machine
from django.core.cache import cache, caches
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cells.models import UnitSetting
from config import pagecache
from meetings import services
from meetings.views import attendance
from members.models import Position
from members.notifications.delivery import send_due
from tests.conftest import make_login
from tests.factories import MemberFactory, PositionFactory
from tests.meetings.conftest import at


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()  # the cached pages of one test are not the next one's
    yield


@pytest.fixture
def meeting(open_meeting):
    return open_meeting


def page_url(meeting):
    return reverse("meetings:attendance", args=[meeting.uid])


def token_of(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def test_the_second_get_renders_nothing_and_shows_the_same_page(cast, meeting, client_for, count_queries, monkeypatch):
    client = client_for(cast.secretary_user)
    first = client.get(page_url(meeting)).content.decode()
    rendered = []
    original = pagecache.fill
    monkeypatch.setattr(pagecache, "fill", lambda *args: rendered.append(1) or original(*args))
    queries, response = count_queries(lambda: client.get(page_url(meeting)))
    second = response.content.decode()
    assert rendered == [1]  # served from the cache: only the slots were filled
    assert pagecache.CSRF_SLOT not in second and pagecache.INBOX_SLOT not in second
    # The same page but for the csrf token, which is masked afresh on every response.
    token = re.compile(r"\b[A-Za-z0-9]{64}\b")
    assert token.sub("T", first) == token.sub("T", second)
    assert queries <= 4  # user, meeting, grants, inbox badge


def test_a_form_posted_from_a_cached_page_passes_the_csrf_check(cast, meeting):
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.secretary_user)
    client.get(page_url(meeting))
    html = client.get(page_url(meeting)).content.decode()  # from the cache
    response = client.post(
        reverse("meetings:attendance_row", args=[meeting.uid, cast.member.uid]),
        {"csrfmiddlewaretoken": token_of(html), f"{cast.member.uid}-status": "present"},
    )
    assert response.status_code == 302
    assert meeting.attendance.get(member=cast.member).status == "present"


def test_a_page_is_never_served_to_another_viewer(cast, meeting):
    # Two members of the ward committee: the same rights on the cell, so the same cached fragment.
    other = MemberFactory(full_name="Vũ Thị Lan", cell=cast.cell_b)
    PositionFactory(unit=cast.ward, role=Position.Role.COMMITTEE_MEMBER, member=other, start=datetime.date(2020, 1, 1))
    first, second = Client(), Client()
    first.force_login(cast.ward_user)
    second.force_login(make_login(other, "lan"))
    first.get(page_url(meeting))
    assert "Đặng Minh Tuấn" in first.get(page_url(meeting)).content.decode()
    html = second.get(page_url(meeting)).content.decode()
    header = html.split("<main", 1)[0]
    assert "Vũ Thị Lan" in header and "Đặng Minh Tuấn" not in header
    assert 'class="att-btn' not in html  # readers: no status buttons


def test_scope_is_checked_before_the_cache(cast, meeting, client_for):
    client = client_for(cast.secretary_user)
    client.get(page_url(meeting))
    outsider = Client()
    outsider.force_login(cast.outsider_user)
    assert outsider.get(page_url(meeting)).status_code == 404


def test_a_change_to_the_meeting_shows_on_the_next_get(cast, meeting, client_for):
    client = client_for(cast.secretary_user)
    client.get(page_url(meeting))
    services.attendance_record(
        meeting=meeting, member=cast.member, status="excused", reason="Ốm nằm viện", by=cast.secretary_user
    )
    assert "Ốm nằm viện" in client.get(page_url(meeting)).content.decode()


def test_the_inbox_badge_is_current_on_a_cached_page(cast, meeting, client_for, monkeypatch):
    client = client_for(cast.secretary_user)
    client.get(page_url(meeting))
    assert 'data-testid="unread-badge"' not in client.get(page_url(meeting)).content.decode()
    monkeypatch.setattr("members.templatetags.inbox.unread_count", lambda user, found=None: 3)  # a message arrived
    html = client.get(page_url(meeting)).content.decode()
    assert 'data-testid="unread-badge">3<' in html


def test_pending_messages_are_shown_not_a_cached_page(cast, meeting, client_for):
    client = client_for(cast.secretary_user)
    client.get(page_url(meeting))
    response = client.post(page_url(meeting), {"action": "sync"}, follow=True)
    assert "The roll was refreshed" in response.content.decode() or "Danh sách" in response.content.decode()
    assert response.context is not None  # rendered, not served from the cache


def test_the_english_page_is_kept_apart_from_the_vietnamese(cast, meeting, client_for):
    client = client_for(cast.secretary_user)
    vi = client.get(page_url(meeting)).content.decode()
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    en = client.get(page_url(meeting)).content.decode()
    assert 'lang="vi"' in vi and 'lang="en"' in en


# --- What a hit costs, and what it still follows ---------------------------------------------------


def cache_reads(monkeypatch) -> list[str]:
    """The names of the cache reads made from now on (a read inside another, like locmem's get_many
    calling get, counts once)."""
    backend, reads, depth = type(caches["default"]), [], [0]

    def counting(name):
        original = getattr(backend, name)

        def read(self, *args, **kwargs):
            if not depth[0]:
                reads.append(name)
            depth[0] += 1
            try:
                return original(self, *args, **kwargs)
            finally:
                depth[0] -= 1

        monkeypatch.setattr(backend, name, read)

    for name in ("get", "get_many", "get_or_set", "has_key"):
        counting(name)
    return reads


def test_a_hit_reads_the_cache_once_besides_the_session(
    cast, meeting, client_for, settings, monkeypatch, django_assert_max_num_queries
):
    settings.CHIBO_INBOX_COUNT_CACHED = True  # the badge's count from the cache, as in production
    client = client_for(cast.secretary_user)
    client.get(page_url(meeting))
    reads = cache_reads(monkeypatch)
    with django_assert_max_num_queries(3):  # user, grants, meeting
        html = client.get(page_url(meeting)).content.decode()
    # The session; then the page, the tree settings and the inbox badge's two keys together.
    assert reads == ["get", "get_many"]
    assert pagecache.CSRF_SLOT not in html and pagecache.INBOX_SLOT not in html
    assert 'name="csrfmiddlewaretoken"' in html


def test_the_inbox_badge_read_with_the_page_follows_a_new_message(cast, meeting, schedule, client_for, settings):
    settings.CHIBO_INBOX_COUNT_CACHED = True
    client = client_for(cast.secretary_user)
    client.get(page_url(meeting))
    assert 'data-testid="unread-badge"' not in client.get(page_url(meeting)).content.decode()
    with time_machine.travel(at(2026, 12, 1, 9), tick=False):
        schedule(start=at(2026, 12, 10, 8))
        send_due()  # the notice reaches the inbox; every kept count is forgotten
    assert 'data-testid="unread-badge">1<' in client.get(page_url(meeting)).content.decode()


def test_a_tree_setting_changed_shows_once_the_kept_settings_expire(cast, meeting, client_for):
    # Every row unrecorded: the rate can still reach 100 %, above the default 85 %: no warning.
    client = client_for(cast.secretary_user)
    client.get(page_url(meeting))
    assert "attendance-warning" not in client.get(page_url(meeting)).content.decode()
    UnitSetting.objects.create(unit=cast.ward, key="attendance_warning_percent", value=100)
    assert "attendance-warning" not in client.get(page_url(meeting)).content.decode()  # kept a minute
    later = timezone.now() + datetime.timedelta(seconds=attendance.SETTINGS_CACHE_SECONDS + 1)
    with time_machine.travel(later):
        # The page itself is kept longer (ROWS_CACHE_SECONDS): the settings read with it refuse it.
        html = client.get(page_url(meeting)).content.decode()
    assert "attendance-warning" in html


def test_a_page_kept_under_other_settings_is_not_served(cast, meeting, client_for):
    client = client_for(cast.secretary_user)
    client.get(page_url(meeting))
    key = attendance._settings_key(meeting.unit)
    cache.set(key, cache.get(key) | {"attendance_warning_percent": 100})  # as another process read them
    assert "attendance-warning" in client.get(page_url(meeting)).content.decode()
    cache.set(key, cache.get(key) | {"attendance_warning_percent": 85})
    assert "attendance-warning" not in client.get(page_url(meeting)).content.decode()


def test_a_reader_given_a_committee_position_gets_the_buttons_on_the_next_get(cast, meeting):
    client = Client()
    client.force_login(cast.ward_user)
    client.get(page_url(meeting))
    assert 'class="att-buttons"' not in client.get(page_url(meeting)).content.decode()
    PositionFactory(unit=cast.cell_a, role=Position.Role.COMMITTEE_MEMBER, member=cast.ward_member)
    assert 'class="att-buttons"' in client.get(page_url(meeting)).content.decode()


def test_kept_pieces_join_back_into_the_rendered_page():
    html = f"<p>Nguyễn Văn Ánh {pagecache.CSRF_SLOT}</p>{pagecache.INBOX_SLOT}<i>{pagecache.CSRF_SLOT}</i>"
    pieces = pagecache.split(html)
    assert pieces[1::2] == [pagecache.CSRF_SLOT, pagecache.INBOX_SLOT, pagecache.CSRF_SLOT]
    assert b"".join(pieces[::2]).decode() == html.replace(pagecache.CSRF_SLOT, "").replace(pagecache.INBOX_SLOT, "")
