"""The attendance page, its rows and counts, guests, dues, and a member's attendance history."""

import datetime
import re

import pytest
from django.core.cache import cache
from django.urls import reverse

from cells.models import UnitSetting
from meetings import services
from meetings.models import Attendance, Guest, Meeting
from members.models import DuesPayment, StatusPeriod, TemporaryAttachment
from tests.factories import MemberFactory
from tests.meetings.conftest import at

D = datetime.date
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def meeting(cast, schedule):
    """A regular meeting of cell A for March 2026, opened (the roll is taken)."""
    m = schedule(start=at(2026, 3, 12))
    return services.meeting_open(meeting=m, by=cast.secretary_user)


def row_url(meeting, member):
    return reverse("meetings:attendance_row", args=[meeting.uid, member.uid])


def post_row(client, meeting, member, htmx=True, **fields):
    data = {f"{member.uid}-{name}": value for name, value in fields.items()}
    return client.post(row_url(meeting, member), data, **(HTMX if htmx else {}))


def attendance_of(meeting, member):
    return Attendance.objects.get(meeting=meeting, member=member)


def counts_in(html):
    return {name: value for name, value in re.findall(r'data-testid="([\w-]+)">([^<]*)<', html)}


# --- Rows -------------------------------------------------------------------------------------------


def test_secretary_marks_a_member_present_and_gets_the_row_and_the_counts_back(cast, meeting, client_for):
    response = post_row(client_for(cast.secretary_user), meeting, cast.member, status="present")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="row-{cast.member.uid}" hx-swap-oob="true" data-status="present"' in html
    assert 'id="attendance-counts"' in html and 'hx-swap-oob="true"' in html
    values = counts_in(html)
    assert (values["expected"], values["present"], values["rate"]) == ("2", "1", "50%")
    assert attendance_of(meeting, cast.member).status == "present"


def test_excused_absence_needs_a_reason_and_nothing_changes_without_one(cast, meeting, client_for):
    client = client_for(cast.secretary_user)
    post_row(client, meeting, cast.member, status="present")
    response = post_row(client, meeting, cast.member, status="excused", reason="  ")
    html = response.content.decode()
    assert response.status_code == 200
    assert f'name="{cast.member.uid}-reason"' in html and "is-invalid" in html
    assert attendance_of(meeting, cast.member).status == "present"

    post_row(client, meeting, cast.member, status="excused", reason="Đi công tác", reason_approved="on")
    row = attendance_of(meeting, cast.member)
    assert (row.status, row.reason, row.reason_approved) == ("excused", "Đi công tác", True)


def test_approved_flag_is_kept_only_when_ticked_and_the_voting_base_follows(cast, meeting, client_for):
    client = client_for(cast.secretary_user)
    html = post_row(client, meeting, cast.member, status="excused", reason="Ốm").content.decode()
    assert attendance_of(meeting, cast.member).reason_approved is False
    assert counts_in(html)["voting-base"] == "2"
    html = post_row(client, meeting, cast.member, status="excused", reason="Ốm", reason_approved="on").content.decode()
    assert attendance_of(meeting, cast.member).reason_approved is True
    assert counts_in(html)["voting-base"] == "1"  # an approved absence leaves the voting base


def test_late_toggle_keeps_the_status_and_other_rows_fields_are_ignored(cast, meeting, client_for):
    client = client_for(cast.secretary_user)
    post_row(client, meeting, cast.member, status="online")
    data = {f"{cast.member.uid}-late": "1", f"{cast.secretary.uid}-status": "unexcused"}
    client.post(row_url(meeting, cast.member), data, **HTMX)
    row = attendance_of(meeting, cast.member)
    assert (row.status, row.arrived_late) == ("online", True)
    assert attendance_of(meeting, cast.secretary).status == ""  # another row's field, posted alongside
    post_row(client, meeting, cast.member, late="0")
    assert attendance_of(meeting, cast.member).arrived_late is False


def test_without_javascript_a_row_post_redirects_back_to_the_row(cast, meeting, client_for):
    client = client_for(cast.secretary_user)
    response = post_row(client, meeting, cast.member, htmx=False, status="unexcused")
    assert response.status_code == 302
    assert response["Location"].endswith(f"/attendance/#row-{cast.member.uid}")
    assert attendance_of(meeting, cast.member).status == "unexcused"
    # A refused post without JS shows the row on its own page, with the error and the reason field.
    response = post_row(client, meeting, cast.member, htmx=False, status="excused")
    assert response.status_code == 200 and "csrfmiddlewaretoken" in response.content.decode()
    assert response.context["errors"] and attendance_of(meeting, cast.member).status == "unexcused"


