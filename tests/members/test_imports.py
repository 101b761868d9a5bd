"""Importing members from hand-kept spreadsheets: reading, checking, the one-transaction import, views."""

import datetime
import io
import unicodedata
import zipfile

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from members import imports, services
from members.models import Member, Membership, Position
from tests.conftest import make_login
from tests.factories import MemberFactory, UserFactory

HEADER = [
    "STT",
    "Họ và tên",
    "Ngày sinh",
    "Giới tính",
    "Ngày vào Đảng",
    "Ngày chính thức",
    "Số thẻ đảng viên",
    "Chức vụ",
    "Điện thoại",
]
JOINED = datetime.date(2024, 1, 1)


def member_row(n, **over):
    row = {
        "name": f"Nguyễn Văn Nhập {n}",
        "birth": "15/08/1985",
        "gender": "Nam",
        "admitted": "19/05/2010",
        "full": "19/05/2011",
        "card": f"{88000000 + n}",
        "position": "",
        "phone": "",
    }
    row.update(over)
    return [n, *row.values()]


def workbook(rows, header=HEADER, title="DANH SÁCH ĐẢNG VIÊN CHI BỘ KHU PHỐ 1") -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    if title:
        ws.append([title])
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(header))
        ws.append([])
    ws.append(header)
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def csv_file(rows, header=HEADER, delimiter=",", encoding="utf-8-sig") -> bytes:
    lines = [delimiter.join(str(v) for v in header)] + [delimiter.join(str(v) for v in row) for row in rows]
    text = "\r\n".join(["Danh sách đảng viên", "", *lines]) + "\r\n"
    return to_cp1258(text) if encoding == "cp1258" else text.encode(encoding)


def to_cp1258(text: str) -> bytes:
    """As Windows writes Vietnamese in its code page: ơ, ư, â… precomposed, the tone as a combining mark."""
    tones = "\u0300\u0301\u0303\u0309\u0323"
    out = b""
    for ch in text:
        decomposed = unicodedata.normalize("NFD", ch)
        tone = "".join(m for m in decomposed if m in tones)
        base = unicodedata.normalize("NFC", "".join(m for m in decomposed if m not in tones))
        out += base.encode("cp1258") + tone.encode("cp1258")
    return out


def preview_of(cell, data, filename="danh-sach.xlsx", mapping=None, joined_on=JOINED):
    sheet = imports.load(data, filename)
    return imports.build_preview(cell=cell, sheet=sheet, mapping=mapping or sheet.mapping, joined_on=joined_on)


def import_file(cell, data, by, filename="danh-sach.xlsx", mapping=None, joined_on=JOINED):
    sheet = imports.load(data, filename)
    return imports.members_import(cell=cell, sheet=sheet, mapping=mapping or sheet.mapping, joined_on=joined_on, by=by)


@pytest.fixture(autouse=True)
def _english_and_private_media(settings, tmp_path, client):
    settings.MEDIA_ROOT = tmp_path / "media"
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield


# --- Reading the file ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Họ và tên", "full_name"),
        ("HỌ TÊN", "full_name"),
        ("Họ và tên (*)", "full_name"),
        ("Ho va ten", "full_name"),
        ("Ngày sinh", "birth_date"),
        ("Ngày, tháng, năm sinh", "birth_date"),
        ("Ngày sinh (dd/mm/yyyy)", "birth_date"),
        ("Năm sinh", "birth_date"),
        ("Giới tính", "gender"),
        ("Nam/Nữ", "gender"),
        ("Ngày vào Đảng", "admitted_on"),
        ("Ngày kết nạp", "admitted_on"),
        ("Ngày vào Đảng (dự bị)", "admitted_on"),
        ("Ngày chính thức", "full_member_on"),
        ("Ngày công nhận chính thức", "full_member_on"),
        ("Ngày vào Đảng chính thức", "full_member_on"),
        ("Ngày vào Đảng (chính thức)", "full_member_on"),
        ("Số thẻ", "card_number"),
        ("Số thẻ đảng viên", "card_number"),
        ("Số thẻ Đảng", "card_number"),
        ("Chức vụ", "position"),
        ("Điện thoại", "phone"),
        ("Số điện thoại", "phone"),
        ("SĐT", "phone"),
        ("Email", "email"),
        ("E-mail", "email"),
        ("Tổ đảng", "group"),
        ("Ngày vào chi bộ", "joined_on"),
        ("Ngày sinh hoạt tại chi bộ", "joined_on"),
        (unicodedata.normalize("NFD", "  Ngày   vào Đảng "), "admitted_on"),
        ("Ngày\nvào Đảng", "admitted_on"),
        ("STT", None),
        ("Quê quán", None),
        ("Đứng vào hàng ngũ Đảng", None),
    ],
)
def test_usual_header_spellings_are_recognised(header, field):
    assert imports.match_header(header) == field


