"""The minutes pages (DOMAIN.md "Documents" minutes, "Counting" votes): header, autosaved item
text with its version check, speakers, votes, the duration warning, closing, addenda and the
signed scan; who may read and who may write."""

import datetime
import importlib.util

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.html import escape

from meetings import services
from meetings.models import Addendum, AgendaItem, Meeting, Speech, Vote
from tests.factories import MemberFactory
from tests.meetings.conftest import at

HTMX = {"HTTP_HX_REQUEST": "true"}
JSON = {"HTTP_ACCEPT": "application/json"}
PDF_BYTES = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
needs_pdf = pytest.mark.skipif(
    importlib.util.find_spec("meetings.pdf") is None, reason="meetings/pdf.py (render_minutes_pdf) is not there yet"
)


def url(name, meeting, *args):
    return reverse(f"meetings:{name}", args=[meeting.uid, *args])


@pytest.fixture
def held(cast, schedule):
    """A regular meeting in progress: the roll taken, the secretary and the member present."""
    meeting = schedule()
    services.meeting_open(meeting=meeting, by=cast.secretary_user)
    for member in (cast.secretary, cast.member):
        services.attendance_record(meeting=meeting, member=member, status="present", by=cast.secretary_user)
    return Meeting.objects.get(pk=meeting.pk)


@pytest.fixture
def ready(cast, held):
    """`held` with the header filled in: nothing stops the closing."""
    return services.minutes_header_save(
        meeting=held,
        chair=cast.secretary,
        minutes_secretary=cast.member,
        actual_start=at(2026, 3, 12, 8),
        actual_end=at(2026, 3, 12, 10),
        by=cast.secretary_user,
    )


def close_without_pdf(meeting):
    # The read-only rules do not depend on the PDF: mark the minutes closed the way the service does.
    Meeting.objects.filter(pk=meeting.pk).update(status=Meeting.Status.CLOSED, closed_at=at(2026, 3, 12, 11))
    return Meeting.objects.get(pk=meeting.pk)


# --- Reading ---------------------------------------------------------------------------------------


def test_secretary_gets_the_editable_minutes_page_with_every_agenda_item(cast, client_for, held):
    response = client_for(cast.secretary_user).get(url("minutes", held))
    assert response.status_code == 200
    html = response.content.decode()
    for item in held.agenda.all():
        assert escape(item.title) in html
        assert reverse("meetings:item_save", args=[held.uid, item.pk]) in html
    assert "js/autosave.js" in html
    assert 'name="chair"' in html and "Lê Văn Đức" in html  # chosen from the roll


def test_member_of_the_cell_sees_a_not_closed_yet_page_before_closing(cast, client_for, held):
    item = held.agenda.first()
    services.agenda_item_save(item=item, base_version=0, content="Nội dung nháp", by=cast.secretary_user)
    response = client_for(cast.member_user).get(url("minutes", held))
    assert response.status_code == 200
    assert b"minutes-not-closed" in response.content
    assert "Nội dung nháp" not in response.content.decode()


def test_member_of_the_cell_reads_closed_minutes_but_cannot_write(cast, client_for, held):
    item = held.agenda.first()
    services.agenda_item_save(item=item, base_version=0, content="Đã thống nhất", by=cast.secretary_user)
    meeting = close_without_pdf(held)
    client = client_for(cast.member_user)
    response = client.get(url("minutes", meeting))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Đã thống nhất" in html and "data-autosave" not in html and "<textarea" not in html
    assert client.post(url("item_save", meeting, item.pk), {"version": 1, "content": "x"}).status_code == 403
    assert client.post(url("vote_add", meeting), {"subject": "x", "votes_for": 1}).status_code == 403
    assert client.get(url("close", meeting)).status_code == 403
    assert client.post(url("addendum_add", meeting), {"text": "x"}).status_code == 403


def test_ward_committee_member_reads_the_draft_minutes_but_cannot_write(cast, client_for, held):
    item = held.agenda.first()
    services.agenda_item_save(item=item, base_version=0, content="Nội dung nháp", by=cast.secretary_user)
    client = client_for(cast.ward_user)
    response = client.get(url("minutes", held))
    assert response.status_code == 200
    assert "Nội dung nháp" in response.content.decode() and "data-autosave" not in response.content.decode()
    assert client.post(url("item_save", held, item.pk), {"version": 1, "content": "x"}).status_code == 403
    assert client.post(url("minutes_header", held), {}).status_code == 403


