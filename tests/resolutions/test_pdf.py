"""The resolution PDF in the HD 36 format, rendered once at issue and stored with its SHA-256; the
written-consultation record archived with it; the consolidation report. Text extracted with pypdf."""

import hashlib
import io

import pytest
from django.urls import reverse
from pypdf import PdfReader

from resolutions.services import drafts, issuing


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


@pytest.mark.django_db
def test_resolution_pdf_has_number_title_signature_and_recipients_with_diacritics(cast, term, passed_draft):
    resolution = issuing.resolution_issue(draft=passed_draft, by=cast.secretary_user)
    data = resolution.pdf.open("rb").read()
    assert hashlib.sha256(data).hexdigest() == resolution.pdf_sha256
    text = pdf_text(data)
    for expected in (
        "ĐẢNG BỘ PHƯỜNG TAM ĐẢO",
        "CHI BỘ KHU PHỐ 1",
        "Số 01-NQ/CB",
        "ĐẢNG CỘNG SẢN VIỆT NAM",
        "Tam Đảo, ngày",
        "NGHỊ QUYẾT",
        "Nghị quyết sinh hoạt chi bộ tháng 3 năm 2026",
        "II. Nhiệm vụ và giải pháp tháng 4",
        "Vận động nhân dân tham gia bảo vệ an ninh trật tự.",
        "T/M CHI BỘ",
        "BÍ THƯ",
        "Trần Thị Hằng",
        "Nơi nhận:",
        "Lưu chi bộ.",
    ):
        assert expected in text, expected
    assert "{#" not in text  # section anchors are not printed


@pytest.mark.django_db
def test_conclusion_is_titled_ket_luan(cast, term, make_draft):
    from tests.resolutions.test_issuing import make_passed

    resolution = issuing.resolution_issue(draft=make_passed(cast, kind="KL"), by=cast.secretary_user)
    text = pdf_text(resolution.pdf.open("rb").read())
    assert "KẾT LUẬN" in text and "Số 01-KL/CB" in text


@pytest.mark.django_db
def test_the_downloaded_pdf_is_the_archived_bytes(cast, client_for, term, passed_draft):
    resolution = issuing.resolution_issue(draft=passed_draft, by=cast.secretary_user)
    response = client_for(cast.ward_user).get(reverse("resolutions:resolution_pdf", args=[resolution.uid]))
    body = b"".join(response.streaming_content)
    assert response["Content-Type"] == "application/pdf"
    assert hashlib.sha256(body).hexdigest() == resolution.pdf_sha256 == response["ETag"].strip('"')


@pytest.mark.django_db
def test_consultation_record_lists_who_was_consulted_comments_responses_and_votes(cast, client_for, term, written):
    from resolutions.services import voting

    draft = written
    # a comment made while comments were open, answered by the committee
    from resolutions.models import Comment

    comment = Comment.objects.create(
        draft=draft, version=draft.current_version, author=cast.member, text="Bổ sung chỉ tiêu phát triển đảng viên."
    )
    drafts.response_save(comment=comment, decision="partly", explanation="Tiếp thu vào mục II.", by=cast.secretary_user)
    voting.vote_cast(draft=draft, member=cast.member, choice="for", text_="Nhất trí", by=cast.member_user)
    voting.vote_cast(draft=draft, member=cast.secretary, choice="for", by=cast.secretary_user)
    draft = voting.voting_close(draft=draft, by=cast.secretary_user)
    resolution = issuing.resolution_issue(draft=draft, by=cast.secretary_user)
    data = resolution.consultation_pdf.open("rb").read()
    assert hashlib.sha256(data).hexdigest() == resolution.consultation_sha256
    text = pdf_text(data)
    for expected in (
        "BIÊN BẢN",
        "Xin ý kiến đảng viên bằng văn bản",
        "Lê Văn Đức",
        "Trần Thị Hằng",
        "Tán thành",
        "Nhất trí",
        "Bổ sung chỉ tiêu phát triển đảng viên.",
        "Tiếp thu một phần: Tiếp thu vào mục II.",
        "dự thảo được thông qua",
        "Số 01-NQ/CB",
    ):
        assert expected in text, expected
    response = client_for(cast.member_user).get(reverse("resolutions:consultation_pdf", args=[resolution.uid]))
    assert hashlib.sha256(b"".join(response.streaming_content)).hexdigest() == resolution.consultation_sha256


@pytest.mark.django_db
def test_consolidation_report_pdf(cast, client_for, open_draft):
    comment = drafts.comment_add(
        draft=open_draft,
        member=cast.member,
        text_="Làm rõ trách nhiệm tổ đảng.",
        section_key="nhiem-vu",
        by=cast.member_user,
    )
    drafts.response_save(
        comment=comment, decision="not_accepted", explanation="Đã có trong quy chế.", by=cast.secretary_user
    )
    response = client_for(cast.secretary_user).get(reverse("resolutions:consolidation_pdf", args=[open_draft.uid]))
    assert response.status_code == 200
    text = pdf_text(response.content)
    for expected in (
        "BÁO CÁO",
        "Tổng hợp ý kiến góp ý dự thảo nghị quyết",
        "II. Nhiệm vụ và giải pháp tháng 4",
        "Đồng chí Lê Văn Đức",
        "Làm rõ trách nhiệm tổ đảng.",
        "Không tiếp thu, giải trình: Đã có trong quy chế.",
    ):
        assert expected in text, expected
    assert "Số 0" not in text  # not numbered


@pytest.mark.django_db
def test_a_bulk_loaded_resolution_is_printed_once_on_its_first_download(cast, client_for, term, passed_draft):
    """Seeded rows come without archived PDFs: the first download prints and stores them, later
    downloads return exactly those bytes, and a stored file is never replaced."""
    from resolutions.models import Resolution

    resolution = issuing.resolution_issue(draft=passed_draft, by=cast.secretary_user)
    blank = {"pdf": "", "pdf_sha256": "", "consultation_pdf": "", "consultation_sha256": ""}
    Resolution.objects.filter(pk=resolution.pk).update(**blank)
    client = client_for(cast.ward_user)
    first = b"".join(client.get(reverse("resolutions:resolution_pdf", args=[resolution.uid])).streaming_content)
    resolution.refresh_from_db()
    assert resolution.pdf and hashlib.sha256(first).hexdigest() == resolution.pdf_sha256
    assert "Số 01-NQ/CB" in pdf_text(first)
    assert resolution.consultation_pdf and resolution.consultation_sha256  # a written consultation's record too
    stored = resolution.pdf.name
    second = b"".join(client.get(reverse("resolutions:resolution_pdf", args=[resolution.uid])).streaming_content)
    assert second == first
    issuing.archive_missing_pdfs(resolution)
    resolution.refresh_from_db()
    assert resolution.pdf.name == stored
    record = client.get(reverse("resolutions:consultation_pdf", args=[resolution.uid]))
    assert hashlib.sha256(b"".join(record.streaming_content)).hexdigest() == resolution.consultation_sha256