def test_title_row_blank_rows_and_column_numbers_are_skipped():
    data = workbook(
        [
            ["(1)", "(2)", "(3)", "(4)", "(5)", "(6)", "(7)", "(8)", "(9)"],
            member_row(1),
            [],
            [None, "   "],
            member_row(2),
        ]
    )
    sheet = imports.load(data, "list.xlsx")
    assert sheet.header_row == 3
    assert [number for number, _ in sheet.rows] == [5, 8]
    assert set(sheet.mapping) == {
        "full_name",
        "birth_date",
        "gender",
        "admitted_on",
        "full_member_on",
        "card_number",
        "position",
        "phone",
    }


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime.datetime(1985, 8, 15), datetime.date(1985, 8, 15)),
        (datetime.date(1985, 8, 15), datetime.date(1985, 8, 15)),
        ("15/08/1985", datetime.date(1985, 8, 15)),
        ("5/8/1985", datetime.date(1985, 8, 5)),
        ("15-08-1985", datetime.date(1985, 8, 15)),
        ("15.08.1985", datetime.date(1985, 8, 15)),
        (" 15 / 08 / 1985 ", datetime.date(1985, 8, 15)),
        ("1985-08-15", datetime.date(1985, 8, 15)),
        ("ngày 15 tháng 8 năm 1985", datetime.date(1985, 8, 15)),
        (31274, datetime.date(1985, 8, 15)),  # a date cell that lost its format
    ],
)
def test_dates_are_read_as_cells_write_them(value, expected):
    assert imports.parse_date(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("31/02/1985", "not a real date"),
        ("15/08/85", "four digits"),
        ("1985", "Only the year"),
        (1985, "Only the year"),
        ("tháng 8", "not a date"),
        ("08/15/1985", "not a real date"),
    ],
)
def test_impossible_dates_are_refused_with_a_reason(value, message):
    with pytest.raises(ValueError, match=message):
        imports.parse_date(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Nam", "male"),
        (" nam ", "male"),
        ("Nữ", "female"),
        (unicodedata.normalize("NFD", "Nữ"), "female"),
        ("NỮ", "female"),
    ],
)
def test_gender_is_read_from_nam_or_nu(value, expected):
    assert imports.parse_gender(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (912345678, "0912345678"),
        (912345678.0, "0912345678"),
        ("0912 345 678", "0912345678"),
        ("0912.345.678", "0912345678"),
        ("+84 912 345 678", "0912345678"),
        ("0912345678 / 0243812345", "0912345678"),
    ],
)
def test_phone_as_text_or_number_keeps_its_leading_zero(value, expected):
    assert imports.parse_phone(value) == expected


def test_csv_with_semicolons_and_a_bom_is_read():
    data = csv_file([member_row(1), member_row(2)], delimiter=";")
    sheet = imports.load(data, "list.csv")
    assert sheet.header_row == 3 and len(sheet.rows) == 2
    assert sheet.mapping["full_name"] == 1


def test_csv_saved_in_the_windows_vietnamese_code_page_is_read():
    data = csv_file([member_row(1, name="Trần Thị Bình")], encoding="cp1258")
    sheet = imports.load(data, "list.csv")
    assert sheet.mapping["full_name"] == 1
    assert imports.parse_name(sheet.rows[0][1][1]) == "Trần Thị Bình"


