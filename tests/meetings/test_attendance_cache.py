"""The attendance page's cached fragments: every write path moves the meeting's updated_at so the
next page shows the change; the queries do not grow with the roll; scope still answers 404."""

import datetime
import re

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from meetings import checkin, services
from meetings.models import Attendance, Meeting
from members import services as member_services
from tests.factories import MemberFactory
from tests.meetings.conftest import at

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def meeting(cast, schedule):
    """A regular meeting of cell A for March 2026, opened (the roll is taken)."""
    m = schedule(start=at(2026, 3, 12), period_month=3, period_year=2026)
    return services.meeting_open(meeting=m, by=cast.secretary_user)


def page_url(meeting):
    return reverse("meetings:attendance", args=[meeting.uid])


def row_html(html, member):
    """The member's row on the attendance page, up to the next row."""
    start = html.index(f'id="row-{member.uid}"')
    end = html.find('class="att-row"', start)
    return html[start : end if end != -1 else len(html)]


def warm(client, meeting) -> str:
    """Two GETs: the second is served from the fragment cache (fewer queries is checked below)."""
    client.get(page_url(meeting))
    return client.get(page_url(meeting)).content.decode()


def test_the_second_get_is_served_from_the_cache_and_a_write_behind_the_services_back_is_not_seen(
    cast, meeting, client_for, count_queries
):
    # What makes the tests below able to fail: without the touch, a changed row stays hidden.
    client = client_for(cast.secretary_user)
    first, _ = count_queries(lambda: client.get(page_url(meeting)))
    second, response = count_queries(lambda: client.get(page_url(meeting)))
    assert second < first
    Attendance.objects.filter(meeting=meeting, member=cast.member).update(status=Attendance.Status.PRESENT)
    html = client.get(page_url(meeting)).content.decode()
    assert 'data-status=""' in row_html(html, cast.member)  # stale, as expected without a touch


def test_recording_attendance_shows_on_the_next_get(cast, meeting, client_for):
    client = client_for(cast.secretary_user)
    assert 'data-status=""' in row_html(warm(client, meeting), cast.member)
    response = client.post(
        reverse("meetings:attendance_row", args=[meeting.uid, cast.member.uid]),
        {f"{cast.member.uid}-status": "excused", f"{cast.member.uid}-reason": "Đi công tác xa"},
        **HTMX,
    )
    assert response.status_code == 200
    html = client.get(page_url(meeting)).content.decode()
    assert 'data-status="excused"' in row_html(html, cast.member)
    assert "Đi công tác xa" in html  # the counts panel lists the absentee with the reason


def test_recording_through_the_service_shows_on_the_next_get(cast, meeting, client_for):
    client = client_for(cast.secretary_user)
    warm(client, meeting)
    services.attendance_record(
        meeting=meeting, member=cast.member, status="online", arrived_late=True, by=cast.secretary_user
    )
    row = row_html(client.get(page_url(meeting)).content.decode(), cast.member)
    assert 'data-status="online"' in row and "badge text-bg-warning" in row  # online and late


def test_qr_check_in_shows_on_the_next_get(cast, meeting, client_for):
    secretary = client_for(cast.secretary_user)
    assert "✓" not in row_html(warm(secretary, meeting), cast.member)
    member = Client()
    member.force_login(cast.member_user)
    url = reverse("meetings:check_in", args=[meeting.uid])
    response = member.post(url, {"t": checkin.make_token(meeting.uid)})
    assert response.status_code == 200
    assert Attendance.objects.get(meeting=meeting, member=cast.member).checked_in_at is not None
    row = row_html(secretary.get(page_url(meeting)).content.decode(), cast.member)
    assert 'data-status="present"' in row and "✓" in row


def test_adding_and_removing_a_guest_shows_on_the_next_get(cast, meeting, client_for):
    client = client_for(cast.secretary_user)
    assert "Hoàng Thị Quế" not in warm(client, meeting)
    response = client.post(
        reverse("meetings:guests", args=[meeting.uid]),
        {"name": "Hoàng Thị Quế", "title": "Bí thư Đảng ủy phường", "is_higher_delegate": "on"},
    )
    assert response.status_code == 302
    html = client.get(page_url(meeting)).content.decode()
    assert "Hoàng Thị Quế" in html and "Bí thư Đảng ủy phường" in html
    guest = meeting.guests.get()
    client.post(reverse("meetings:guest_remove", args=[meeting.uid, guest.pk]))
    assert "Hoàng Thị Quế" not in client.get(page_url(meeting)).content.decode()


def test_refreshing_the_roll_shows_a_new_member_on_the_next_get(cast, meeting, client_for):
    client = client_for(cast.secretary_user)
    warm(client, meeting)
    newcomer = MemberFactory(full_name="Vũ Thị Thanh Xuân", cell=cast.cell_a)
    assert "Vũ Thị Thanh Xuân" not in client.get(page_url(meeting)).content.decode()  # not on the roll yet
    client.post(page_url(meeting), {"action": "sync"})
    html = client.get(page_url(meeting)).content.decode()
    assert f'id="row-{newcomer.uid}"' in html


def test_closing_the_minutes_turns_the_cached_rows_read_only(cast, meeting, client_for):
    client = client_for(cast.secretary_user)
    assert 'class="att-buttons"' in warm(client, meeting)
    Meeting.objects.filter(pk=meeting.pk).update(status=Meeting.Status.CLOSED)
    html = client.get(page_url(meeting)).content.decode()
    assert 'class="att-buttons"' not in html  # who may write is part of the fragment's key