def test_member_of_other_cell_gets_404(cast, client_for, held):
    client = client_for(cast.outsider_user)
    item = held.agenda.first()
    assert client.get(url("minutes", held)).status_code == 404
    assert client.post(url("item_save", held, item.pk), {"version": 0, "content": "x"}).status_code == 404


def test_rows_of_another_meeting_are_404_through_this_meeting(cast, client_for, held, schedule):
    other = schedule(start=at(2026, 4, 9))
    other_item = other.agenda.first()
    speech = Speech.objects.create(item=other_item, member=cast.member, summary="Ý kiến")
    vote = Vote.objects.create(meeting=other, subject="NQ", votes_for=1, voting_base=2)
    client = client_for(cast.secretary_user)
    assert client.post(url("item_save", held, other_item.pk), {"version": 0, "content": "x"}).status_code == 404
    assert client.post(url("speech_remove", held, speech.pk)).status_code == 404
    assert client.post(url("vote_remove", held, vote.pk)).status_code == 404
    assert Speech.objects.filter(pk=speech.pk).exists() and Vote.objects.filter(pk=vote.pk).exists()


def test_minutes_page_query_count_does_not_grow_with_speeches_and_votes(cast, client_for, held, count_queries):
    client = client_for(cast.secretary_user)
    client.get(url("minutes", held))  # warm the session and the user's grants

    def add_rows(n):
        for item in held.agenda.all():
            for i in range(n):
                Speech.objects.create(item=item, member=cast.member, summary=f"Ý kiến {i}")
                Speech.objects.create(item=item, speaker_name=f"Khách {i}", summary="Ý kiến khách")
        for i in range(n):
            Vote.objects.create(meeting=held, subject=f"NQ {i}", votes_for=1, voting_base=2)

    add_rows(1)
    few, _ = count_queries(lambda: client.get(url("minutes", held)))
    add_rows(5)
    many, response = count_queries(lambda: client.get(url("minutes", held)))
    assert response.status_code == 200
    assert many == few
    assert many <= 25


# --- Header and duration -----------------------------------------------------------------------------


def test_header_is_saved_through_htmx_and_the_partial_comes_back(cast, client_for, held):
    data = {
        "chair": cast.secretary.pk,
        "minutes_secretary": cast.member.pk,
        "actual_start": "2026-03-12T08:00",
        "actual_end": "2026-03-12T10:00",
    }
    response = client_for(cast.secretary_user).post(url("minutes_header", held), data, **HTMX)
    assert response.status_code == 200
    assert b'id="minutes-header"' in response.content and b"<html" not in response.content
    meeting = Meeting.objects.get(pk=held.pk)
    assert (meeting.chair, meeting.minutes_secretary) == (cast.secretary, cast.member)
    assert (meeting.actual_start, meeting.actual_end) == (at(2026, 3, 12, 8), at(2026, 3, 12, 10))
    assert meeting.minutes_version == held.minutes_version + 1


def test_header_without_htmx_redirects_back_to_the_minutes(cast, client_for, held):
    data = {"chair": cast.secretary.pk, "actual_start": "2026-03-12T08:00", "actual_end": "2026-03-12T10:00"}
    response = client_for(cast.secretary_user).post(url("minutes_header", held), data)
    assert response.status_code == 302 and response["Location"].endswith("#minutes-header")
    assert Meeting.objects.get(pk=held.pk).chair == cast.secretary


def test_header_error_keeps_what_was_typed(cast, client_for, held):
    data = {"chair": cast.member.pk, "actual_start": "2026-03-12T10:00", "actual_end": "2026-03-12T08:00"}
    client = client_for(cast.secretary_user)
    for extra in (HTMX, {}):
        response = client.post(url("minutes_header", held), data, **extra)
        assert response.status_code == 400
        html = response.content.decode()
        assert 'value="2026-03-12T10:00"' in html and 'value="2026-03-12T08:00"' in html
        assert f'value="{cast.member.pk}" selected' in html
    assert Meeting.objects.get(pk=held.pk).chair is None