def _docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "list.xlsx", "not a real Excel workbook"),
        (_docx(), "list.xlsx", "not a real Excel workbook"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "list.xlsx", "old Excel"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "list.csv", "not a real CSV"),
        (b"%PDF-1.7 ...", "list.csv", "not a real CSV"),
        (workbook([member_row(1)]), "list.csv", "not a real CSV"),
        (b"a,b\n1,2\n", "list.txt", "Upload an Excel workbook"),
        (b"x" * (5 * 1024 * 1024 + 1), "list.csv", "larger than 5 MB"),
        ("Ghi chú\nkhông có gì\n".encode(), "list.csv", "No header row"),
    ],
)
def test_files_that_are_not_member_lists_are_refused(data, filename, message):
    with pytest.raises(imports.ImportFileError, match=message):
        imports.load(data, filename)


def test_more_than_2000_rows_are_refused():
    rows = [member_row(n) for n in range(1, 2002)]
    with pytest.raises(imports.ImportFileError, match="more than 2,000 rows"):
        imports.load(csv_file(rows), "list.csv")
    assert len(imports.load(csv_file(rows[:2000]), "list.csv").rows) == 2000


# --- The preview -----------------------------------------------------------------------------------


def test_preview_reads_a_hand_kept_list_and_writes_nothing(cast):
    nfd_name = unicodedata.normalize("NFD", "  Nguyễn   Thị  Hằng ")
    rows = [
        member_row(1, name=nfd_name, birth=datetime.datetime(1990, 4, 12), phone=912345678, card=79123456),
        member_row(2, name="LÊ VĂN TÁM", gender="Nữ", admitted="2/9/2016", full="02.09.2017"),
    ]
    before = Member.objects.count()
    preview = preview_of(cast.cell_a, workbook(rows))
    assert [r.status for r in preview.rows] == ["new", "new"]
    first, second = preview.rows
    assert first.data["full_name"] == "Nguyễn Thị Hằng"
    assert unicodedata.is_normalized("NFC", first.data["full_name"])
    assert first.data["birth_date"] == datetime.date(1990, 4, 12)
    assert first.data["phone"] == "0912345678" and first.data["card_number"] == "79123456"
    assert second.data["full_name"] == "Lê Văn Tám" and second.data["gender"] == "female"
    assert second.data["full_member_on"] == datetime.date(2017, 9, 2)
    assert preview.can_import and Member.objects.count() == before


def test_member_admitted_before_18_is_an_error_on_that_row(cast):
    rows = [member_row(1), member_row(2, birth="01/01/2000", admitted="01/06/2017", full="01/06/2018")]
    preview = preview_of(cast.cell_a, workbook(rows))
    bad = preview.rows[1]
    assert bad.status == "error" and "at least 18 years old" in " ".join(bad.errors["admitted_on"])
    assert preview.rows[0].status == "new" and not preview.can_import


@pytest.mark.parametrize(
    ("over", "field", "text"),
    [
        ({"full": "01/01/2011"}, "full_member_on", "12 months"),
        ({"birth": "01/01/2099"}, "birth_date", "future"),
        ({"admitted": "01/01/2099", "full": ""}, "admitted_on", "future"),
        ({"gender": "X"}, "gender", "Nam"),
        ({"birth": "30/02/1985"}, "birth_date", "not a real date"),
        ({"name": ""}, "full_name", "required"),
        ({"card": "1" * 21}, "card_number", "at most 20 characters"),
    ],
)
def test_each_row_meets_the_member_forms_rules(cast, over, field, text):
    preview = preview_of(cast.cell_a, workbook([member_row(1, **over)]))
    row = preview.rows[0]
    assert row.status == "error"
    assert text in " ".join(row.errors[field])