def test_counts_panel_shows_expected_present_rate_voting_base_and_absentees(cast, meeting, client_for):
    extra = [MemberFactory(cell=cast.cell_a) for _ in range(3)]
    probationary = MemberFactory(cell=cast.cell_a, full_member_on=None, admitted_on=D(2025, 10, 1))
    services.attendance_sync(meeting=meeting)
    client = client_for(cast.secretary_user)
    for member in (cast.secretary, cast.member, probationary):
        post_row(client, meeting, member, status="present")
    post_row(client, meeting, extra[0], status="online")
    post_row(client, meeting, extra[1], status="excused", reason="Ốm", reason_approved="on")
    html = post_row(client, meeting, extra[2], status="unexcused").content.decode()
    values = counts_in(html)
    assert values["expected"] == "6" and values["present"] == "4" and values["rate"] == "67%"
    assert values["full-present"] == "3"  # the probationary member is present but does not vote
    assert values["voting-base"] == "4"  # 5 full members less the approved absence
    assert (values["excused"], values["unexcused"]) == ("1", "1")
    assert extra[1].full_name in html and "Ốm" in html and extra[2].full_name in html


def test_warnings_for_low_rate_and_unexcused_absence_do_not_block(cast, meeting, client_for):
    client = client_for(cast.secretary_user)
    post_row(client, meeting, cast.secretary, status="present")
    html = post_row(client, meeting, cast.member, status="unexcused").content.decode()
    warnings = re.findall(r'data-testid="attendance-warning">([^<]*)<', html)
    assert len(warnings) == 2
    assert "50%" in warnings[0] and "85%" in warnings[0] and cast.member.full_name in warnings[1]
    html = post_row(client, meeting, cast.member, status="present").content.decode()
    assert "attendance-warning" not in html


def test_rate_warning_follows_the_tree_setting(cast, meeting, client_for):
    UnitSetting.objects.create(unit=cast.ward, key="attendance_warning_percent", value=40)
    client = client_for(cast.secretary_user)
    post_row(client, meeting, cast.secretary, status="present")
    html = post_row(client, meeting, cast.member, status="excused", reason="Ốm").content.decode()
    assert "attendance-warning" not in html  # 50% is above this tree's 40%


def test_no_rate_warning_while_the_rate_can_still_rise_above_the_threshold(cast, meeting, client_for):
    html = post_row(client_for(cast.secretary_user), meeting, cast.member, status="present").content.decode()
    assert "attendance-warning" not in html  # 1 of 2 present, the other not recorded yet


def test_scheduled_meeting_shows_the_live_roll_without_writing_and_can_be_opened(cast, schedule, client_for):
    m = schedule(start=at(2026, 3, 12))
    client = client_for(cast.secretary_user)
    response = client.get(reverse("meetings:attendance", args=[m.uid]))
    html = response.content.decode()
    assert cast.member.full_name in html and cast.secretary.full_name in html
    assert 'data-testid="open-meeting"' in html and 'class="att-btn' not in html
    assert not Attendance.objects.filter(meeting=m).exists()

    response = client.post(reverse("meetings:attendance", args=[m.uid]), {"action": "open"})
    assert response.status_code == 302
    m.refresh_from_db()
    assert m.status == Meeting.Status.IN_PROGRESS and m.attendance.count() == 2
    assert 'class="att-btn' in client.get(reverse("meetings:attendance", args=[m.uid])).content.decode()


def test_exempted_suspended_and_attached_elsewhere_are_shown_apart_and_attached_here_marked(cast, schedule, client_for):
    exempt = MemberFactory(full_name="Hồ Văn Miễn", cell=cast.cell_a)
    StatusPeriod.objects.create(member=exempt, kind="exempted", start=D(2025, 1, 1), reason="Tuổi cao")
    suspended = MemberFactory(full_name="Bùi Văn Đình", cell=cast.cell_a)
    StatusPeriod.objects.create(member=suspended, kind="suspended", start=D(2026, 1, 1), reason="Kỷ luật")
    away = MemberFactory(full_name="Lý Đi Xa", cell=cast.cell_a)
    TemporaryAttachment.objects.create(member=away, cell=cast.cell_b, start=D(2026, 2, 1))
    visitor = MemberFactory(full_name="Vũ Tạm Thời", cell=cast.cell_b)
    TemporaryAttachment.objects.create(member=visitor, cell=cast.cell_a, start=D(2026, 1, 1))
    m = services.meeting_open(meeting=schedule(start=at(2026, 3, 12)), by=cast.secretary_user)

    response = client_for(cast.secretary_user).get(reverse("meetings:attendance", args=[m.uid]))
    roll = response.context["roll"]
    assert {r.member.full_name for r in roll.apart} == {"Hồ Văn Miễn", "Bùi Văn Đình", "Lý Đi Xa"}
    assert {r.member.full_name for r in roll.main} == {cast.secretary.full_name, cast.member.full_name, "Vũ Tạm Thời"}
    html = response.content.decode()
    apart = html[html.index('id="apart-heading"') :]
    assert "Hồ Văn Miễn" in apart and "Vũ Tạm Thời" not in apart
    visitor_row = html[html.index(f'id="row-{visitor.uid}"') :][:600]
    assert "Temporarily attached" in visitor_row or "sinh hoạt tạm thời" in visitor_row.lower()