def test_header_chair_must_be_on_the_roll(cast, client_for, held):
    response = client_for(cast.secretary_user).post(url("minutes_header", held), {"chair": cast.outsider.pk}, **HTMX)
    assert response.status_code == 400
    assert Meeting.objects.get(pk=held.pk).chair is None


@pytest.mark.parametrize(
    ("combined", "minutes", "warned"),
    [(False, 60, True), (False, 89, True), (False, 90, False), (True, 100, True), (True, 120, False)],
)
def test_duration_under_the_minimum_is_a_warning_not_a_block(cast, client_for, schedule, combined, minutes, warned):
    # HD 42: at least 90 minutes, 120 when a regular and a thematic meeting are combined.
    meeting = schedule(combined_thematic=combined, topic="Học tập chuyên đề" if combined else "")
    start = at(2026, 3, 12, 8)
    data = {"actual_start": "2026-03-12T08:00", "actual_end": (start + datetime.timedelta(minutes=minutes))}
    data["actual_end"] = data["actual_end"].strftime("%Y-%m-%dT%H:%M")
    response = client_for(cast.secretary_user).post(url("minutes_header", meeting), data, **HTMX)
    assert response.status_code == 200  # saved all the same
    assert (b"duration-warning" in response.content) is warned
    assert Meeting.objects.get(pk=meeting.pk).duration_minutes == minutes
    page = client_for(cast.secretary_user).get(url("minutes", meeting))
    assert (b"duration-warning" in page.content) is warned


# --- Item text: autosave with a version ----------------------------------------------------------------


def test_item_save_with_the_right_version_answers_200_and_the_next_version(cast, client_for, held):
    item = held.agenda.get(order=2)
    response = client_for(cast.secretary_user).post(
        url("item_save", held, item.pk),
        {"version": 0, "content": "Phổ biến Nghị quyết", "conclusion": "Nhất trí"},
        **JSON,
    )
    assert response.status_code == 200
    body = response.json()
    assert body["version"] == 1 and len(body["saved_at"]) == 5
    item.refresh_from_db()
    assert (item.content, item.conclusion, item.version, item.updated_by) == (
        "Phổ biến Nghị quyết",
        "Nhất trí",
        1,
        cast.secretary_user,
    )
    second = client_for(cast.secretary_user).post(
        url("item_save", held, item.pk), {"version": 1, "content": "B"}, **JSON
    )
    assert second.json()["version"] == 2


def test_item_save_with_a_stale_version_answers_409_with_the_saved_text_and_overwrites_nothing(cast, client_for, held):
    item = held.agenda.get(order=2)
    services.agenda_item_save(item=item, base_version=0, content="Văn bản của chị Hằng", by=cast.secretary_user)
    response = client_for(cast.secretary_user).post(
        url("item_save", held, item.pk), {"version": 0, "content": "Văn bản của tôi", "conclusion": ""}, **JSON
    )
    assert response.status_code == 409
    body = response.json()
    assert body == {
        "conflict": True,
        "version": 1,
        "content": "Văn bản của chị Hằng",
        "conclusion": "",
        "updated_by": "Trần Thị Hằng",
    }
    item.refresh_from_db()
    assert (item.content, item.version) == ("Văn bản của chị Hằng", 1)
    # "Keep mine": the editor saves again on the version it was shown.
    again = client_for(cast.secretary_user).post(
        url("item_save", held, item.pk), {"version": 1, "content": "Văn bản của tôi"}, **JSON
    )
    assert again.status_code == 200
    item.refresh_from_db()
    assert (item.content, item.version) == ("Văn bản của tôi", 2)