def test_card_number_already_in_the_cell_is_reported_and_not_duplicated(cast, count_queries):
    rows = [member_row(1, card=cast.member.card_number, name=cast.member.full_name), member_row(2)]
    preview = preview_of(cast.cell_a, workbook(rows))
    assert [r.status for r in preview.rows] == ["present", "new"]
    result = import_file(cast.cell_a, workbook(rows), by=cast.secretary_user)
    assert (result.new_count, result.present_count) == (1, 1)
    assert Member.objects.filter(card_number=cast.member.card_number).count() == 1


def test_card_number_of_a_member_of_another_cell_is_an_error(cast):
    preview = preview_of(cast.cell_a, workbook([member_row(1, card=cast.outsider.card_number)]))
    assert "another cell" in " ".join(preview.rows[0].errors["card_number"])
    assert cast.outsider.full_name not in str(preview.rows[0].errors)


def test_the_same_card_number_twice_in_the_file_is_an_error(cast):
    preview = preview_of(cast.cell_a, workbook([member_row(1), member_row(2, card="88000001"), member_row(3)]))
    assert [r.status for r in preview.rows] == ["error", "error", "new"]
    assert "also on row 5" in preview.rows[0].errors["card_number"][0]


def test_member_without_card_number_matched_by_name_and_birth_date(cast):
    existing = MemberFactory(full_name="Hoàng Văn Minh", card_number=None, birth_date=datetime.date(1975, 3, 2))
    existing.home_unit = cast.cell_a
    existing.save()
    preview = preview_of(cast.cell_a, workbook([member_row(1, name="HOÀNG VĂN MINH", birth="02/03/1975", card="")]))
    assert preview.rows[0].status == "present" and "name and date of birth" in preview.rows[0].notes[0]


def test_roll_starts_on_the_import_date_or_the_admission_day_if_later(cast):
    rows = [member_row(1), member_row(2, admitted="01/06/2024", full="")]
    preview = preview_of(cast.cell_a, workbook(rows), joined_on=datetime.date(2024, 1, 1))
    assert [r.joined_on for r in preview.rows] == [datetime.date(2024, 1, 1), datetime.date(2024, 6, 1)]


def test_roll_date_column_before_admission_is_an_error(cast):
    header = [*HEADER, "Ngày vào chi bộ"]
    preview = preview_of(cast.cell_a, workbook([[*member_row(1), "01/01/2009"]], header=header))
    assert "before being admitted" in " ".join(preview.rows[0].errors["joined_on"])


def test_party_group_by_name_or_number_and_unknown_group_is_an_error(cast):
    header = [*HEADER, "Tổ đảng"]
    rows = [[*member_row(1), "Tổ đảng số 1"], [*member_row(2), "1"], [*member_row(3), "Tổ 9"]]
    preview = preview_of(cast.cell_a, workbook(rows, header=header))
    assert [r.group for r in preview.rows[:2]] == [cast.group_a, cast.group_a]
    assert "no party group" in preview.rows[2].errors["group"][0]


def test_positions_are_imported_for_the_three_cell_roles_and_noted_otherwise(cast):
    rows = [
        member_row(1, position="Bí thư"),  # the cell has a secretary already
        member_row(2, position="Phó Bí thư"),
        member_row(3, position="Chi ủy viên"),
        member_row(4, position="Trưởng thôn"),
        member_row(5, position="Đảng viên"),
    ]
    preview = preview_of(cast.cell_a, workbook(rows))
    assert [r.role for r in preview.rows] == [None, "deputy", "committee", None, None]
    assert [r.status for r in preview.rows] == ["new"] * 5
    assert "already has one" in preview.rows[0].notes[0]
    assert "Trưởng thôn" in preview.rows[3].notes[0] and not preview.rows[4].notes

    import_file(cast.cell_a, workbook(rows), by=cast.secretary_user)
    deputy = Position.objects.get(unit=cast.cell_a, role=Position.Role.DEPUTY_SECRETARY)
    assert deputy.member.card_number == "88000002" and deputy.start == datetime.date.today()
    assert Position.objects.filter(unit=cast.cell_a, role=Position.Role.SECRETARY).count() == 1