def test_higher_committee_reads_the_roll_but_cannot_write(cast, meeting, client_for):
    client = client_for(cast.ward_user)
    response = client.get(reverse("meetings:attendance", args=[meeting.uid]))
    assert response.status_code == 200
    html = response.content.decode()
    assert cast.member.full_name in html and 'class="att-btn' not in html and 'name="action"' not in html
    assert post_row(client, meeting, cast.member, status="present").status_code == 403
    assert client.post(reverse("meetings:guests", args=[meeting.uid]), {"name": "X"}).status_code == 403
    assert attendance_of(meeting, cast.member).status == ""


def test_ordinary_member_does_not_see_the_roll_or_the_dues(cast, meeting, client_for):
    client = client_for(cast.member_user)
    assert client.get(reverse("meetings:attendance", args=[meeting.uid])).status_code == 403
    assert client.get(reverse("meetings:dues", args=[meeting.uid])).status_code == 403
    assert client.get(reverse("meetings:qr", args=[meeting.uid])).status_code == 403


def test_closed_or_not_started_meeting_refuses_row_writes(cast, schedule, client_for):
    m = schedule(start=at(2026, 3, 12))
    client = client_for(cast.secretary_user)
    # No roll has been taken: the row does not exist yet.
    assert post_row(client, m, cast.member, status="present").status_code == 404
    services.meeting_open(meeting=m, by=cast.secretary_user)
    Meeting.objects.filter(pk=m.pk).update(status=Meeting.Status.CLOSED)
    assert post_row(client, m, cast.member, status="present").status_code == 403
    assert attendance_of(m, cast.member).status == ""


def test_attendance_page_rows_are_cached_until_the_meeting_changes(cast, meeting, client_for, count_queries):
    client = client_for(cast.secretary_user)
    url = reverse("meetings:attendance", args=[meeting.uid])
    first, _ = count_queries(lambda: client.get(url))
    second, response = count_queries(lambda: client.get(url))
    assert second < first  # the rows and counts came from the cache
    assert 'data-status=""' in response.content.decode()
    post_row(client, meeting, cast.member, status="present")  # moves meeting.updated_at
    html = client.get(url).content.decode()
    assert f'id="row-{cast.member.uid}" data-status="present"' in html


@pytest.mark.parametrize("opened", [True, False], ids=["opened", "live-roll"])
def test_attendance_page_runs_the_same_number_of_queries_for_0_and_60_extra_members(
    cast, schedule, client_for, count_queries, opened
):
    client = client_for(cast.secretary_user)

    def measure(extra: int, day: int) -> int:
        cell = cast.cell_a
        for _ in range(extra):
            MemberFactory(cell=cell)
        m = schedule(start=at(2026, 3, day), period_month=3, period_year=2026)
        if opened:
            m = services.meeting_open(meeting=m, by=cast.secretary_user)
            for row in m.attendance.select_related("member")[:30]:
                services.attendance_record(meeting=m, member=row.member, status="present", by=cast.secretary_user)
        Guest.objects.create(meeting=m, name="Đại biểu Đảng ủy phường")
        cache.clear()
        url = reverse("meetings:attendance", args=[m.uid])
        client.get(url)  # the session and anything else warmed once
        cache.clear()
        n, response = count_queries(lambda: client.get(url))
        assert response.status_code == 200
        assert len(response.context["roll"].rows) == 2 + extra
        return n

    small = measure(0, 5)
    large = measure(60, 19)
    assert small == large
    assert large <= 20


# --- Guests --------------------------------------------------------------------------------------