def test_dues_payment_shows_on_the_next_get_of_the_dues_page(cast, meeting, client_for):
    # The dues of the month are on their own page (not in the attendance page's cached fragments).
    client = client_for(cast.secretary_user)
    dues_url = reverse("meetings:dues", args=[meeting.uid])
    client.get(page_url(meeting))
    before = client.get(dues_url).content.decode()
    assert 'id="dues-total"' in before
    client.post(dues_url, {"member": str(cast.member.uid), "paid": "1", "amount": "15000"}, **HTMX)
    after = client.get(dues_url).content.decode()
    assert "15.000\u00a0đ" in after and after != before
    member_services.dues_remove(member=cast.member, year=2026, month=3, by=cast.secretary_user)
    assert "15.000\u00a0đ" not in client.get(dues_url).content.decode()


def test_each_session_gets_its_own_csrf_token_around_the_shared_fragment(cast, meeting):
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    first.force_login(cast.secretary_user)
    second.force_login(cast.secretary_user)
    warm(first, meeting)  # the rows are cached by the first session
    html = second.get(page_url(meeting)).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)" form="attendance-form"', html)
    assert token, "the rows' form gets its csrf token from outside the cached page"
    outside = html.rfind("<input", 0, html.index('form="attendance-form"'))
    cached = html[html.index('id="attendance-form"') : outside]
    assert "csrfmiddlewaretoken" not in cached  # no token of the first session in the shared fragment
    response = second.post(
        reverse("meetings:attendance_row", args=[meeting.uid, cast.member.uid]),
        {f"{cast.member.uid}-status": "present", "csrfmiddlewaretoken": token.group(1)},
        **HTMX,
    )
    assert response.status_code == 200
    assert Attendance.objects.get(meeting=meeting, member=cast.member).status == "present"


# --- Queries ---------------------------------------------------------------------------------------


def _meeting_with(cast, schedule, extra: int, day: int) -> Meeting:
    for n in range(extra):
        MemberFactory(cell=cast.cell_a, full_member_on=None if n % 7 == 0 else datetime.date(2011, 3, 1))
    m = services.meeting_open(
        meeting=schedule(start=at(2026, 3, day), period_month=3, period_year=2026), by=cast.secretary_user
    )
    for n, row in enumerate(m.attendance.select_related("member")):
        status = "excused" if n % 5 == 1 else "present"
        reason = "Ốm" if status == "excused" else ""
        services.attendance_record(meeting=m, member=row.member, status=status, reason=reason, by=cast.secretary_user)
    services.guest_add(meeting=m, name="Đại biểu Đảng ủy phường", by=cast.secretary_user)
    return m


@pytest.mark.parametrize("page", ["meetings:attendance", "meetings:detail"])
def test_attendance_page_and_meeting_detail_run_the_same_queries_for_10_and_60_members(
    cast, schedule, client_for, count_queries, django_assert_max_num_queries, page
):
    client = client_for(cast.secretary_user)

    def measure(extra: int, day: int) -> tuple[int, int]:
        m = _meeting_with(cast, schedule, extra, day)
        url = reverse(page, args=[m.uid])
        client.get(url)  # the session and the tree settings warmed once
        cache.clear()
        cold, response = count_queries(lambda: client.get(url))
        assert response.status_code == 200
        warm, _ = count_queries(lambda: client.get(url))
        return cold, warm

    small = measure(10 - 2, 5)  # the cast has two members in cell A
    large = measure(60 - 2 - 8, 19)
    assert small == large
    url = reverse(page, args=[Meeting.objects.get(scheduled_start=at(2026, 3, 19)).uid])
    with django_assert_max_num_queries(small[1]):
        client.get(url)


def test_attendance_page_from_the_cache_runs_only_the_session_scope_and_meeting_queries(
    cast, meeting, client_for, django_assert_max_num_queries
):
    client = client_for(cast.secretary_user)
    client.get(page_url(meeting))
    # Session, user, meeting, the member record with the grants (two), the inbox badge.
    with django_assert_max_num_queries(6):
        response = client.get(page_url(meeting))
    assert response.status_code == 200


# --- Scope -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["attendance", "dues", "guests", "qr", "check_in"])
def test_member_of_other_cell_gets_404(cast, meeting, client_for, name):
    client = client_for(cast.outsider_user)
    url = reverse(f"meetings:{name}", args=[meeting.uid])
    if name != "guests":  # POST only
        assert client.get(url).status_code == 404
    assert client.post(url, {"action": "sync"}).status_code == 404
    row = reverse("meetings:attendance_row", args=[meeting.uid, cast.member.uid])
    assert client.post(row, {f"{cast.member.uid}-status": "present"}).status_code == 404
    assert Attendance.objects.get(meeting=meeting, member=cast.member).status == ""


def test_cached_page_is_not_served_to_a_member_of_another_cell(cast, meeting, client_for):
    warm(client_for(cast.secretary_user), meeting)
    assert Client().get(page_url(meeting)).status_code == 302  # anonymous: to the sign-in page
    outsider = Client()
    outsider.force_login(cast.outsider_user)
    assert outsider.get(page_url(meeting)).status_code == 404


def test_committee_meeting_is_404_for_an_ordinary_member_of_the_same_cell(cast, schedule, client_for):
    committee = schedule(kind=Meeting.Kind.COMMITTEE, start=at(2026, 3, 9))
    member = client_for(cast.member_user)
    assert member.get(reverse("meetings:detail", args=[committee.uid])).status_code == 404
    assert member.get(page_url(committee)).status_code == 404
    ward = Client()
    ward.force_login(cast.ward_user)
    assert ward.get(reverse("meetings:detail", args=[committee.uid])).status_code == 200


def test_ordinary_member_of_the_cell_sees_the_meeting_but_not_the_roll(cast, meeting, client_for):
    client = client_for(cast.member_user)
    assert client.get(reverse("meetings:detail", args=[meeting.uid])).status_code == 200
    assert client.get(page_url(meeting)).status_code == 403