def test_preview_query_count_does_not_grow_with_rows(cast, count_queries):
    small = imports.load(workbook([member_row(n, phone="0912345678") for n in range(1, 6)]), "a.xlsx")
    large = imports.load(workbook([member_row(n, phone="0912345678") for n in range(1, 301)]), "a.xlsx")

    def run(sheet):
        return lambda: imports.build_preview(cell=cast.cell_a, sheet=sheet, mapping=sheet.mapping, joined_on=JOINED)

    small_count, _ = count_queries(run(small))
    large_count, preview = count_queries(run(large))
    assert large_count == small_count <= 5
    assert preview.new_count == 300


# --- The import: one transaction, history kept ----------------------------------------------------


def test_import_writes_members_memberships_and_history(cast):
    rows = [member_row(n) for n in range(1, 4)]
    result = import_file(cast.cell_a, workbook(rows), by=cast.secretary_user)
    assert result.new_count == 3
    imported = Member.objects.filter(card_number__startswith="8800")
    assert imported.count() == 3
    for member in imported:
        assert member.home_unit == cast.cell_a
        assert member.memberships.get().start == JOINED
        created = member.history.get(history_type="+")
        assert created.history_user == cast.secretary_user and created.full_name == member.full_name
        assert Membership.history.filter(member_id=member.pk, history_type="+").count() == 1


def test_import_writes_what_the_member_form_and_member_create_write(cast):
    typed = {
        "full_name": unicodedata.normalize("NFD", "Phan Thị Ngọc Ánh"),
        "birth_date": datetime.date(1991, 7, 3),
        "gender": "female",
        "card_number": "88000001",
        "admitted_on": datetime.date(2015, 3, 3),
        "full_member_on": datetime.date(2016, 3, 3),
        "phone": "0912345678",
    }
    row = member_row(
        1, name=typed["full_name"], birth="03/07/1991", gender="Nữ", admitted="03/03/2015", full="03/03/2016",
        phone="0912 345 678",
    )  # fmt: skip
    import_file(cast.cell_a, workbook([row]), by=cast.secretary_user, joined_on=datetime.date(2024, 1, 1))
    imported = Member.objects.get(card_number="88000001")
    imported.card_number = "88000001-imported"
    imported.save(update_fields=["card_number"])
    created = services.member_create(
        cell=cast.cell_a, joined_on=datetime.date(2024, 1, 1), by=cast.secretary_user, **typed
    )
    fields = ["full_name", "search_name", "birth_date", "gender", "admitted_on", "full_member_on", "phone", "email"]
    fields += ["works_away", "home_unit_id", "ended_on", "user_id"]
    assert [getattr(imported, f) for f in fields] == [getattr(created, f) for f in fields]
    assert imported.full_name == "Phan Thị Ngọc Ánh" and imported.search_name == "phan thi ngoc anh"
    ours, theirs = imported.memberships.get(), created.memberships.get()
    assert (ours.cell_id, ours.group_id, ours.start, ours.end) == (theirs.cell_id, theirs.group_id, theirs.start, None)


def test_nothing_is_written_when_one_row_is_impossible(cast):
    rows = [member_row(1), member_row(2), member_row(3, birth="01/01/2000", admitted="01/06/2017", full="")]
    before = (Member.objects.count(), Member.history.count())
    with pytest.raises(imports.ImportRejected) as raised:
        import_file(cast.cell_a, workbook(rows), by=cast.secretary_user)
    assert raised.value.preview.error_count == 1
    assert (Member.objects.count(), Member.history.count()) == before


def test_a_failure_midway_rolls_back_every_row(cast, monkeypatch):
    real = services.position_add

    def fail_on_committee(**kwargs):
        if kwargs["role"] == Position.Role.COMMITTEE_MEMBER:
            raise ValidationError({"role": "refused"})
        return real(**kwargs)

    monkeypatch.setattr(services, "position_add", fail_on_committee)
    rows = [member_row(1, position="Phó Bí thư"), member_row(2), member_row(3, position="Chi ủy viên")]
    before = Member.objects.count()
    with pytest.raises(imports.ImportRejected) as raised:
        import_file(cast.cell_a, workbook(rows), by=cast.secretary_user)
    assert raised.value.preview.rows[2].errors["position"] == ["refused"]
    assert Member.objects.count() == before
    assert not Position.objects.filter(role=Position.Role.DEPUTY_SECRETARY).exists()