def test_guests_are_added_and_removed(cast, meeting, client_for):
    client = client_for(cast.secretary_user)
    url = reverse("meetings:guests", args=[meeting.uid])
    response = client.post(
        url, {"name": "Nguyễn Văn Phường", "title": "Phó Bí thư Đảng ủy phường", "is_higher_delegate": "on"}, **HTMX
    )
    assert response.status_code == 200 and "Nguyễn Văn Phường" in response.content.decode()
    guest = Guest.objects.get(meeting=meeting)
    assert guest.is_higher_delegate and guest.title == "Phó Bí thư Đảng ủy phường"

    response = client.post(url, {"name": "Đỗ Thị Khách", "title": ""})
    assert response.status_code == 302 and response["Location"].endswith("#guests")
    assert not Guest.objects.get(name="Đỗ Thị Khách").is_higher_delegate

    html = client.post(url, {"name": ""}, **HTMX).content.decode()
    assert "is-invalid" in html and Guest.objects.filter(meeting=meeting).count() == 2

    page = client.get(reverse("meetings:attendance", args=[meeting.uid])).content.decode()
    assert "Nguyễn Văn Phường" in page and "Đỗ Thị Khách" in page  # the cached list moved with the meeting

    remove = reverse("meetings:guest_remove", args=[meeting.uid, guest.pk])
    response = client.post(remove, **HTMX)
    assert response.status_code == 200 and 'id="guests"' in response.content.decode()
    assert not Guest.objects.filter(pk=guest.pk).exists()
    other = Guest.objects.get(name="Đỗ Thị Khách")
    response = client.post(reverse("meetings:guest_remove", args=[meeting.uid, other.pk]))
    assert response.status_code == 302 and not Guest.objects.filter(meeting=meeting).exists()
    assert "Đỗ Thị Khách" not in client.get(reverse("meetings:attendance", args=[meeting.uid])).content.decode()


def test_a_guest_of_another_meeting_cannot_be_removed_through_this_one(cast, meeting, schedule, client_for):
    other = schedule(start=at(2026, 4, 9))
    guest = Guest.objects.create(meeting=other, name="Đại biểu")
    response = client_for(cast.secretary_user).post(reverse("meetings:guest_remove", args=[meeting.uid, guest.pk]))
    assert response.status_code == 404 and Guest.objects.filter(pk=guest.pk).exists()


# --- Dues ---------------------------------------------------------------------------------------------


def dues_post(client, meeting, member, htmx=True, **data):
    url = reverse("meetings:dues", args=[meeting.uid])
    return client.post(url, {"member": str(member.uid), **data}, **(HTMX if htmx else {}))


def test_dues_toggle_creates_and_removes_one_record_for_the_meeting_month(cast, meeting, client_for):
    client = client_for(cast.secretary_user)
    response = dues_post(client, meeting, cast.member, paid="1", amount="12000")
    html = response.content.decode()
    assert response.status_code == 200 and 'id="dues-total" hx-swap-oob="true"' in html
    assert "12.000\u00a0đ" in html  # the Vietnamese grouping, by the vnd filter
    payment = DuesPayment.objects.get(member=cast.member)
    assert (payment.year, payment.month, payment.amount) == (2026, 3, 12000)
    assert payment.paid_on == D(2026, 3, 12)  # the meeting day

    dues_post(client, meeting, cast.member, paid="1", amount="15000")  # tapped twice: still one record
    assert DuesPayment.objects.filter(member=cast.member, year=2026, month=3).count() == 1

    dues_post(client, meeting, cast.member, paid="0")
    assert not DuesPayment.objects.filter(member=cast.member).exists()


def test_dues_page_offers_the_last_amount_else_the_default_and_sums_the_month(cast, meeting, client_for):
    from members import services as member_services

    member_services.dues_record(
        member=cast.member, year=2026, month=2, amount=25000, paid_on=D(2026, 2, 10), by=cast.secretary_user
    )
    member_services.dues_record(
        member=cast.secretary, year=2026, month=3, amount=30000, paid_on=D(2026, 3, 12), by=cast.secretary_user
    )
    client = client_for(cast.secretary_user)
    response = client.get(reverse("meetings:dues", args=[meeting.uid]))
    rows = {r["member"].pk: r for r in response.context["rows"]}
    assert rows[cast.member.pk]["amount"] == 25000 and rows[cast.member.pk]["payment"] is None
    assert rows[cast.secretary.pk]["payment"].amount == 30000
    assert response.context["total"] == 30000 and response.context["paid_count"] == 1

    newcomer = MemberFactory(cell=cast.cell_a)
    services.attendance_sync(meeting=meeting)
    response = client.get(reverse("meetings:dues", args=[meeting.uid]) + "?default=20000")
    assert {r["member"].pk: r["amount"] for r in response.context["rows"]}[newcomer.pk] == 20000