def test_item_save_without_javascript_shows_both_texts_on_a_conflict(cast, client_for, held):
    item = held.agenda.get(order=2)
    services.agenda_item_save(item=item, base_version=0, content="Đã lưu trước", by=cast.secretary_user)
    client = client_for(cast.secretary_user)
    response = client.post(url("item_save", held, item.pk), {"version": 0, "content": "Đang gõ", "conclusion": ""})
    assert response.status_code == 409
    html = response.content.decode()
    assert "Đang gõ</textarea>" in html and "Đã lưu trước" in html
    assert f'name="version" value="{item.version + 1}"' in html
    ok = client.post(url("item_save", held, item.pk), {"version": 1, "content": "Đang gõ", "conclusion": ""})
    assert ok.status_code == 302 and ok["Location"].endswith(f"#item-{item.pk}")
    item.refresh_from_db()
    assert item.content == "Đang gõ"


def test_item_save_only_takes_the_item_text(cast, client_for, held):
    item = held.agenda.get(order=2)
    client_for(cast.secretary_user).post(
        url("item_save", held, item.pk), {"version": 0, "content": "x", "title": "Đổi tên"}, **JSON
    )
    item.refresh_from_db()
    assert item.title != "Đổi tên" and item.content == "x"


# --- Speakers -------------------------------------------------------------------------------------------


def test_speeches_are_added_and_removed_through_htmx(cast, client_for, held):
    item = held.agenda.get(order=5)
    client = client_for(cast.secretary_user)
    response = client.post(
        url("speech_add", held, item.pk), {"member": cast.member.pk, "summary": "Đề nghị tăng cường"}, **HTMX
    )
    assert response.status_code == 200
    assert f'id="speeches-{item.pk}"'.encode() in response.content and b"<html" not in response.content
    assert "Lê Văn Đức" in response.content.decode()
    response = client.post(
        url("speech_add", held, item.pk), {"speaker_name": "Đại biểu Đảng ủy phường", "summary": "Ghi nhận"}, **HTMX
    )
    assert response.status_code == 200
    speeches = list(item.speeches.all())
    assert [(s.member, s.speaker_name, s.summary) for s in speeches] == [
        (cast.member, "", "Đề nghị tăng cường"),
        (None, "Đại biểu Đảng ủy phường", "Ghi nhận"),
    ]
    response = client.post(url("speech_remove", held, speeches[0].pk), **HTMX)
    assert response.status_code == 200
    assert list(item.speeches.all()) == [speeches[1]]
    assert "Đề nghị tăng cường" not in response.content.decode()


def test_speech_without_speaker_is_refused_and_keeps_the_opinion(cast, client_for, held):
    item = held.agenda.get(order=5)
    response = client_for(cast.secretary_user).post(
        url("speech_add", held, item.pk), {"summary": "Ý kiến chưa có tên"}, **HTMX
    )
    assert response.status_code == 400
    assert "Ý kiến chưa có tên</textarea>" in response.content.decode()
    assert not item.speeches.exists()


def test_speaker_must_be_on_the_roll(cast, client_for, held):
    item = held.agenda.get(order=5)
    response = client_for(cast.secretary_user).post(
        url("speech_add", held, item.pk), {"member": cast.outsider.pk, "summary": "x"}, **HTMX
    )
    assert response.status_code == 400 and not item.speeches.exists()


# --- Votes -----------------------------------------------------------------------------------------------


def test_vote_is_recorded_against_the_voting_base_and_shows_passed(cast, client_for, held):
    response = client_for(cast.secretary_user).post(
        url("vote_add", held),
        {"subject": "Nghị quyết tháng 3", "votes_for": 2, "votes_against": 0, "votes_other": 0},
        **HTMX,
    )
    assert response.status_code == 200
    assert b'id="votes"' in response.content
    vote = held.votes.get()
    assert (vote.votes_for, vote.voting_base, vote.passed) == (2, 2, True)
    assert b"text-bg-success" in response.content


def test_vote_beyond_the_full_members_present_is_refused_and_probationary_members_do_not_count(cast, client_for, held):
    probationary = MemberFactory(
        full_name="Ngô Thị Dự Bị", cell=cast.cell_a, admitted_on=datetime.date(2025, 6, 1), full_member_on=None
    )
    services.attendance_sync(meeting=held)
    services.attendance_record(meeting=held, member=probationary, status="present", by=cast.secretary_user)
    counts = services.counts_for(held)
    assert (counts.present, counts.full_present, counts.voting_base) == (3, 2, 2)

    data = {"subject": "Nghị quyết tháng 3", "votes_for": 3, "votes_against": 0, "votes_other": 0}
    response = client_for(cast.secretary_user).post(url("vote_add", held), data, **HTMX)
    assert response.status_code == 400
    html = response.content.decode()
    assert "vote-error" in html and "(2)" in html  # the service's message: full members present
    assert 'value="Nghị quyết tháng 3"' in html and 'name="votes_for" value="3"' in html
    assert not held.votes.exists()