# --- The pages -------------------------------------------------------------------------------------


def _upload(client, cell, data, filename="danh-sach.xlsx", joined_on="2024-01-01"):
    file = io.BytesIO(data)
    file.name = filename
    return client.post(reverse("members:import_upload", args=[cell.uid]), {"file": file, "joined_on": joined_on})


def _token(response) -> str:
    return response["Location"].rstrip("/").split("/")[-2]


def _mapping_post(sheet, **over):
    data = {key: str(index) for key, index in sheet.mapping.items()}
    data.update(over)
    return data


def test_secretary_uploads_maps_previews_and_imports(cast, client_for):
    client = client_for(cast.secretary_user)
    header = [*HEADER[:4], "Kết nạp hôm", *HEADER[5:]]  # one header the importer does not know
    data = workbook([member_row(1), member_row(2, card=cast.member.card_number, name=cast.member.full_name)], header)
    response = _upload(client, cast.cell_a, data)
    assert response.status_code == 302
    token = _token(response)
    mapping_url = reverse("members:import_mapping", args=[cast.cell_a.uid, token])
    assert response["Location"] == mapping_url

    page = client.get(mapping_url)
    assert page.status_code == 200 and "Kết nạp hôm" in page.content.decode()
    sheet = imports.load(data, "x.xlsx")
    assert "admitted_on" not in sheet.mapping
    response = client.post(mapping_url, _mapping_post(sheet))
    assert response.status_code == 200 and "admitted_on" in response.context["form"].errors
    response = client.post(mapping_url, _mapping_post(sheet, admitted_on="4"))
    preview_url = reverse("members:import_preview", args=[cast.cell_a.uid, token])
    assert response.status_code == 302 and response["Location"] == preview_url

    page = client.get(preview_url)
    html = page.content.decode()
    assert "table-responsive" in html and "Already in the cell" in html and "Nguyễn Văn Nhập 1" in html
    assert page.context["preview"].can_import

    response = client.post(preview_url, follow=True)
    assert response.redirect_chain[-1][0] == reverse("cells:detail", args=[cast.cell_a.uid])
    assert "1 member imported, 1 already present" in response.content.decode()
    member = Member.objects.get(card_number="88000001")
    assert member.admitted_on == datetime.date(2010, 5, 19)
    assert member.history.get().history_user == cast.secretary_user
    # The file is gone: a second submit cannot import it again.
    assert client.post(preview_url).status_code == 404
    assert not list((imports.Upload.directory()).iterdir())


def test_preview_with_an_error_blocks_the_import(cast, client_for):
    client = client_for(cast.secretary_user)
    rows = [member_row(1), member_row(2, birth="01/01/2000", admitted="01/06/2017", full="")]
    token = _token(_upload(client, cast.cell_a, workbook(rows)))
    sheet = imports.load(workbook(rows), "x.xlsx")
    client.post(reverse("members:import_mapping", args=[cast.cell_a.uid, token]), _mapping_post(sheet))
    preview_url = reverse("members:import_preview", args=[cast.cell_a.uid, token])
    html = client.get(preview_url).content.decode()
    assert "at least 18 years old" in html and 'data-testid="import-submit" disabled' in html
    response = client.post(preview_url)
    assert response.status_code == 200 and "Nothing was imported" in response.content.decode()
    assert not Member.objects.filter(card_number__startswith="8800").exists()


