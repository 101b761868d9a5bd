"""Scheduling, calendar, a meeting's page, agenda, materials and the .ics file (issue 4 parts 1, 2, 9)."""

import datetime
import hashlib
import io
import zipfile

import icalendar
import pytest
import time_machine
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from meetings import services, uploads
from meetings.models import Material, Meeting
from members.panels import home_panels
from tests.factories import MemberFactory
from tests.meetings.conftest import TZ, at

# Before the March 2026 meetings of the tests: no "materials are late" warning gets in the way.
NOW = datetime.datetime(2026, 2, 20, 9, 0, tzinfo=TZ)

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
EXE = b"MZ\x90\x00" + b"\x00" * 64


def office(folder: str, extra: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        package.writestr("[Content_Types].xml", "<Types/>")
        package.writestr(f"{folder}/document.xml", "<x/>")
        if extra:
            package.writestr(extra, "x")
    return buffer.getvalue()


@pytest.fixture(autouse=True)
def _frozen_time():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def en(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def _form(**over):
    data = {
        "kind": "regular",
        "period_month": "",
        "period_year": "",
        "topic": "",
        "date": "2026-03-12",
        "time": "19:30",
        "planned_minutes": "120",
        "place": "Nhà văn hóa khu phố 1",
        "online_link": "",
    }
    data.update(over)
    return data


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- Scheduling ------------------------------------------------------------------------------------


def test_secretary_schedules_a_regular_meeting_for_the_month_of_its_date(cast, en):
    en.force_login(cast.secretary_user)
    response = en.post(reverse("meetings:schedule", args=[cast.cell_a.uid]), _form())
    meeting = Meeting.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("meetings:detail", args=[meeting.uid])
    assert (meeting.kind, meeting.period_month, meeting.period_year) == ("regular", 3, 2026)
    assert meeting.scheduled_start == at(2026, 3, 12, 19, 30)
    assert meeting.created_by == cast.secretary_user and meeting.status == Meeting.Status.SCHEDULED
    assert meeting.agenda.count() == 7  # the standard order of business


def test_thematic_meeting_with_presenters_ticked_from_the_roll(cast, en):
    en.force_login(cast.secretary_user)
    response = en.post(
        reverse("meetings:schedule", args=[cast.cell_a.uid]),
        _form(kind="thematic", topic="Học tập Nghị quyết Đại hội XIV", presenters=[cast.member.pk]),
    )
    assert response.status_code == 302
    meeting = Meeting.objects.get()
    assert meeting.period_month is None and list(meeting.presenters.all()) == [cast.member]
    assert meeting.agenda.filter(key="presentation").exists()


def test_presenters_offered_are_the_members_on_the_cell_roll(cast, en):
    en.force_login(cast.secretary_user)
    response = en.get(reverse("meetings:schedule", args=[cast.cell_a.uid]))
    offered = set(response.context["form"].fields["presenters"].queryset)
    assert offered == {cast.secretary, cast.member}


def test_combined_regular_and_thematic_meeting_needs_its_topic(cast, en):
    en.force_login(cast.secretary_user)
    response = en.post(reverse("meetings:schedule", args=[cast.cell_a.uid]), _form(combined_thematic="on"))
    assert response.status_code == 200
    assert "topic" in response.context["form"].errors
    assert not Meeting.objects.exists()


def test_validation_errors_keep_what_was_typed(cast, en):
    en.force_login(cast.secretary_user)
    response = en.post(
        reverse("meetings:schedule", args=[cast.cell_a.uid]),
        _form(time="", place="Hội trường UBND phường", online_link="meet.example.org/chibo1"),
    )
    assert response.status_code == 200
    assert "time" in response.context["form"].errors
    html = response.content.decode()
    assert 'value="Hội trường UBND phường"' in html and 'value="2026-03-12"' in html
    assert "meet.example.org/chibo1" in html
    assert not Meeting.objects.exists()


def test_a_second_regular_meeting_in_the_month_is_warned_about_not_refused(cast, en, schedule):
    schedule(start=at(2026, 3, 5, 8))
    en.force_login(cast.secretary_user)
    response = en.post(reverse("meetings:schedule", args=[cast.cell_a.uid]), _form(), follow=True)
    assert Meeting.objects.filter(kind="regular", period_month=3).count() == 2
    html = response.content.decode()
    assert "alert-warning" in html and "A regular meeting already exists for 03/2026." in html


def test_no_committee_meeting_in_the_14_days_before_is_warned_until_one_is_scheduled(cast, en, schedule):
    en.force_login(cast.secretary_user)
    response = en.post(reverse("meetings:schedule", args=[cast.cell_a.uid]), _form(), follow=True)
    assert "No committee meeting is scheduled in the 14 days before this meeting." in response.content.decode()

    en.post(reverse("meetings:schedule", args=[cast.cell_a.uid]), _form(kind="committee", date="2026-03-06"))
    regular = Meeting.objects.get(kind="regular")
    assert services.schedule_warnings(regular) == []


def test_warnings_stay_on_the_page_until_the_committee_meeting_is_scheduled(cast, client_for, schedule):
    regular = schedule(start=at(2026, 3, 12, 19, 30))
    client = client_for(cast.secretary_user)
    response = client.get(reverse("meetings:detail", args=[regular.uid]))
    assert response.context["committee_missing"] and response.context["warnings"]
    suggested = reverse("meetings:schedule", args=[cast.cell_a.uid]) + "?kind=committee&amp;date=2026-03-09"
    assert suggested in response.content.decode()
    schedule(kind="committee", start=at(2026, 3, 9, 19, 30))
    response = client.get(reverse("meetings:detail", args=[regular.uid]))
    assert not response.context["committee_missing"] and response.context["warnings"] == []
    # Members are not shown the committee's to-do list.
    assert client_for(cast.member_user).get(reverse("meetings:detail", args=[regular.uid])).context["warnings"] == []


def test_schedule_form_starts_from_the_day_clicked_and_the_usual_place(cast, en, schedule):
    schedule(start=at(2026, 1, 9, 19, 30), place="Nhà văn hóa thôn Đông")
    en.force_login(cast.secretary_user)
    response = en.get(reverse("meetings:schedule", args=[cast.cell_a.uid]) + "?date=2026-03-12&kind=thematic")
    initial = response.context["form"].initial
    assert initial["date"] == datetime.date(2026, 3, 12) and initial["kind"] == "thematic"
    assert initial["place"] == "Nhà văn hóa thôn Đông" and initial["time"] == datetime.time(19, 30)


# --- Who may do what ---------------------------------------------------------------------------------


def test_member_sees_the_meeting_but_cannot_change_it(cast, client_for, schedule):
    meeting = schedule()
    client = client_for(cast.member_user)
    assert client.get(reverse("meetings:detail", args=[meeting.uid])).status_code == 200
    assert client.get(reverse("meetings:calendar", args=[cast.cell_a.uid])).status_code == 200
    assert client.get(reverse("meetings:schedule", args=[cast.cell_a.uid])).status_code == 403
    for name in ("edit", "cancel", "agenda"):
        assert client.get(reverse(f"meetings:{name}", args=[meeting.uid])).status_code == 403, name
    for name in ("edit", "cancel", "open", "finish", "agenda", "material_upload"):
        assert client.post(reverse(f"meetings:{name}", args=[meeting.uid])).status_code == 403, name
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.SCHEDULED


def test_member_page_shows_no_management_buttons(cast, client_for, schedule):
    meeting = schedule()
    html = client_for(cast.member_user).get(reverse("meetings:detail", args=[meeting.uid])).content.decode()
    assert reverse("meetings:open", args=[meeting.uid]) not in html
    assert reverse("meetings:edit", args=[meeting.uid]) not in html
    assert reverse("meetings:ics", args=[meeting.uid]) in html


def test_higher_committee_member_reads_but_gets_403_on_writes(cast, client_for, schedule):
    meeting = schedule()
    client = client_for(cast.ward_user)
    assert client.get(reverse("meetings:detail", args=[meeting.uid])).status_code == 200
    assert client.get(reverse("meetings:edit", args=[meeting.uid])).status_code == 403
    assert client.post(reverse("meetings:schedule", args=[cast.cell_a.uid]), _form()).status_code == 403


def test_member_of_another_cell_gets_404(cast, client_for, schedule):
    meeting = schedule()
    client = client_for(cast.outsider_user)
    assert client.get(reverse("meetings:detail", args=[meeting.uid])).status_code == 404
    assert client.get(reverse("meetings:ics", args=[meeting.uid])).status_code == 404
    assert client.get(reverse("meetings:calendar", args=[cast.cell_a.uid])).status_code == 404


def test_members_do_not_see_committee_meetings(cast, client_for, schedule):
    committee = schedule(kind="committee", start=at(2026, 3, 5, 8))
    client = client_for(cast.member_user)
    assert client.get(reverse("meetings:detail", args=[committee.uid])).status_code == 404
    response = client.get(reverse("meetings:calendar", args=[cast.cell_a.uid]) + "?month=2026-03")
    assert committee.uid not in {m.uid for _, ms in response.context["days"] for m in ms}
    response = client_for(cast.secretary_user).get(
        reverse("meetings:calendar", args=[cast.cell_a.uid]) + "?month=2026-03"
    )
    assert committee.uid in {m.uid for _, ms in response.context["days"] for m in ms}


def test_a_unit_that_is_not_a_cell_has_no_calendar(cast, client_for):
    assert client_for(cast.ward_user).get(reverse("meetings:calendar", args=[cast.ward.uid])).status_code == 404


# --- Edit, cancel, open, finish -------------------------------------------------------------------------


def test_moving_the_meeting_needs_a_reason_kept_in_the_history(cast, en, schedule):
    meeting = schedule(start=at(2026, 3, 12, 19, 30))
    en.force_login(cast.secretary_user)
    url = reverse("meetings:edit", args=[meeting.uid])
    response = en.post(url, _form(date="2026-03-14"))
    assert response.status_code == 200 and "reason" in response.context["form"].errors
    assert 'value="2026-03-14"' in response.content.decode()

    response = en.post(url, _form(date="2026-03-14", reason="Trùng lịch họp của phường"))
    assert response.status_code == 302
    meeting.refresh_from_db()
    assert meeting.scheduled_start == at(2026, 3, 14, 19, 30) and meeting.revision == 1
    assert meeting.history.first().history_change_reason == "Trùng lịch họp của phường"


def test_editing_without_moving_needs_no_reason_and_keeps_the_revision(cast, en, schedule):
    meeting = schedule(start=at(2026, 3, 12, 19, 30))
    en.force_login(cast.secretary_user)
    response = en.post(reverse("meetings:edit", args=[meeting.uid]), _form(online_link="https://meet.example.org/a"))
    assert response.status_code == 302
    meeting.refresh_from_db()
    assert meeting.online_link == "https://meet.example.org/a" and meeting.revision == 0


def test_kind_cannot_change_on_edit(cast, en, schedule):
    meeting = schedule()
    en.force_login(cast.secretary_user)
    en.post(reverse("meetings:edit", args=[meeting.uid]), _form(kind="extraordinary", date="2026-03-12", time="08:00"))
    meeting.refresh_from_db()
    assert meeting.kind == "regular"


def test_cancelling_needs_a_reason(cast, en, schedule):
    meeting = schedule()
    en.force_login(cast.secretary_user)
    url = reverse("meetings:cancel", args=[meeting.uid])
    assert en.get(url).status_code == 200
    response = en.post(url, {"reason": ""})
    assert response.status_code == 200 and "reason" in response.context["form"].errors
    response = en.post(url, {"reason": "Bão số 3, mưa lớn"})
    assert response.status_code == 302
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.CANCELLED and meeting.cancel_reason == "Bão số 3, mưa lớn"
    assert meeting.history.first().history_change_reason == "Bão số 3, mưa lớn"
    html = en.get(reverse("meetings:detail", args=[meeting.uid])).content.decode()
    assert "Bão số 3, mưa lớn" in html


def test_open_then_finish_from_the_meeting_page(cast, en, schedule):
    meeting = schedule(start=NOW + datetime.timedelta(hours=1))
    en.force_login(cast.secretary_user)
    assert en.get(reverse("meetings:open", args=[meeting.uid])).status_code == 405
    response = en.post(reverse("meetings:open", args=[meeting.uid]))
    assert response.status_code == 302
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.IN_PROGRESS and meeting.attendance.count() == 2
    with time_machine.travel(NOW + datetime.timedelta(hours=3), tick=False):
        en.post(reverse("meetings:finish", args=[meeting.uid]))
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.HELD and meeting.duration_minutes == 180


def test_opening_twice_reports_the_service_error(cast, en, schedule):
    meeting = schedule(start=NOW)
    en.force_login(cast.secretary_user)
    en.post(reverse("meetings:open", args=[meeting.uid]))
    response = en.post(reverse("meetings:open", args=[meeting.uid]))
    assert "This meeting has already started." in _messages(response)


def test_closed_meeting_refuses_edits_in_the_service_and_the_page(cast, en, schedule):
    meeting = schedule()
    Meeting.objects.filter(pk=meeting.pk).update(status=Meeting.Status.CLOSED)
    with pytest.raises(ValidationError):
        services.meeting_update(meeting=meeting, by=cast.secretary_user, place="Nơi khác")
    en.force_login(cast.secretary_user)
    response = en.post(reverse("meetings:edit", args=[meeting.uid]), _form(place="Nơi khác"))
    assert response.status_code == 302
    meeting.refresh_from_db()
    assert meeting.place == "Nhà văn hóa khu phố 1"


@pytest.mark.parametrize(
    ("status", "links"),
    [
        ("scheduled", ["meetings:open", "meetings:attendance", "meetings:qr"]),
        ("in_progress", ["meetings:attendance", "meetings:minutes", "meetings:finish"]),
        ("held", ["meetings:minutes", "meetings:close"]),
        ("closed", ["meetings:minutes_pdf"]),
    ],
)
def test_the_secretary_next_action_follows_the_status(cast, client_for, schedule, status, links):
    meeting = schedule()
    Meeting.objects.filter(pk=meeting.pk).update(status=status)
    html = client_for(cast.secretary_user).get(reverse("meetings:detail", args=[meeting.uid])).content.decode()
    for name in links:
        assert reverse(name, args=[meeting.uid]) in html, name


# --- Calendar -------------------------------------------------------------------------------------------


def test_month_view_places_meetings_on_their_days(cast, client_for, schedule):
    regular = schedule(start=at(2026, 3, 12, 19, 30))
    client = client_for(cast.member_user)
    response = client.get(reverse("meetings:calendar", args=[cast.cell_a.uid]) + "?month=2026-03")
    assert response.context["days"] == [(datetime.date(2026, 3, 12), [regular])]
    weeks = response.context["weeks"]
    assert all(len(week) == 7 for week in weeks) and weeks[0][0][0].weekday() == 0  # Monday first
    assert "19:30" in response.content.decode()
    assert response.context["previous"] == datetime.date(2026, 2, 1)
    assert response.context["following"] == datetime.date(2026, 4, 1)


def test_empty_month_shows_the_empty_state(cast, client_for):
    response = client_for(cast.secretary_user).get(reverse("meetings:calendar", args=[cast.cell_a.uid]))
    assert response.status_code == 200 and 'data-testid="empty"' in response.content.decode()


def test_list_view_splits_upcoming_and_past_and_pages_by_20(cast, client_for, schedule):
    for day in range(1, 26):
        schedule(kind="extraordinary", start=at(2026, 3, day, 8))
    schedule(kind="extraordinary", start=at(2026, 1, 15, 8))
    client = client_for(cast.member_user)
    url = reverse("meetings:calendar", args=[cast.cell_a.uid])
    upcoming = client.get(url + "?view=upcoming").context["page"]
    assert len(upcoming.object_list) == 20 and upcoming.paginator.count == 25
    assert upcoming.object_list[0].scheduled_start == at(2026, 3, 1, 8)
    past = client.get(url + "?view=past").context["page"]
    assert [m.scheduled_start for m in past.object_list] == [at(2026, 1, 15, 8)]


def _many_meetings(cast, n):
    meetings = [
        Meeting(
            unit=cast.cell_a,
            kind="extraordinary",
            scheduled_start=at(2026, 3, 1 + i % 28, 7 + i % 12),
            place=f"Phòng {i}",
            status=["scheduled", "held", "closed", "cancelled"][i % 4],
        )
        for i in range(n)
    ]
    Meeting.objects.bulk_create(meetings)


@pytest.mark.parametrize("view", ["month", "upcoming", "past"])
def test_calendar_query_count_does_not_grow_with_meetings(cast, client_for, count_queries, view):
    client = client_for(cast.secretary_user)
    url = reverse("meetings:calendar", args=[cast.cell_a.uid]) + f"?view={view}&month=2026-03"
    _many_meetings(cast, 1)
    few, _ = count_queries(lambda: client.get(url))
    _many_meetings(cast, 60)
    many, response = count_queries(lambda: client.get(url))
    assert response.status_code == 200
    assert many == few and many <= 12


@pytest.mark.parametrize("who", ["member_user", "secretary_user"])
def test_detail_query_count_does_not_grow_with_rows(cast, client_for, count_queries, schedule, who):
    meeting = schedule(kind="thematic", topic="Chuyển đổi số", presenters=[cast.member, cast.secretary])
    client = client_for(getattr(cast, who))
    url = reverse("meetings:detail", args=[meeting.uid])
    few, _ = count_queries(lambda: client.get(url))
    for i in range(20):
        services.agenda_item_add(meeting=meeting, title=f"Nội dung {i}", by=cast.secretary_user)
        Material.objects.create(
            meeting=meeting,
            original_name=f"{i}.pdf",
            content_type="application/pdf",
            size=1,
            sha256="0" * 64,
            uploaded_by=cast.secretary_user,
            file=f"materials/{i}.pdf",
        )
    for _ in range(10):
        meeting.presenters.add(MemberFactory(cell=cast.cell_a))
    many, response = count_queries(lambda: client.get(url))
    assert response.status_code == 200 and many == few and many <= 20


# --- Agenda -----------------------------------------------------------------------------------------------


def test_reorder_posts_the_new_order(cast, en, schedule):
    meeting = schedule()
    items = list(meeting.agenda.all())
    en.force_login(cast.secretary_user)
    page = en.get(reverse("meetings:agenda", args=[meeting.uid]))
    first, up, down = page.context["rows"][0]
    assert up is None and down == ",".join(str(i.pk) for i in [items[1], items[0], *items[2:]])
    response = en.post(reverse("meetings:agenda", args=[meeting.uid]), {"action": "reorder", "order": down})
    assert response.status_code == 302
    assert list(meeting.agenda.values_list("pk", flat=True)) == [items[1].pk, items[0].pk, *[i.pk for i in items[2:]]]
    assert [i.order for i in meeting.agenda.all()] == list(range(1, 8))


def test_reorder_from_a_stale_page_is_refused(cast, en, schedule):
    meeting = schedule()
    stale = ",".join(str(pk) for pk in meeting.agenda.values_list("pk", flat=True))
    services.agenda_item_add(meeting=meeting, title="Góp ý dự thảo", by=cast.secretary_user)
    en.force_login(cast.secretary_user)
    response = en.post(reverse("meetings:agenda", args=[meeting.uid]), {"action": "reorder", "order": stale})
    assert response.status_code == 200
    assert "The new order must list every agenda item once." in response.context["errors"]


def test_agenda_add_rename_and_remove(cast, en, schedule):
    meeting = schedule()
    en.force_login(cast.secretary_user)
    url = reverse("meetings:agenda", args=[meeting.uid])
    en.post(url, {"action": "add", "title": "Kiểm điểm thu đảng phí"})
    added = meeting.agenda.get(title="Kiểm điểm thu đảng phí")
    assert added.order == 8
    en.post(url, {"action": "rename", "item": added.pk, "version": added.version, "title": "Thu đảng phí quý I"})
    added.refresh_from_db()
    assert added.title == "Thu đảng phí quý I"
    en.post(url, {"action": "remove", "item": added.pk})
    assert not meeting.agenda.filter(pk=added.pk).exists()


def test_agenda_rename_with_an_old_version_is_a_conflict(cast, en, schedule):
    meeting = schedule()
    item = meeting.agenda.first()
    services.agenda_item_save(item=item, base_version=0, title="Khai mạc", by=cast.secretary_user)
    en.force_login(cast.secretary_user)
    response = en.post(
        reverse("meetings:agenda", args=[meeting.uid]),
        {"action": "rename", "item": item.pk, "version": 0, "title": "Tên khác"},
    )
    assert response.status_code == 200 and response.context["errors"]
    item.refresh_from_db()
    assert item.title == "Khai mạc"


def test_item_with_minutes_is_not_removed(cast, en, schedule):
    meeting = schedule()
    item = meeting.agenda.first()
    services.agenda_item_save(item=item, base_version=0, content="Đã ghi biên bản", by=cast.secretary_user)
    en.force_login(cast.secretary_user)
    response = en.post(reverse("meetings:agenda", args=[meeting.uid]), {"action": "remove", "item": item.pk})
    assert "This item already has minutes; clear them before removing it." in response.context["errors"]
    assert meeting.agenda.filter(pk=item.pk).exists()


def test_empty_new_item_keeps_the_page_with_an_error(cast, en, schedule):
    meeting = schedule()
    en.force_login(cast.secretary_user)
    response = en.post(reverse("meetings:agenda", args=[meeting.uid]), {"action": "add", "title": "  "})
    assert response.status_code == 200 and response.context["errors"]
    assert meeting.agenda.count() == 7


def test_agenda_htmx_request_gets_the_list_fragment(cast, en, schedule):
    meeting = schedule()
    en.force_login(cast.secretary_user)
    response = en.post(
        reverse("meetings:agenda", args=[meeting.uid]), {"action": "add", "title": "Việc khác"}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert response.status_code == 200 and html.lstrip().startswith('<div id="agenda-list">')
    assert "Việc khác" in html and "<html" not in html


def test_agenda_is_shown_on_the_meeting_page(cast, client_for, schedule):
    meeting = schedule()
    services.agenda_item_add(meeting=meeting, title="Biểu dương đảng viên tiêu biểu", by=cast.secretary_user)
    html = client_for(cast.member_user).get(reverse("meetings:detail", args=[meeting.uid])).content.decode()
    assert "Biểu dương đảng viên tiêu biểu" in html


# --- Materials -----------------------------------------------------------------------------------------


def _upload(client, meeting, name, content, content_type="application/octet-stream"):
    return client.post(
        reverse("meetings:material_upload", args=[meeting.uid]),
        {"file": SimpleUploadedFile(name, content, content_type=content_type)},
    )


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("Dự thảo nghị quyết.pdf", PDF, "application/pdf"),
        ("bao-cao.docx", office("word"), uploads.DOCX.content_type),
        ("dang-phi.xlsx", office("xl"), uploads.XLSX.content_type),
        ("anh.JPG", JPEG, "image/jpeg"),
        ("so-do.png", PNG, "image/png"),
    ],
)
def test_accepted_materials_are_stored_with_their_hash(
    cast, en, schedule, settings, tmp_path, name, content, content_type
):
    settings.MEDIA_ROOT = tmp_path
    meeting = schedule()
    en.force_login(cast.secretary_user)
    response = _upload(en, meeting, name, content)
    assert response.status_code == 302
    material = meeting.materials.get()
    assert material.content_type == content_type and material.size == len(content)
    assert material.sha256 == hashlib.sha256(content).hexdigest()
    assert material.original_name.lower() == name.lower()
    assert material.file.name.startswith("materials/") and name not in material.file.name


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("du-thao.pdf", PNG, "does not match its content"),
        ("du-thao.pdf", EXE, "Only PDF"),
        ("setup.exe", EXE, "Only PDF"),
        ("anh.png", PDF, "does not match its content"),
        ("bang.xlsx", office("word"), "does not match its content"),
        ("macro.docx", office("word", "word/vbaProject.bin"), "Only PDF"),
        ("nen.docx", office("other"), "Only PDF"),
        ("rong.pdf", b"", "empty"),
    ],
)
def test_materials_are_checked_by_content(cast, en, schedule, settings, tmp_path, name, content, reason):
    settings.MEDIA_ROOT = tmp_path
    meeting = schedule()
    en.force_login(cast.secretary_user)
    response = _upload(en, meeting, name, content)
    assert response.status_code == 400
    assert reason in " ".join(response.context["material_form"].errors["file"])
    assert not meeting.materials.exists()