def test_vote_for_half_of_the_base_does_not_pass(cast, client_for, held):
    for _ in range(2):
        member = MemberFactory(cell=cast.cell_a)
        services.attendance_sync(meeting=held)
        services.attendance_record(meeting=held, member=member, status="present", by=cast.secretary_user)
    data = {"subject": "Kết luận", "votes_for": 2, "votes_against": 2, "votes_other": 0}
    response = client_for(cast.secretary_user).post(url("vote_add", held), data, **HTMX)
    assert response.status_code == 200
    vote = held.votes.get()
    assert (vote.voting_base, vote.passed) == (4, False)
    assert b"text-bg-danger" in response.content


def test_vote_is_removed(cast, client_for, held):
    vote = services.vote_record(meeting=held, subject="NQ", votes_for=2, by=cast.secretary_user)
    response = client_for(cast.secretary_user).post(url("vote_remove", held, vote.pk), **HTMX)
    assert response.status_code == 200 and not held.votes.exists()


def test_vote_form_without_htmx_redirects_or_keeps_the_figures(cast, client_for, held):
    client = client_for(cast.secretary_user)
    bad = client.post(url("vote_add", held), {"subject": "NQ", "votes_for": 9, "votes_against": 0, "votes_other": 0})
    assert bad.status_code == 400 and b'name="votes_for" value="9"' in bad.content
    good = client.post(url("vote_add", held), {"subject": "NQ", "votes_for": 2, "votes_against": 0, "votes_other": 0})
    assert good.status_code == 302 and good["Location"].endswith("#votes")


# --- Closing ----------------------------------------------------------------------------------------------


def test_close_checklist_lists_what_is_missing_with_links_to_fix_it(cast, client_for, held):
    response = client_for(cast.secretary_user).get(url("close", held))
    assert response.status_code == 200
    html = response.content.decode()
    for problem in services.close_problems(held):
        assert problem in html
    assert f"{url('minutes', held)}#minutes-header" in html
    assert '<button type="submit" class="btn btn-danger">' not in html  # no button while problems remain


def test_close_checklist_points_to_the_attendance_page_for_unrecorded_members(cast, client_for, ready):
    MemberFactory(full_name="Chưa Điểm Danh", cell=cast.cell_a)
    services.attendance_sync(meeting=ready)
    html = client_for(cast.secretary_user).get(url("close", ready)).content.decode()
    [problem] = services.close_problems(ready)
    assert problem in html
    assert reverse("meetings:attendance", args=[ready.uid]) in html


def test_close_page_shows_the_confirmation_and_warnings_when_nothing_is_missing(cast, client_for, ready):
    services.minutes_header_save(meeting=ready, actual_end=at(2026, 3, 12, 9), by=cast.secretary_user)
    response = client_for(cast.secretary_user).get(url("close", ready))
    html = response.content.decode()
    assert '<button type="submit" class="btn btn-danger" data-testid="close-minutes">' in html
    assert 'onsubmit="return confirm(' in html  # asked once more in a dialog before the irreversible step
    assert "60" in html and "90" in html  # the duration warning, which does not block


def test_close_refuses_with_the_problems_when_something_is_missing(cast, client_for, held):
    response = client_for(cast.secretary_user).post(url("close", held))
    assert response.status_code == 400
    assert Meeting.objects.get(pk=held.pk).status == Meeting.Status.IN_PROGRESS


@needs_pdf
def test_close_archives_the_minutes_and_goes_to_the_meeting_page(cast, client_for, ready):
    services.vote_record(meeting=ready, subject="Nghị quyết tháng 3", votes_for=2, by=cast.secretary_user)
    response = client_for(cast.secretary_user).post(url("close", ready))
    assert response.status_code == 302
    assert response["Location"] == reverse("meetings:detail", args=[ready.uid])
    meeting = Meeting.objects.get(pk=ready.pk)
    assert meeting.status == Meeting.Status.CLOSED and meeting.closed_by == cast.secretary_user
    assert len(meeting.minutes_sha256) == 64 and meeting.minutes_pdf