def test_dues_without_javascript_and_refusals(cast, meeting, client_for):
    client = client_for(cast.secretary_user)
    response = dues_post(client, meeting, cast.member, htmx=False, paid="1", amount="10000")
    assert response.status_code == 302 and response["Location"].endswith(f"#dues-{cast.member.uid}")
    assert DuesPayment.objects.filter(member=cast.member).count() == 1
    dues_post(client, meeting, cast.member, paid="1", amount="0")
    assert DuesPayment.objects.get(member=cast.member).amount == 10000
    # Someone not on this meeting's roll cannot be paid for here.
    assert dues_post(client, meeting, cast.outsider, paid="1", amount="10000").status_code == 404
    assert dues_post(client, meeting, cast.member, htmx=False, paid="1", amount="1").status_code == 302
    response = client_for(cast.ward_user).post(
        reverse("meetings:dues", args=[meeting.uid]), {"member": str(cast.member.uid), "paid": "0"}
    )
    assert response.status_code == 403 and DuesPayment.objects.filter(member=cast.member).exists()


def test_dues_month_is_the_meeting_period_else_its_date(cast, schedule):
    from meetings.views.attendance import dues_month

    regular = schedule(start=at(2026, 4, 2), period_year=2026, period_month=3)
    assert dues_month(regular) == (2026, 3)
    thematic = schedule(kind="thematic", start=at(2026, 5, 20), topic="Học tập Nghị quyết")
    assert dues_month(thematic) == (2026, 5)


# --- A member's attendance history ------------------------------------------------------------------


def _held(cast, schedule, month, status, **row):
    m = schedule(start=at(2026, month, 10), period_year=2026, period_month=month)
    services.meeting_open(meeting=m, by=cast.secretary_user)
    services.attendance_record(meeting=m, member=cast.member, status=status, by=cast.secretary_user, **row)
    services.meeting_finish(meeting=m, by=cast.secretary_user, actual_end=at(2026, month, 10, 10))
    return m


def test_member_sees_his_own_history_with_pooled_rate_discipline_and_dues(cast, schedule, client_for):
    from members import services as member_services

    _held(cast, schedule, 1, "present")
    _held(cast, schedule, 2, "unexcused")
    _held(cast, schedule, 3, "unexcused")
    _held(cast, schedule, 4, "online")
    member_services.dues_record(
        member=cast.member, year=2026, month=1, amount=10000, paid_on=D(2026, 1, 10), by=cast.secretary_user
    )
    response = client_for(cast.member_user).get(reverse("meetings:member_attendance", args=[cast.member.uid]))
    assert response.status_code == 200
    year = response.context["years"][0]
    assert (year["year"], year["present"], year["expected"], year["rate_percent"]) == (2026, 2, 4, 50)
    discipline = response.context["discipline"]
    assert discipline["count"].absence_months == (2, 3) and discipline["level"] == "alert"  # unpaid months too
    assert len(response.context["rows"]) == 4 and len(response.context["dues"]) == 1
    assert 'data-testid="discipline-level"' in response.content.decode()


def test_member_history_scope_other_member_404_committee_and_ward_ok(cast, client_for):
    url = reverse("meetings:member_attendance", args=[cast.secretary.uid])
    assert client_for(cast.member_user).get(url).status_code == 404
    assert client_for(cast.outsider_user).get(url).status_code == 404
    own_cell = reverse("meetings:member_attendance", args=[cast.member.uid])
    assert client_for(cast.secretary_user).get(own_cell).status_code == 200
    assert client_for(cast.ward_user).get(url).status_code == 200


def test_member_panel_shows_counters_and_the_last_six_meetings(cast, schedule, rf):
    from meetings.panels_attendance import member_attendance_panel

    for month in range(1, 9):
        _held(cast, schedule, month, "present")
    request = rf.get("/")
    request.user = cast.member_user
    panel = member_attendance_panel(request, cast.member)
    assert panel["template"] == "meetings/panels/member_attendance.html"
    assert [r.meeting.period_month for r in panel["recent"]] == [8, 7, 6, 5, 4, 3]
    assert panel["url"] == reverse("meetings:member_attendance", args=[cast.member.uid])
    from django.template.loader import render_to_string

    html = render_to_string(panel["template"], {"panel": panel, "request": request})
    assert panel["url"] in html and 'data-testid="discipline"' in html
