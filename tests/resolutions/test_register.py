"""The resolution register: rows in number order, filters, accent-insensitive search, the unit
picker limited to scope, constant queries with 100+ resolutions, the .xlsx and the PDF book."""

import io
import subprocess
import time

import pytest
from django.urls import reverse

from resolutions.models import Resolution
from resolutions.services import register
from tests.resolutions.bulk import many_resolutions

pytestmark = pytest.mark.django_db


def test_register_shows_the_issued_resolution_with_its_number(cast, passed_draft, issue, client_for):
    resolution = issue(passed_draft)
    response = client_for(cast.member_user).get(reverse("resolutions:register", args=[cast.cell_a.uid]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Số 01-NQ/CB" in body and resolution.title in body


def test_register_is_in_number_order_with_constant_queries(cast, term, client_for, django_assert_max_num_queries):
    many_resolutions(cast, term, n=110, tasks_each=2)
    client = client_for(cast.ward_user)
    url = reverse("resolutions:register", args=[cast.cell_a.uid])
    with django_assert_max_num_queries(16):
        response = client.get(url)
    rows = response.context["rows"]
    assert [r.number for r in rows] == list(range(1, 26))
    assert response.context["page"].paginator.count == 110
    with django_assert_max_num_queries(16):
        response = client.get(url + "?page=5")
    assert [r.number for r in response.context["rows"]] == list(range(101, 111))


def test_search_ignores_accents_and_case(cast, term):
    many_resolutions(cast, term, n=12, tasks_each=0)
    Resolution.objects.filter(number=7).update(search_text="nghi quyet ve cong tac phat trien dang vien")
    for q in ("Phát triển Đảng viên", "phat trien dang vien", "PHAT TRIEN"):
        rows = register.register_rows(cast.cell_a, register.Filters(q=q))
        assert [r.number for r in rows] == [7], q
    assert [r.number for r in register.register_rows(cast.cell_a, register.Filters(q="Số 03-NQ"))] == [3]


def test_filters_by_year_term_and_status(cast, term, client_for):
    rows = many_resolutions(cast, term, n=130, tasks_each=1)  # issued every 3 days from January 2025
    url = reverse("resolutions:register", args=[cast.cell_a.uid])
    client = client_for(cast.secretary_user)
    in_2026 = client.get(url + "?year=2026").context["page"].paginator.count
    assert in_2026 == sum(1 for r in rows if r.issued_on.year == 2026) and 0 < in_2026 < 130
    assert client.get(url + f"?term={term.pk}").context["page"].paginator.count == 130
    # bulk tasks: order 1 is done, so every resolution has all its tasks done
    assert client.get(url + "?status=completed").context["page"].paginator.count == 130
    assert client.get(url + "?status=open_tasks").context["page"].paginator.count == 0
    assert client.get(url + "?status=bogus&year=abc").context["page"].paginator.count == 130
    empty = client.get(url + "?q=khongcogi")
    assert "Không có nghị quyết nào phù hợp với bộ lọc." in empty.content.decode()


def test_outsider_gets_404_and_higher_committee_picks_units_in_scope(cast, term, client_for):
    for name in ("resolutions:register", "resolutions:register_pdf", "resolutions:register_xlsx"):
        assert client_for(cast.outsider_user).get(reverse(name, args=[cast.cell_a.uid])).status_code == 404
    picker = client_for(cast.ward_user).get(reverse("resolutions:register_home"))
    assert set(picker.context["page"].object_list) == {cast.cell_a, cast.cell_b}
    # a member of one cell goes straight to its register
    response = client_for(cast.member_user).get(reverse("resolutions:register_home"))
    assert response.status_code == 302 and str(cast.cell_a.uid) in response["Location"]
    # the ward itself keeps no register (not a cell)
    assert client_for(cast.ward_user).get(reverse("resolutions:register", args=[cast.ward.uid])).status_code == 404


def test_xlsx_export_constant_queries_and_content(cast, term, client_for, django_assert_max_num_queries):
    from openpyxl import load_workbook

    many_resolutions(cast, term, n=105, tasks_each=2)
    client = client_for(cast.secretary_user)
    with django_assert_max_num_queries(16):
        response = client.get(reverse("resolutions:register_xlsx", args=[cast.cell_a.uid]))
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet["A1"].value.startswith("SỔ NGHỊ QUYẾT — CHI BỘ KHU PHỐ 1")
    assert sheet["A4"].value == "Số, ký hiệu"
    assert sheet["A5"].value == "Số 01-NQ/CB"
    assert sheet["L5"].value == "Việc 0 của nghị quyết 1" and sheet["O5"].value == "Đã hoàn thành"
    assert sheet["L6"].value == "Việc 1 của nghị quyết 1" and sheet["A6"].value == "Số 01-NQ/CB"  # repeated per task
    assert sheet["M5"].value == "Trần Thị Hằng, Lê Văn Đức" or sheet["M5"].value == "Lê Văn Đức, Trần Thị Hằng"
    assert sheet.max_row == 4 + 105 * 2


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def test_pdf_book_of_100_stored_resolutions_constant_queries(
    cast, term, media, client_for, django_assert_max_num_queries, capsys
):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from meetings.pdf import render_document

    rows = many_resolutions(cast, term, n=100, tasks_each=2)
    # Issued resolutions keep the PDF printed at issue; the book appends those bytes.
    stored = render_document("pdf/base.html", {"document_title": "x"})
    name = default_storage.save("resolutions/stored.pdf", ContentFile(stored))
    Resolution.objects.filter(pk__in=[r.pk for r in rows]).update(pdf=name)
    client = client_for(cast.secretary_user)
    started = time.perf_counter()
    with django_assert_max_num_queries(18):
        response = client.get(reverse("resolutions:register_pdf", args=[cast.cell_a.uid]))
    elapsed = time.perf_counter() - started
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = " ".join(
        subprocess.run(["pdftotext", "-", "-"], input=response.content, capture_output=True).stdout.decode().split()
    )
    assert "SỔ NGHỊ QUYẾT" in text and "Số 01-NQ/CB" in text and "Số 100-NQ/CB" in text
    assert "Việc 1 của nghị quyết 100" in text and "Đang thực hiện" in text
    from pypdf import PdfReader

    outline = [item.title for item in PdfReader(io.BytesIO(response.content)).outline]
    assert outline[:2] == ["Số 01-NQ/CB", "Số 02-NQ/CB"] and len(outline) == 100
    with capsys.disabled():
        print(
            f"\nregister book, 100 stored resolutions, 200 tasks: {elapsed:.1f} s, {len(response.content) // 1024} KiB"
        )


def test_pdf_book_prints_a_resolution_without_a_stored_pdf(cast, term, client_for):
    many_resolutions(cast, term, n=3, tasks_each=2)
    response = client_for(cast.secretary_user).get(reverse("resolutions:register_pdf", args=[cast.cell_a.uid]))
    text = " ".join(
        subprocess.run(["pdftotext", "-", "-"], input=response.content, capture_output=True).stdout.decode().split()
    )
    assert "SỔ NGHỊ QUYẾT" in text and "CHI BỘ KHU PHỐ 1" in text
    assert "Việc 1 của nghị quyết 3" in text and "Đã hoàn thành" in text
    # each text in the standard format, diacritics intact
    assert text.count("T/M CHI BỘ") == 3 and "ĐẢNG CỘNG SẢN VIỆT NAM" in text
    assert "Nghị quyết sinh hoạt chi bộ đợt 2" in text and "Trần Thị Hằng" in text