# --- After closing: every write refuses (views and services) ---------------------------------------------


@pytest.fixture
def closed(cast, ready):
    item = ready.agenda.get(order=2)
    services.agenda_item_save(item=item, base_version=0, content="Nội dung chính thức", by=cast.secretary_user)
    services.speech_add(item=item, member=cast.member, summary="Ý kiến", by=cast.secretary_user)
    services.vote_record(meeting=ready, subject="NQ", votes_for=2, by=cast.secretary_user)
    return close_without_pdf(ready)


def test_every_write_view_refuses_after_closing(cast, client_for, closed):
    client = client_for(cast.secretary_user)
    item = closed.agenda.get(order=2)
    speech, vote = item.speeches.get(), closed.votes.get()
    before = (closed.minutes_version, item.version, item.content)
    calls = [
        ("minutes_header", (), {"chair": cast.member.pk}),
        ("item_save", (item.pk,), {"version": item.version, "content": "Sửa lén"}),
        ("speech_add", (item.pk,), {"member": cast.member.pk, "summary": "Thêm"}),
        ("speech_remove", (speech.pk,), {}),
        ("vote_add", (), {"subject": "Thêm", "votes_for": 1, "votes_against": 0, "votes_other": 0}),
        ("vote_remove", (vote.pk,), {}),
        ("close", (), {}),
    ]
    for name, args, data in calls:
        for extra in (HTMX, JSON, {}):
            response = client.post(url(name, closed, *args), data, **extra)
            assert response.status_code in (400, 409), (name, extra, response.status_code)
    item.refresh_from_db()
    closed.refresh_from_db()
    assert (closed.minutes_version, item.version, item.content) == before
    assert closed.chair == cast.secretary
    assert item.speeches.count() == 1 and closed.votes.count() == 1
    json_refusal = client.post(url("item_save", closed, item.pk), {"version": item.version, "content": "x"}, **JSON)
    assert "addendum" in json_refusal.json()["error"] or "phụ lục" in json_refusal.json()["error"]


def test_item_text_refused_after_closing_is_shown_back_without_javascript(cast, client_for, closed):
    item = closed.agenda.get(order=2)
    data = {"version": item.version, "content": "Đoạn văn dài chưa lưu", "conclusion": ""}
    response = client_for(cast.secretary_user).post(url("item_save", closed, item.pk), data)
    assert response.status_code == 400
    assert "Đoạn văn dài chưa lưu</textarea>" in response.content.decode()
    item.refresh_from_db()
    assert item.content == "Nội dung chính thức"


def test_every_write_service_refuses_after_closing(cast, closed):
    item = closed.agenda.get(order=2)
    by = cast.secretary_user
    refused = [
        lambda: services.minutes_header_save(meeting=closed, chair=cast.member, by=by),
        lambda: services.agenda_item_save(item=item, base_version=item.version, content="x", by=by),
        lambda: services.speech_add(item=item, member=cast.member, summary="x", by=by),
        lambda: services.speech_remove(speech=item.speeches.get(), by=by),
        lambda: services.vote_record(meeting=closed, subject="x", votes_for=1, by=by),
        lambda: services.vote_remove(vote=closed.votes.get(), by=by),
        lambda: services.minutes_close(meeting=closed, by=by),
    ]
    for call in refused:
        with pytest.raises(ValidationError):
            call()
    assert item.speeches.count() == 1 and closed.votes.count() == 1


def test_closed_minutes_page_is_read_only_for_the_secretary_with_addenda_and_scan(cast, client_for, closed):
    response = client_for(cast.secretary_user).get(url("minutes", closed))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Nội dung chính thức" in html and "<textarea" not in html and "data-autosave" not in html
    assert reverse("meetings:addendum_add", args=[closed.uid]) in html
    assert reverse("meetings:scan_upload", args=[closed.uid]) in html


# --- Addenda and the signed scan ---------------------------------------------------------------------------