def test_materials_over_the_size_limit_are_refused(cast, en, schedule, settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = tmp_path
    monkeypatch.setattr(uploads, "MAX_MATERIAL_BYTES", 1024)
    meeting = schedule()
    en.force_login(cast.secretary_user)
    response = _upload(en, meeting, "lon.pdf", PDF + b"0" * 1024)
    assert response.status_code == 400 and "the limit is 1.0" in response.content.decode()
    assert _upload(en, meeting, "nho.pdf", PDF).status_code == 302


def test_the_limit_is_10_mb():
    assert uploads.MAX_MATERIAL_BYTES == 10 * 1024 * 1024


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("C:\\Users\\Hằng\\Dự thảo.PDF", "Dự thảo.pdf"),
        ('bao"cao;\r\nX-Evil: 1.pdf', "bao cao X-Evil 1.pdf"),
        ("Du\u0323 tha\u0309o.pdf", "Dụ thảo.pdf"),
    ],
)
def test_original_names_are_sanitised(raw, clean):
    import unicodedata

    assert uploads.clean_name(raw) == unicodedata.normalize("NFC", clean)


def test_material_download_requires_scope_and_names_the_file(cast, client_for, schedule, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    meeting = schedule()
    material = uploads.material_add(
        meeting=meeting, upload=SimpleUploadedFile("Dự thảo NQ.pdf", PDF), by=cast.secretary_user
    )
    url = reverse("meetings:material", args=[material.uid])
    assert client_for(cast.outsider_user).get(url).status_code == 404
    response = client_for(cast.member_user).get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert (
        response["Content-Disposition"].startswith("attachment;")
        and "D%E1%BB%B1%20th%E1%BA%A3o%20NQ.pdf" in (response["Content-Disposition"])
    )
    assert response["X-Content-Type-Options"] == "nosniff"


def test_committee_meeting_materials_are_hidden_from_members(cast, client_for, schedule, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    meeting = schedule(kind="committee")
    material = uploads.material_add(meeting=meeting, upload=SimpleUploadedFile("a.pdf", PDF), by=cast.secretary_user)
    assert client_for(cast.member_user).get(reverse("meetings:material", args=[material.uid])).status_code == 404


def test_material_delete_asks_first_and_is_for_the_committee(
    cast, client_for, schedule, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    meeting = schedule()
    material = uploads.material_add(meeting=meeting, upload=SimpleUploadedFile("a.pdf", PDF), by=cast.secretary_user)
    path = tmp_path / material.file.name
    url = reverse("meetings:material_delete", args=[material.uid])
    assert client_for(cast.member_user).post(url).status_code == 403
    client = client_for(cast.secretary_user)
    assert client.get(url).status_code == 200 and Material.objects.filter(pk=material.pk).exists()
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url).status_code == 302
    assert not Material.objects.filter(pk=material.pk).exists()
    assert not path.exists()


def test_closed_meeting_takes_no_materials(cast, en, schedule, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    meeting = schedule()
    Meeting.objects.filter(pk=meeting.pk).update(status=Meeting.Status.CLOSED)
    en.force_login(cast.secretary_user)
    response = _upload(en, meeting, "a.pdf", PDF)
    assert response.status_code == 400 and not meeting.materials.exists()


# --- .ics ----------------------------------------------------------------------------------------------


def _event(response):
    calendar = icalendar.Calendar.from_ical(response.content)
    (event,) = calendar.walk("VEVENT")
    return calendar, event


def test_ics_is_a_valid_calendar_in_hanoi_time(cast, client_for, schedule):
    meeting = schedule(start=at(2026, 3, 12, 19, 30), planned_minutes=120, online_link="https://meet.example.org/kp1")
    response = client_for(cast.member_user).get(reverse("meetings:ics", args=[meeting.uid]))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    assert response["Content-Disposition"] == 'attachment; filename="sinh-hoat-2026-03-12.ics"'
    calendar, event = _event(response)
    assert calendar["METHOD"] == "PUBLISH" and calendar.walk("VTIMEZONE")[0]["TZID"] == "Asia/Ho_Chi_Minh"
    assert str(event["UID"]) == f"meeting-{meeting.uid}@chibo"
    assert event["SEQUENCE"] == 0
    start, end = event.decoded("DTSTART"), event.decoded("DTEND")
    assert str(start.tzinfo) == "Asia/Ho_Chi_Minh" and start.replace(tzinfo=None) == datetime.datetime(
        2026, 3, 12, 19, 30
    )
    assert end - start == datetime.timedelta(minutes=120)
    assert str(event["SUMMARY"]) == "Sinh hoạt chi bộ định kỳ tháng 3/2026 — Chi bộ Khu phố 1"
    assert str(event["LOCATION"]) == "Nhà văn hóa khu phố 1"
    assert str(event["URL"]).endswith(reverse("meetings:detail", args=[meeting.uid]))
    assert "https://meet.example.org/kp1" in str(event["DESCRIPTION"])
    assert str(event["STATUS"]) == "CONFIRMED"


def test_ics_sequence_follows_changes_and_status_follows_cancelling(cast, client_for, schedule):
    meeting = schedule()
    meeting = services.meeting_update(meeting=meeting, by=cast.secretary_user, scheduled_start=at(2026, 3, 13, 8))
    meeting = services.meeting_cancel(meeting=meeting, reason="Bão", by=cast.secretary_user)
    _, event = _event(client_for(cast.member_user).get(reverse("meetings:ics", args=[meeting.uid])))
    assert event["SEQUENCE"] == 2 and str(event["STATUS"]) == "CANCELLED"
    assert str(event["UID"]) == f"meeting-{meeting.uid}@chibo"


def test_ics_summaries_by_kind(cast, schedule):
    from meetings.ics import meeting_summary

    assert meeting_summary(schedule(kind="thematic", topic="Chuyển đổi số")) == (
        "Sinh hoạt chuyên đề: Chuyển đổi số — Chi bộ Khu phố 1"
    )
    assert meeting_summary(schedule(kind="committee")) == "Họp chi ủy — Chi bộ Khu phố 1"
    combined = schedule(combined_thematic=True, topic="Học tập Bác", start=at(2026, 4, 9, 8))
    assert (
        meeting_summary(combined)
        == "Sinh hoạt chi bộ định kỳ tháng 4/2026 kết hợp chuyên đề: Học tập Bác — Chi bộ Khu phố 1"
    )


def test_ics_for_invitations_can_be_request_or_cancel(cast, schedule):
    from meetings.ics import meeting_ics

    meeting = schedule()
    request = icalendar.Calendar.from_ical(meeting_ics(meeting, "REQUEST", organizer="chibo@example.org"))
    assert request["METHOD"] == "REQUEST"
    assert str(request.walk("VEVENT")[0]["ORGANIZER"]) == "mailto:chibo@example.org"
    cancel = icalendar.Calendar.from_ical(meeting_ics(meeting, "CANCEL"))
    assert cancel["METHOD"] == "CANCEL" and str(cancel.walk("VEVENT")[0]["STATUS"]) == "CANCELLED"


# --- Home panel ----------------------------------------------------------------------------------------


def _panel(rf, user, cells):
    request = rf.get("/")
    request.user = user
    (panel,) = [p for p in home_panels(request, my_cells=cells, managed_cells=[]) if "rows" in p]
    return panel


def test_home_panel_shows_a_member_the_next_meeting(cast, rf, schedule):
    schedule(start=at(2026, 2, 10, 8))  # past
    coming = schedule(start=at(2026, 3, 12, 19, 30))
    schedule(kind="committee", start=at(2026, 3, 2, 8))  # not for members
    (row,) = _panel(rf, cast.member_user, [cast.cell_a])["rows"]
    assert row["meeting"] == coming and row["action"] is None


def test_home_panel_tells_the_secretary_to_schedule_this_month_then_to_open_today(cast, rf, schedule):
    (row,) = _panel(rf, cast.secretary_user, [cast.cell_a])["rows"]
    assert row["meeting"] is None and row["action"] == "schedule_regular"
    today = schedule(start=NOW + datetime.timedelta(hours=2), period_month=2, period_year=2026)
    (row,) = _panel(rf, cast.secretary_user, [cast.cell_a])["rows"]
    assert row["meeting"] == today and row["action"] == "open_today"


def test_home_page_renders_the_panel(cast, client_for, schedule):
    meeting = schedule(start=at(2026, 3, 12, 19, 30))
    html = client_for(cast.member_user).get(reverse("members:home")).content.decode()
    assert 'data-testid="next-meeting-panel"' in html and reverse("meetings:detail", args=[meeting.uid]) in html