def test_preview_page_query_count_does_not_grow_with_rows(cast, client_for, count_queries):
    client = client_for(cast.secretary_user)
    counts = []
    for size in (5, 300):
        data = workbook([member_row(n, phone="0912345678") for n in range(1, size + 1)])
        token = _token(_upload(client, cast.cell_a, data))
        mapping_url = reverse("members:import_mapping", args=[cast.cell_a.uid, token])
        client.post(mapping_url, _mapping_post(imports.load(data, "x.xlsx")))
        url = reverse("members:import_preview", args=[cast.cell_a.uid, token])
        queries, response = count_queries(lambda url=url: client.get(url))
        assert response.status_code == 200 and response.context["preview"].new_count == size
        counts.append(queries)
    assert counts[0] == counts[1] <= 15


def test_upload_of_a_file_that_is_not_a_spreadsheet_is_refused(cast, client_for):
    client = client_for(cast.secretary_user)
    response = _upload(client, cast.cell_a, b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, filename="anh.xlsx")
    assert response.status_code == 200
    assert "not a real Excel workbook" in " ".join(response.context["form"].errors["file"])
    assert not imports.Upload.directory().exists() or not list(imports.Upload.directory().iterdir())


def test_mapping_refuses_one_column_for_two_fields(cast, client_for):
    client = client_for(cast.secretary_user)
    data = workbook([member_row(1)])
    token = _token(_upload(client, cast.cell_a, data))
    sheet = imports.load(data, "x.xlsx")
    response = client.post(
        reverse("members:import_mapping", args=[cast.cell_a.uid, token]), _mapping_post(sheet, phone="1")
    )
    assert response.status_code == 200 and "already chosen" in str(response.context["form"].errors)


def test_template_download_is_a_workbook_the_importer_reads(cast, client_for):
    response = client_for(cast.secretary_user).get(reverse("members:import_template", args=[cast.cell_a.uid]))
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment")
    sheet = imports.load(response.content, "mau.xlsx")
    assert set(sheet.mapping) == {f.key for f in imports.FIELDS} and sheet.rows == []


def _import_urls(cell, token="0" * 43):
    return [
        reverse("members:import_upload", args=[cell.uid]),
        reverse("members:import_template", args=[cell.uid]),
        reverse("members:import_mapping", args=[cell.uid, token]),
        reverse("members:import_preview", args=[cell.uid, token]),
    ]


def test_member_of_another_cell_gets_404_on_every_import_url(cast, client_for):
    client = client_for(cast.outsider_user)
    for url in _import_urls(cast.cell_a):
        assert client.get(url).status_code == 404, url
        assert client.post(url).status_code == 404, url


def test_read_only_ward_member_gets_403_on_every_import_url(cast, client_for):
    client = client_for(cast.ward_user)
    for url in _import_urls(cast.cell_a):
        assert client.get(url).status_code == 403, url
        assert client.post(url).status_code == 403, url


def test_ordinary_member_of_the_cell_gets_403(cast, client_for):
    client = client_for(cast.member_user)
    for url in _import_urls(cast.cell_a):
        assert client.get(url).status_code == 403, url


def test_upload_token_is_bound_to_its_user_and_cell(cast, client, settings):
    client.force_login(cast.secretary_user)
    token = _token(_upload(client, cast.cell_a, workbook([member_row(1)])))

    deputy = MemberFactory(full_name="Đỗ Thị Lan", cell=cast.cell_a)
    Position.objects.create(
        unit=cast.cell_a, role=Position.Role.DEPUTY_SECRETARY, member=deputy, start=datetime.date(2020, 1, 1)
    )
    client.force_login(make_login(deputy, "deputy"))
    assert client.get(reverse("members:import_mapping", args=[cast.cell_a.uid, token])).status_code == 404

    admin = UserFactory(username="root", is_superuser=True, is_staff=True)
    client.force_login(admin)
    assert client.get(reverse("members:import_mapping", args=[cast.cell_b.uid, token])).status_code == 404
    assert client.get(reverse("members:import_mapping", args=[cast.cell_a.uid, "." * 43])).status_code == 404


def test_import_pages_exist_only_for_cells(cast, client_for):
    admin = UserFactory(username="root", is_superuser=True, is_staff=True)
    client = client_for(admin)
    assert client.get(reverse("members:import_upload", args=[cast.ward.uid])).status_code == 404