def test_addendum_is_only_for_closed_minutes(cast, client_for, ready):
    client = client_for(cast.secretary_user)
    assert client.get(url("addendum_add", ready)).status_code == 302
    response = client.post(url("addendum_add", ready), {"text": "Đính chính"})
    assert response.status_code == 400 and "Đính chính</textarea>" in response.content.decode()
    assert not Addendum.objects.exists()


def test_addendum_needs_text(cast, client_for, closed):
    response = client_for(cast.secretary_user).post(url("addendum_add", closed), {"text": "  "})
    assert response.status_code == 400 and not Addendum.objects.exists()


@needs_pdf
def test_addendum_is_added_rendered_and_listed(cast, client_for, closed):
    client = client_for(cast.secretary_user)
    assert client.get(url("addendum_add", closed)).status_code == 200
    response = client.post(url("addendum_add", closed), {"text": "Sửa số phiếu tán thành thành 2."})
    assert response.status_code == 302 and response["Location"].endswith("#addenda")
    addendum = closed.addenda.get()
    assert len(addendum.sha256) == 64 and addendum.pdf
    page = client.get(url("minutes", closed)).content.decode()
    assert "Sửa số phiếu tán thành thành 2." in page
    assert reverse("meetings:addendum_pdf", args=[addendum.uid]) in page


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.mark.parametrize(
    ("name", "content", "suffix"),
    [
        ("ban-ky.pdf", PDF_BYTES, ".pdf"),
        ("IMG_0001.JPG", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64, ".jpg"),
        ("scan", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, ".png"),
    ],
)
def test_signed_scan_is_uploaded_after_closing(cast, client_for, closed, media, name, content, suffix):
    upload = SimpleUploadedFile(name, content, content_type="application/octet-stream")
    response = client_for(cast.secretary_user).post(url("scan_upload", closed), {"scan": upload})
    assert response.status_code == 302 and response["Location"].endswith("#signed-scan")
    meeting = Meeting.objects.get(pk=closed.pk)
    assert meeting.signed_scan.name.endswith(suffix)
    assert meeting.signed_scan.read() == content


@pytest.mark.parametrize(
    "content",
    [b"MZ\x90\x00 not a scan", b"<html>%PDF-1.4</html>", b"GIF89a" + b"\x00" * 32],
)
def test_signed_scan_is_checked_by_its_content_not_its_name(cast, client_for, closed, media, content):
    upload = SimpleUploadedFile("ban-ky.pdf", content, content_type="application/pdf")
    response = client_for(cast.secretary_user).post(url("scan_upload", closed), {"scan": upload})
    assert response.status_code == 400
    assert not Meeting.objects.get(pk=closed.pk).signed_scan


def test_signed_scan_over_20_mb_is_refused(cast, client_for, closed, media):
    upload = SimpleUploadedFile("ban-ky.pdf", PDF_BYTES + b"\x00" * (20 * 1024 * 1024), content_type="application/pdf")
    response = client_for(cast.secretary_user).post(url("scan_upload", closed), {"scan": upload})
    assert response.status_code == 400
    assert "20 MB" in response.content.decode()
    assert not Meeting.objects.get(pk=closed.pk).signed_scan


def test_signed_scan_before_closing_is_refused(cast, client_for, ready, media):
    upload = SimpleUploadedFile("ban-ky.pdf", PDF_BYTES, content_type="application/pdf")
    response = client_for(cast.secretary_user).post(url("scan_upload", ready), {"scan": upload})
    assert response.status_code == 400
    assert not Meeting.objects.get(pk=ready.pk).signed_scan


def test_a_stale_version_raises_conflict_in_the_service_and_keeps_the_saved_text(cast, held):
    # The autosave protocol relies on the service's version check (a stale base raises Conflict).
    item = held.agenda.get(order=3)
    services.agenda_item_save(item=item, base_version=0, content="A", by=cast.secretary_user)
    with pytest.raises(services.Conflict) as conflict:
        services.agenda_item_save(item=item, base_version=0, content="B", by=cast.secretary_user)
    assert conflict.value.current.content == "A"
    assert AgendaItem.objects.get(pk=item.pk).content == "A"
