"""The biên bản PDF (DOMAIN.md "Documents"), its archived bytes and the scope-checked downloads."""

import hashlib
import io
import logging
import shutil
import subprocess

import pypdf
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from meetings import pdf, services
from meetings.models import Attendance
from tests.factories import MemberFactory
from tests.meetings.conftest import at


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def pdf_text(data: bytes) -> str:
    """The text as pdftotext reads it (when installed), else as pypdf does."""
    if shutil.which("pdftotext"):
        return subprocess.run(
            ["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True
        ).stdout.decode()
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def pypdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def font_names(data: bytes) -> set[str]:
    """BaseFont of every font used, and the PostScript name inside each embedded font program."""
    from fontTools.ttLib import TTFont

    names = set()
    for page in pypdf.PdfReader(io.BytesIO(data)).pages:
        for font in page["/Resources"].get("/Font", {}).values():
            font = font.get_object()
            names.add(str(font["/BaseFont"]))
            descendants = font.get("/DescendantFonts")
            descriptor = (descendants[0].get_object() if descendants else font)["/FontDescriptor"].get_object()
            program = TTFont(io.BytesIO(descriptor["/FontFile2"].get_object().get_data()))
            names.add(program["name"].getDebugName(6))
    return names


@pytest.fixture
def held(cast, schedule):
    """A regular meeting of cell A, held and recorded, minutes not yet closed."""
    by = cast.secretary_user
    anh = MemberFactory(full_name="Phạm Thị Ngọc Ánh", gender="female", cell=cast.cell_a)
    thu = MemberFactory(full_name="Nguyễn Thị Thu", gender="female", cell=cast.cell_a)
    meeting = schedule(start=at(2026, 3, 12, 8))
    meeting = services.meeting_open(meeting=meeting, by=by)
    services.attendance_record(meeting=meeting, member=cast.secretary, status="present", by=by)
    services.attendance_record(meeting=meeting, member=thu, status="present", by=by)
    services.attendance_record(
        meeting=meeting, member=cast.member, status="excused", reason="Đi công tác", reason_approved=True, by=by
    )
    services.attendance_record(meeting=meeting, member=anh, status="unexcused", by=by)
    services.guest_add(
        meeting=meeting, name="Nguyễn Văn Hùng", title="Phó Bí thư Đảng ủy phường", is_higher_delegate=True, by=by
    )
    item = meeting.agenda.get(key="tasks")
    services.agenda_item_save(
        item=item,
        base_version=item.version,
        content="Tập trung vệ sinh môi trường khu phố, vận động đóng góp quỹ khuyến học.",
        conclusion="Giao đồng chí Nguyễn Thị Thu theo dõi, báo cáo tại kỳ họp sau.",
        by=by,
    )
    services.speech_add(item=item, member=thu, summary="Đề nghị tổ chức ra quân vào sáng Chủ nhật.", by=by)
    services.speech_add(item=item, member=cast.secretary, summary="Nhất trí, cần phân công cụ thể.", by=by)
    services.vote_record(
        meeting=meeting, subject="Nghị quyết tháng 3 năm 2026", votes_for=2, votes_against=0, votes_other=0, by=by
    )
    services.minutes_header_save(
        meeting=meeting, chair=cast.secretary, minutes_secretary=thu, actual_end=at(2026, 3, 12, 10), by=by
    )
    return services.meeting_finish(meeting=meeting, by=by)


@pytest.fixture
def closed(cast, held):
    return services.minutes_close(meeting=held, by=cast.secretary_user)


def test_draft_is_marked_and_says_who_was_absent_and_why(cast, held):
    text = pdf_text(pdf.render_minutes_pdf(held, draft=True))
    assert "DỰ THẢO" in text
    for expected in (
        "ĐẢNG CỘNG SẢN VIỆT NAM",
        "ĐẢNG BỘ PHƯỜNG TAM ĐẢO",
        "CHI BỘ KHU PHỐ 1",
        "Tam Đảo, ngày 12 tháng 3 năm 2026",
        "BIÊN BẢN SINH HOẠT CHI BỘ",
        "(Định kỳ tháng 3 năm 2026)",
        "Thời gian: 8 giờ 00, ngày 12 tháng 3 năm 2026",
        "Lê Văn Đức: Đi công tác",
        "Phạm Thị Ngọc Ánh",
        "Đồng chí Nguyễn Văn Hùng, Phó Bí thư Đảng ủy phường",
        "Đề nghị tổ chức ra quân vào sáng Chủ nhật.",
        "Giao đồng chí Nguyễn Thị Thu theo dõi",
        "Hội nghị kết thúc vào hồi 10 giờ 00 cùng ngày",
        "CHỦ TRÌ",
        "THƯ KÝ",
    ):
        assert expected in text, expected


def test_closed_minutes_carry_the_counts_and_no_draft_mark(cast, closed):
    with closed.minutes_pdf.open("rb") as f:
        data = f.read()
    assert hashlib.sha256(data).hexdigest() == closed.minutes_sha256
    for text in (pdf_text(data), pypdf_text(data)):
        assert "DỰ THẢO" not in text
        assert "Phạm Thị Ngọc Ánh" in text and "Lê Văn Đức" in text and "Đi công tác" in text
        assert "Trần Thị Hằng" in text and "Nguyễn Thị Thu" in text
        assert "CHỦ TRÌ" in text and "THƯ KÝ" in text
    text = " ".join(pdf_text(data).split())
    # 4 on the roll, all full; 2 present; voting base 3 (the approved absence is subtracted).
    assert "Tổng số đảng viên của chi bộ: 4 đồng chí (chính thức: 4, dự bị: 0)" in text
    assert "Vắng mặt có lý do: 1 đồng chí" in text and "Vắng mặt không có lý do: 1 đồng chí" in text
    assert "tán thành 2 đồng chí (66,7%); không tán thành 0 đồng chí; ý kiến khác 0 đồng chí" in text
    assert "trên tổng số 3 đảng viên có quyền biểu quyết" in text
    assert "Kết quả: được thông qua" in text
    assert "Biên bản đã được đọc lại cho hội nghị nghe và nhất trí thông qua." in text


def test_the_bundled_font_is_embedded_and_no_other(held, caplog):
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        data = pdf.render_minutes_pdf(held)
    names = font_names(data)
    assert names and all("LiberationSerif" in name for name in names), names
    assert not [r for r in caplog.records if "cannot be loaded" in r.getMessage()]


def test_documents_are_vietnamese_whatever_the_language_of_the_requester(cast, held, client_for):
    with translation.override("en"):
        text = pdf_text(pdf.render_minutes_pdf(held))
    assert "BIÊN BẢN SINH HOẠT CHI BỘ" in text and "Vắng mặt có lý do" in text
    client = client_for(cast.secretary_user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # the secretary chose English for the screens
    response = client.get(reverse("meetings:minutes_pdf", kwargs={"uid": held.uid}))
    assert response.wsgi_request.LANGUAGE_CODE == "en"
    assert "Vắng mặt có lý do" in pdf_text(response.content)


def test_before_closing_the_view_renders_a_draft_for_the_committee(cast, held, client_for):
    response = client_for(cast.secretary_user).get(reverse("meetings:minutes_pdf", kwargs={"uid": held.uid}))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "DỰ THẢO" in pdf_text(response.content)
    assert "no-store" in response["Cache-Control"]


def test_every_download_of_closed_minutes_is_the_stored_bytes(cast, closed, client_for):
    client = client_for(cast.member_user)
    url = reverse("meetings:minutes_pdf", kwargs={"uid": closed.uid})
    first, second = client.get(url), client.get(url)
    assert first.status_code == second.status_code == 200
    assert first.content == second.content
    assert hashlib.sha256(first.content).hexdigest() == closed.minutes_sha256
    assert "DỰ THẢO" not in pdf_text(first.content)


def test_tampered_archive_is_refused_and_logged(cast, closed, client_for, caplog):
    with open(closed.minutes_pdf.path, "r+b") as f:
        f.seek(-9, 2)
        f.write(b"%altered\n")  # same length, still looks like a PDF
    with caplog.at_level(logging.ERROR, logger="meetings.views.documents"):
        response = client_for(cast.member_user).get(reverse("meetings:minutes_pdf", kwargs={"uid": closed.uid}))
    assert response.status_code == 500
    assert b"%PDF" not in response.content
    assert any(closed.minutes_sha256 in r.getMessage() for r in caplog.records)


def test_addendum_is_rendered_once_and_served_as_stored(cast, closed, client_for):
    addendum = services.addendum_add(
        meeting=closed, text="Đính chính: đồng chí Phạm Thị Ngọc Ánh vắng mặt có báo cáo sau.", by=cast.secretary_user
    )
    response = client_for(cast.member_user).get(reverse("meetings:addendum_pdf", kwargs={"uid": addendum.uid}))
    assert response.status_code == 200
    assert hashlib.sha256(response.content).hexdigest() == addendum.sha256
    text = " ".join(pdf_text(response.content).split())
    assert "PHỤ LỤC BIÊN BẢN" in text and "ĐẢNG CỘNG SẢN VIỆT NAM" in text
    assert "vắng mặt có báo cáo sau" in text and "NGƯỜI LẬP" in text and "Trần Thị Hằng" in text


def test_signed_scan_is_an_attachment_served_through_the_meeting(cast, closed, client_for):
    services.signed_scan_upload(
        meeting=closed, upload=SimpleUploadedFile("scan.PDF", b"%PDF-1.4 signed"), by=cast.secretary_user
    )
    response = client_for(cast.member_user).get(reverse("meetings:scan", kwargs={"uid": closed.uid}))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert b"".join(response.streaming_content) == b"%PDF-1.4 signed"


def test_member_of_other_cell_gets_404_on_every_document_url(cast, closed, client_for):
    addendum = services.addendum_add(meeting=closed, text="Bổ sung.", by=cast.secretary_user)
    services.signed_scan_upload(meeting=closed, upload=SimpleUploadedFile("scan.pdf", b"%PDF"), by=cast.secretary_user)
    client = client_for(cast.outsider_user)
    for name, uid in (("minutes_pdf", closed.uid), ("addendum_pdf", addendum.uid), ("scan", closed.uid)):
        url = reverse(f"meetings:{name}", kwargs={"uid": uid})
        assert client.get(url).status_code == 404, name
        assert client.post(url).status_code == 404, name


def test_thematic_and_committee_titles():
    from types import SimpleNamespace

    from meetings.models import Meeting

    regular = SimpleNamespace(
        kind=Meeting.Kind.REGULAR,
        combined_thematic=True,
        period_month=3,
        period_year=2026,
        topic="Học tập và làm theo tư tưởng Hồ Chí Minh",
    )
    assert pdf.minutes_title(regular) == (
        "BIÊN BẢN SINH HOẠT CHI BỘ",
        ["(Định kỳ tháng 3 năm 2026)", "(Chuyên đề: Học tập và làm theo tư tưởng Hồ Chí Minh)"],
    )
    committee = SimpleNamespace(kind=Meeting.Kind.COMMITTEE, combined_thematic=False, topic="")
    assert pdf.minutes_title(committee) == ("BIÊN BẢN HỌP CHI ỦY", [])


def test_every_absent_row_is_named_once(held):
    rows = Attendance.objects.filter(meeting=held).exclude(status__in=["present", "online"])
    text = pdf_text(pdf.render_minutes_pdf(held))
    for row in rows:
        assert text.count(row.member.full_name) == 1, row.member.full_name


def test_a_member_cannot_read_the_draft_minutes_before_closing(cast, schedule, client_for):
    from django.urls import reverse

    meeting = schedule()
    url = reverse("meetings:minutes_pdf", args=[meeting.uid])
    assert client_for(cast.member_user).get(url).status_code == 403
    assert client_for(cast.ward_user).get(url).status_code == 200
