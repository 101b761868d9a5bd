"""Importing members from a hand-kept spreadsheet (.xlsx or .csv) into one cell.

load() reads the file as cells keep it (a title row above the header, blank rows, dates as real
dates or dd/mm/yyyy text) and guesses which column holds what; build_preview() checks every row
with the member form's rules without writing; members_import() writes all rows in one transaction
or none. Between the steps the file waits in MEDIA_ROOT/imports/, bound to its user and cell.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
import re
import secrets
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from simple_history.utils import bulk_create_with_history

from cells.models import PartyUnit
from cells.text import fold, nfc
from members import hooks, services
from members.forms.imports import ImportRowForm
from members.models import Member, Membership, Position, User

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 2000
HEADER_SCAN_ROWS = 30
# A sheet formatted down to row 1,048,576 reads as endless blank rows: stop after this many.
MAX_BLANK_RUN = 1000
MAX_UNPACKED_BYTES = 100 * 1024 * 1024  # a 5 MB zip that unpacks to more is a zip bomb
UPLOAD_TTL_SECONDS = 24 * 3600
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{32,64}$")


class ImportFileError(Exception):
    """The file cannot be read as a member list; the message is for the person uploading it."""


# --- The columns -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportField:
    key: str
    label: str
    required: bool
    template_header: str  # the Vietnamese header written in the downloadable template
    variants: str  # "|"-separated folded spellings

    @property
    def spellings(self) -> list[str]:
        return self.variants.split("|")


# Header spellings seen in cells' lists, folded: accents dropped, đ as d, punctuation as spaces.
FIELDS: tuple[ImportField, ...] = (
    ImportField(
        "full_name", gettext_lazy("Full name"), True, "Họ và tên",
        "ho va ten|ho ten|ho va ten dang vien|ho ten dang vien|ten dang vien|ho va ten khai sinh|full name|name",
    ),
    ImportField(
        "birth_date", gettext_lazy("Date of birth"), True, "Ngày sinh",
        "ngay sinh|ngay thang nam sinh|sinh ngay|nam sinh|date of birth|birth date|birthday",
    ),
    ImportField(
        "gender", gettext_lazy("Gender"), True, "Giới tính",
        "gioi tinh|nam nu|nam hoac nu|phai|gender|sex",
    ),
    ImportField(
        "admitted_on", gettext_lazy("Date admitted"), True, "Ngày vào Đảng",
        "ngay vao dang|ngay vao dang du bi|ngay ket nap|ngay ket nap dang|ngay ket nap vao dang|ket nap dang"
        "|vao dang|date admitted|admitted",
    ),
    ImportField(
        "full_member_on", gettext_lazy("Date made full member"), False, "Ngày chính thức",
        "ngay chinh thuc|ngay cong nhan chinh thuc|ngay cong nhan dang vien chinh thuc|ngay chuyen chinh thuc"
        "|ngay vao dang chinh thuc|ngay dang vien chinh thuc|chinh thuc|full member",
    ),
    ImportField(
        "card_number", gettext_lazy("Party card number"), False, "Số thẻ đảng viên",
        "so the|so the dang|so the dang vien|so the dv|the dang vien|the dang|ma the dang vien|card number",
    ),
    ImportField(
        "position", gettext_lazy("Position"), False, "Chức vụ",
        "chuc vu|chuc vu dang|chuc vu trong chi bo|chuc vu chi bo|chuc danh|position",
    ),
    ImportField(
        "phone", gettext_lazy("Phone"), False, "Số điện thoại",
        "dien thoai|so dien thoai|dien thoai di dong|dien thoai lien he|sdt|dt|so dt|phone",
    ),
    ImportField(
        "email", gettext_lazy("E-mail"), False, "Email",
        "email|e mail|thu dien tu|dia chi email|dia chi thu dien tu",
    ),
    ImportField(
        "group", gettext_lazy("Party group"), False, "Tổ đảng",
        "to dang|thuoc to dang|to dang so|party group",
    ),
    ImportField(
        "joined_on", gettext_lazy("On this cell's roll from"), False, "Ngày vào chi bộ",
        "ngay vao chi bo|ngay chuyen den|ngay chuyen sinh hoat den|ngay sinh hoat tai chi bo"
        "|sinh hoat tai chi bo tu ngay",
    ),
)  # fmt: skip
FIELDS_BY_KEY = {f.key: f for f in FIELDS}
REQUIRED_KEYS = tuple(f.key for f in FIELDS if f.required)
DATE_KEYS = ("birth_date", "admitted_on", "full_member_on", "joined_on")

_VARIANTS = {variant: f.key for f in FIELDS for variant in f.spellings}
# Longest first, so "ngay vao dang chinh thuc" wins over "ngay vao dang" inside it.
_PHRASES = sorted((v for v in _VARIANTS if " " in v), key=len, reverse=True)


def header_key(value, keep_brackets: bool = True) -> str:
    """'Ngày sinh (dd/mm/yyyy)*' -> 'ngay sinh dd mm yyyy'; 'Nam/Nữ' -> 'nam nu'."""
    text = fold(str(value or ""))
    if not keep_brackets:
        text = re.sub(r"\([^)]*\)", " ", text)
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def match_header(value) -> str | None:
    """The field a header names, if it is one of the usual spellings."""
    full, bare = header_key(value), header_key(value, keep_brackets=False)
    if not full:
        return None
    if full in _VARIANTS:
        return _VARIANTS[full]
    if bare in _VARIANTS:
        return _VARIANTS[bare]
    padded = f" {full} "
    for phrase in _PHRASES:
        if f" {phrase} " in padded:
            return _VARIANTS[phrase]
    return None


def guess_mapping(headers: list[str]) -> dict[str, int]:
    mapping: dict[str, int] = {}
    for index, text in enumerate(headers):
        key = match_header(text)
        if key and key not in mapping:
            mapping[key] = index
    return mapping


# --- Reading the file --------------------------------------------------------------------------


@dataclass
class Sheet:
    """The table found in a file: its header row and the non-blank rows below it."""

    header_row: int  # as the spreadsheet numbers it, from 1
    headers: list[str]
    rows: list[tuple[int, list]]  # (row number, cell values)
    mapping: dict[str, int]  # the guess from the headers
    sheet_name: str = ""

    @property
    def width(self) -> int:
        return max([len(self.headers), *(len(values) for _, values in self.rows)])

    def column_label(self, index: int) -> str:
        from openpyxl.utils import get_column_letter

        header = self.headers[index] if index < len(self.headers) else ""
        return f"{get_column_letter(index + 1)} · {header}" if header else get_column_letter(index + 1)

    def sample(self, index: int) -> str:
        for _number, values in self.rows:
            if index < len(values) and not _is_blank(values[index]):
                return display_value(values[index])
        return ""


def _is_blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def display_value(value) -> str:
    if isinstance(value, datetime.datetime):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, datetime.date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return nfc(str(value)) if value is not None else ""


def load(data: bytes, filename: str) -> Sheet:
    """Read an uploaded .xlsx or .csv; the content must be what the name says."""
    if len(data) > MAX_BYTES:
        raise ImportFileError(_("The file is larger than 5 MB."))
    name = (filename or "").lower()
    if name.endswith(".xlsx"):
        tables = _read_xlsx(data)
    elif name.endswith(".csv"):
        tables = [("", _read_csv(data))]
    else:
        raise ImportFileError(_("Upload an Excel workbook (.xlsx) or a CSV file (.csv)."))
    best = None
    for sheet_name, rows in tables:
        found = _find_header(rows)
        if found and (best is None or found[0] > best[0]):
            best = (found[0], found[1], rows, sheet_name)
    if best is None:
        raise ImportFileError(_("No header row was found: the file needs a row of column names above the members."))
    _score, header_pos, rows, sheet_name = best
    header_number, header_values = rows[header_pos]
    headers = [display_value(v) for v in header_values]
    data_rows = rows[header_pos + 1 :]
    if data_rows and _is_column_numbering(data_rows[0][1]):
        data_rows = data_rows[1:]
    if len(data_rows) > MAX_ROWS:
        raise ImportFileError(_("The file has more than 2,000 rows: split it into smaller files."))
    return Sheet(header_number, headers, data_rows, guess_mapping(headers), sheet_name)


def _find_header(rows: list[tuple[int, list]]) -> tuple[int, int] | None:
    """(score, position) of the row naming the most known columns among the first rows."""
    best = None
    for pos, (_number, values) in enumerate(rows[:HEADER_SCAN_ROWS]):
        score = len(guess_mapping([display_value(v) for v in values]))
        if score >= 2 and (best is None or score > best[0]):
            best = (score, pos)
    if best is None:
        # Nothing recognised: the first row with several text cells, to be mapped by hand.
        for pos, (_number, values) in enumerate(rows[:HEADER_SCAN_ROWS]):
            if sum(isinstance(v, str) and bool(v.strip()) for v in values) >= 2:
                return (0, pos)
    return best


def _is_column_numbering(values: list) -> bool:
    """The '(1) (2) (3)…' row official lists put under their header."""
    cells = [display_value(v) for v in values if not _is_blank(v)]
    return len(cells) >= 3 and all(re.fullmatch(r"\(?\d{1,2}\)?", c) for c in cells)


def _collect(row_iter) -> list[tuple[int, list]]:
    rows: list[tuple[int, list]] = []
    blank_run = 0
    for number, values in row_iter:
        values = list(values)
        while values and _is_blank(values[-1]):
            values.pop()
        if not values:
            blank_run += 1
            if blank_run > MAX_BLANK_RUN:
                break
            continue
        blank_run = 0
        rows.append((number, values))
        if len(rows) > MAX_ROWS + HEADER_SCAN_ROWS + 1:
            raise ImportFileError(_("The file has more than 2,000 rows: split it into smaller files."))
    return rows


def _read_xlsx(data: bytes) -> list[tuple[str, list[tuple[int, list]]]]:
    if data[:4] == b"\xd0\xcf\x11\xe0":
        raise ImportFileError(
            _("This is an old Excel (.xls) or password-protected file: save it as .xlsx without a password.")
        )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise ImportFileError(_("This file is not a real Excel workbook (.xlsx)."))
    if "xl/workbook.xml" not in names:
        raise ImportFileError(_("This file is not a real Excel workbook (.xlsx)."))
    if unpacked > MAX_UNPACKED_BYTES:
        raise ImportFileError(_("The workbook is too large once unpacked."))
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds on a damaged workbook
        raise ImportFileError(_("This workbook could not be read; open it in Excel and save it again."))
    try:
        active = workbook.active
        sheets = [active] + [ws for ws in workbook.worksheets if ws is not active]
        tables = []
        for ws in sheets:
            if getattr(ws, "iter_rows", None) is None:
                continue  # a chart sheet
            rows = ws.iter_rows(min_row=1, values_only=True)
            tables.append((ws.title, _collect(enumerate(rows, start=1))))
        return tables
    finally:
        workbook.close()


def _read_csv(data: bytes) -> list[tuple[int, list]]:
    if data[:4] == b"PK\x03\x04" or data[:4] == b"\xd0\xcf\x11\xe0" or data[:5] == b"%PDF-":
        raise ImportFileError(_("This file is not a real CSV file: it is not plain text."))
    try:
        if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
            text = data.decode("utf-16")  # Excel's "Unicode text"
        else:
            try:
                text = data.decode("utf-8-sig")
            except UnicodeDecodeError:
                text = data.decode("cp1258")  # "CSV" saved by Excel on Vietnamese Windows
    except UnicodeDecodeError:
        raise ImportFileError(_("This file is not a real CSV file: its text could not be read."))
    if any(ord(ch) < 32 and ch not in "\t\r\n" for ch in text):
        raise ImportFileError(_("This file is not a real CSV file: it is not plain text."))
    sample = text[:8192]
    try:
        # Excel writes ";" where the decimal separator is a comma, as in Vietnamese settings.
        delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
    except csv.Error:
        delimiter = max(",;\t", key=sample.count)
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        return _collect(enumerate(reader, start=1))
    except csv.Error:
        raise ImportFileError(_("This file is not a real CSV file: its rows could not be read."))


# --- Reading one value -------------------------------------------------------------------------

_DMY = re.compile(r"^(\d{1,2})\s*([/.\-])\s*(\d{1,2})\s*\2\s*(\d{1,4})$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ t]00:00(?::00)?)?$")
_WORDS = re.compile(r"^ngay (\d{1,2}) thang (\d{1,2}) nam (\d{4})$")


def parse_date(value) -> datetime.date:
    """A date cell, or text as cells write it: 02/09/2016, 2/9/2016, 02-09-2016, 02.09.2016."""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if float(value).is_integer() and 1900 <= value <= 2100:
            raise ValueError(_("Only the year is given: write the full date as dd/mm/yyyy."))
        if 3000 < value < 80000:
            # A date cell that lost its date format shows Excel's day serial number.
            from openpyxl.utils.datetime import from_excel

            return from_excel(value).date()
        raise ValueError(_("“%(value)s” is not a date: write it as dd/mm/yyyy.") % {"value": display_value(value)})
    text = nfc(str(value))
    if re.fullmatch(r"\d{4}", text):
        raise ValueError(_("Only the year is given: write the full date as dd/mm/yyyy."))
    if match := _DMY.match(text):
        day, _sep, month, year = match.groups()
        if len(year) != 4:
            raise ValueError(_("“%(value)s”: write the year with four digits (dd/mm/yyyy).") % {"value": text})
    elif match := _ISO.match(text):
        year, month, day = match.groups()
    elif match := _WORDS.match(fold(text)):
        day, month, year = match.groups()
    else:
        raise ValueError(_("“%(value)s” is not a date: write it as dd/mm/yyyy.") % {"value": text})
    try:
        return datetime.date(int(year), int(month), int(day))
    except ValueError:
        raise ValueError(_("“%(value)s” is not a real date.") % {"value": text})


GENDERS = {
    "nam": Member.Gender.MALE,
    "male": Member.Gender.MALE,
    "m": Member.Gender.MALE,
    "nu": Member.Gender.FEMALE,
    "female": Member.Gender.FEMALE,
    "f": Member.Gender.FEMALE,
}


def parse_gender(value) -> str:
    gender = GENDERS.get(header_key(value))
    if gender is None:
        raise ValueError(_("“%(value)s”: write “Nam” or “Nữ”.") % {"value": display_value(value)})
    return gender


def parse_phone(value) -> str:
    """Digits only, the first number if several; the leading 0 that Excel drops put back."""
    text = display_value(value)
    first = re.split(r"[,;/]|\bho[aặ]c\b", text)[0]
    digits = "".join(ch for ch in first if ch.isdigit())
    if digits.startswith("84") and len(digits) == 11 and first.strip().startswith("+"):
        digits = "0" + digits[2:]
    elif len(digits) == 9 and digits[0] in "35789":
        digits = "0" + digits  # a mobile number stored as a number lost its 0
    return digits


def parse_card(value) -> str:
    return "".join(display_value(value).split()).upper()


def parse_name(value) -> str:
    name = nfc(display_value(value))
    # Lists often write names in capitals ("NGUYỄN VĂN AN"); records and minutes use "Nguyễn Văn An".
    return name.title() if name.isupper() else name


ROLES = {
    "bi thu": Position.Role.SECRETARY,
    "bi thu chi bo": Position.Role.SECRETARY,
    "pho bi thu": Position.Role.DEPUTY_SECRETARY,
    "pho bi thu chi bo": Position.Role.DEPUTY_SECRETARY,
    "chi uy vien": Position.Role.COMMITTEE_MEMBER,
    "uy vien chi uy": Position.Role.COMMITTEE_MEMBER,
}
NO_ROLE = {"", "dang vien", "dang vien chinh thuc", "dang vien du bi", "dv"}


# --- The preview: every row checked, nothing written -------------------------------------------


class RowStatus:
    NEW = "new"
    PRESENT = "present"
    ERROR = "error"


@dataclass
class PreviewRow:
    number: int
    display: dict[str, str] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)  # "" for the row as a whole
    notes: list[str] = field(default_factory=list)
    present: bool = False
    data: dict = field(default_factory=dict)  # the member form's cleaned fields
    group: PartyUnit | None = None
    joined_on: datetime.date | None = None
    role: str | None = None
    cells: list = field(default_factory=list)  # (field, display, errors) for the template

    def add_error(self, key: str, message: str) -> None:
        self.errors.setdefault(key, []).append(str(message))

    @property
    def status(self) -> str:
        if self.errors:
            return RowStatus.ERROR
        return RowStatus.PRESENT if self.present else RowStatus.NEW

    @property
    def other_errors(self) -> list[str]:
        shown = {f.key for f, _display, _errors in self.cells}
        return [m for key, messages in self.errors.items() if key not in shown for m in messages]


@dataclass
class Preview:
    columns: list[ImportField]
    rows: list[PreviewRow]
    message: str = ""  # a problem with the import as a whole

    @property
    def new_count(self) -> int:
        return sum(r.status == RowStatus.NEW for r in self.rows)

    @property
    def present_count(self) -> int:
        return sum(r.status == RowStatus.PRESENT for r in self.rows)

    @property
    def error_count(self) -> int:
        return sum(r.status == RowStatus.ERROR for r in self.rows)

    @property
    def can_import(self) -> bool:
        return not self.message and self.error_count == 0 and self.new_count > 0

    def finish(self) -> None:
        for row in self.rows:
            row.cells = [(f, row.display.get(f.key, ""), row.errors.get(f.key, [])) for f in self.columns]


def mapping_is_usable(mapping: dict[str, int | None], width: int) -> bool:
    """Every required field has a column of the file, and no column serves two fields."""
    used = [i for i in mapping.values() if i is not None]
    return (
        all(mapping.get(key) is not None for key in REQUIRED_KEYS)
        and len(used) == len(set(used))
        and all(0 <= i < width for i in used)
    )


def _parse_row(number: int, values: list, mapping: dict[str, int]) -> PreviewRow:
    row = PreviewRow(number)
    for key, index in mapping.items():
        raw = values[index] if index < len(values) else None
        if _is_blank(raw):
            row.data[key] = None
            continue
        row.display[key] = display_value(raw)
        try:
            if key in DATE_KEYS:
                row.data[key] = parse_date(raw)
                row.display[key] = row.data[key].strftime("%d/%m/%Y")
            elif key == "gender":
                row.data[key] = parse_gender(raw)
            elif key == "phone":
                row.data[key] = parse_phone(raw)
            elif key == "card_number":
                row.data[key] = parse_card(raw)
                row.display[key] = row.data[key]
            elif key == "full_name":
                row.data[key] = parse_name(raw)
                row.display[key] = row.data[key]
            else:
                row.data[key] = nfc(display_value(raw))
        except ValueError as exc:
            row.data[key] = None
            row.add_error(key, str(exc))
    return row


def _is_blank_row(values: list, mapping: dict[str, int]) -> bool:
    return all(_is_blank(values[i]) if i < len(values) else True for i in mapping.values())


def build_preview(*, cell: PartyUnit, sheet: Sheet, mapping: dict[str, int], joined_on: datetime.date) -> Preview:
    """Every row checked with the member form's rules; the same few queries for any number of rows."""
    mapping = {k: v for k, v in mapping.items() if v is not None}
    columns = [f for f in FIELDS if f.key in mapping]
    rows = [_parse_row(number, values, mapping) for number, values in sheet.rows if not _is_blank_row(values, mapping)]
    preview = Preview(columns, rows)
    today = timezone.localdate()

    groups = {fold(g.name): g for g in PartyUnit.objects.filter(parent=cell, kind=PartyUnit.Kind.GROUP)}
    cards = {r.data.get("card_number") for r in rows} - {None, ""}
    # The database's own checks (unique card number, the group, the dates constraint) are done here
    # for the whole file at once instead of once per row by the form.
    owners = {
        card: (home_unit_id, ended_on)
        for card, home_unit_id, ended_on in Member.objects.filter(card_number__in=cards).values_list(
            "card_number", "home_unit_id", "ended_on"
        )
    }
    in_cell = {
        (search_name, birth_date): card
        for search_name, birth_date, card in Member.objects.filter(home_unit=cell).values_list(
            "search_name", "birth_date", "card_number"
        )
    }
    taken_roles = set(
        Position.objects.filter(Position.active_on(today), unit=cell)
        .filter(role__in=[Position.Role.SECRETARY, Position.Role.DEPUTY_SECRETARY])
        .values_list("role", flat=True)
    )

    by_card: dict[str, list[int]] = {}
    by_person: dict[tuple, list[int]] = {}
    for row in rows:
        if row.data.get("card_number"):
            by_card.setdefault(row.data["card_number"], []).append(row.number)
        person = (fold(row.data.get("full_name") or ""), row.data.get("birth_date"))
        if person[0] and person[1] and not row.data.get("card_number"):
            by_person.setdefault(person, []).append(row.number)

    role_rows: dict[str, int] = {}
    for row in rows:
        card = row.data.get("card_number")
        person = (fold(row.data.get("full_name") or ""), row.data.get("birth_date"))
        if card and len(by_card[card]) > 1:
            others = ", ".join(str(n) for n in by_card[card] if n != row.number)
            row.add_error("card_number", _("The same party card number is also on row %(rows)s.") % {"rows": others})
        elif not card and len(by_person.get(person, ())) > 1:
            others = ", ".join(str(n) for n in by_person[person] if n != row.number)
            row.add_error(
                "full_name", _("The same name and date of birth are also on row %(rows)s.") % {"rows": others}
            )
        if card and card in owners:
            home_unit_id, ended_on = owners[card]
            if home_unit_id == cell.pk:
                row.present = True
                if ended_on:
                    row.notes.append(_("Left the rolls on %(date)s.") % {"date": ended_on.strftime("%d/%m/%Y")})
            else:
                row.add_error("card_number", _("This party card number belongs to a member of another cell."))
            continue
        if person in in_cell:
            existing_card = in_cell[person]
            if card and existing_card and existing_card != card:
                row.add_error(
                    "card_number",
                    _("A member of this cell with the same name and date of birth has party card number %(card)s.")
                    % {"card": existing_card},
                )
            else:
                row.present = True
                row.notes.append(_("Matched by name and date of birth; the record is not changed."))
            continue
        group_text, position_text = row.data.pop("group", None), row.data.pop("position", None)
        # Run the form even when a value could not be read, so every problem of the row shows at once.
        _check_with_form(row, cell=cell, joined_on=joined_on)
        _resolve_group(row, group_text, groups)
        _resolve_role(row, position_text, taken_roles, role_rows)
    preview.finish()
    return preview


def _check_with_form(row: PreviewRow, *, cell: PartyUnit, joined_on: datetime.date) -> None:
    data = {k: v for k, v in row.data.items() if k in ImportRowForm.base_fields and v is not None}
    row_joined = row.data.get("joined_on")
    if row_joined is None and "joined_on" not in row.errors:
        # The import's date; a member admitted later joins the roll on the admission day.
        admitted = row.data.get("admitted_on")
        row_joined = max(joined_on, admitted) if admitted else joined_on
    data["joined_on"] = row_joined
    form = ImportRowForm(data=data, cell=cell)
    if form.is_valid():
        # Exactly what services.member_create takes, as the member form would hand it over.
        row.data = {name: form.cleaned_data[name] for name in services.MEMBER_FIELDS if name in form.cleaned_data}
        row.joined_on = form.cleaned_data["joined_on"]
        return
    for name, messages in form.errors.items():
        key = "" if name == "__all__" else name
        if key in row.errors:
            continue  # the value could not be read: that message says more than "required"
        for message in messages:
            row.add_error(key, message)


def _resolve_group(row: PreviewRow, text: str | None, groups: dict[str, PartyUnit]) -> None:
    if not text:
        return
    key = fold(text)
    group = groups.get(key)
    if group is None:
        # "1" or "Tổ 1" for "Tổ đảng số 1": the same number at the end of the name.
        number = re.search(r"(\d+)\s*$", key)
        candidates = [g for name, g in groups.items() if number and re.search(rf"\b{number.group(1)}$", name)]
        group = candidates[0] if len(candidates) == 1 else None
    if group is None:
        row.add_error("group", _("This cell has no party group called “%(name)s”.") % {"name": text})
    row.group = group


def _resolve_role(row: PreviewRow, text: str | None, taken: set[str], role_rows: dict[str, int]) -> None:
    key = header_key(text or "")
    if key in NO_ROLE:
        return
    role = ROLES.get(key)
    if role is None:
        row.notes.append(
            _("Position “%(value)s” is not imported: only Bí thư, Phó Bí thư and Chi ủy viên are.") % {"value": text}
        )
        return
    label = Position.Role(role).label.lower()
    if role in role_rows:
        row.notes.append(
            _("Not recorded as %(role)s: row %(row)s holds that position.") % {"role": label, "row": role_rows[role]}
        )
        return
    if role in taken:
        row.notes.append(
            _("Not recorded as %(role)s: the cell already has one; end that position first.") % {"role": label}
        )
        return
    if role != Position.Role.COMMITTEE_MEMBER:
        role_rows[role] = row.number
    row.role = role


# --- The import: all rows or none --------------------------------------------------------------


class ImportRejected(Exception):
    def __init__(self, preview: Preview):
        super().__init__(preview.message or "rows with errors")
        self.preview = preview


def members_import(
    *, cell: PartyUnit, sheet: Sheet, mapping: dict[str, int], joined_on: datetime.date, by: User
) -> Preview:
    """Every new row written, with its history, or nothing.

    Rows are checked again inside the transaction with the member form's rules (build_preview),
    then written in bulk with their history: services.member_create costs ~20 queries and two
    savepoints a member (8 ms on PostgreSQL here, 15-30 s for 2,000 rows: too long for a request).
    """
    try:
        with transaction.atomic():
            # Two imports into one cell queue here (PostgreSQL; SQLite serialises all writers anyway).
            list(PartyUnit.objects.select_for_update().filter(pk=cell.pk).values_list("pk"))
            preview = build_preview(cell=cell, sheet=sheet, mapping=mapping, joined_on=joined_on)
            if cell.kind != PartyUnit.Kind.CELL:
                preview.message = _("A membership must point at a party cell.")
            if not preview.can_import:
                raise ImportRejected(preview)
            new_rows = [row for row in preview.rows if row.status == RowStatus.NEW]
            members = [_new_member(row, cell) for row in new_rows]
            bulk_create_with_history(members, Member, batch_size=500, default_user=by)
            memberships = [
                Membership(member=member, cell=cell, group=row.group, start=row.joined_on)
                for row, member in zip(new_rows, members, strict=True)
            ]
            bulk_create_with_history(memberships, Membership, batch_size=500, default_user=by)
            # Their member-year rows (the months due from joined_on) and the at-risk lists above.
            hooks.member_changed(member_ids=[member.pk for member in members])
            today = timezone.localdate()
            for row, member in zip(new_rows, members, strict=True):
                if not row.role:
                    continue
                try:
                    services.position_add(unit=cell, role=row.role, start=today, member=member, by=by)
                except ValidationError as exc:
                    for message in exc.messages:
                        row.add_error("position", message)
                    preview.finish()
                    raise ImportRejected(preview)
            return preview
    except IntegrityError:
        # Someone saved the same card number between the check and the write.
        preview = build_preview(cell=cell, sheet=sheet, mapping=mapping, joined_on=joined_on)
        preview.message = _("Another change to the members was saved at the same time: nothing was imported.")
        raise ImportRejected(preview)


def _new_member(row: PreviewRow, cell: PartyUnit) -> Member:
    member = Member(**row.data, home_unit=cell)
    # The derived columns Member.save() sets; bulk_create does not call save().
    member.full_name = nfc(member.full_name)
    member.search_name = fold(member.full_name)
    member.card_number = (member.card_number or "").strip().upper() or None
    member.phone = "".join(ch for ch in member.phone if ch.isdigit())
    return member


# --- The uploaded file between the steps -------------------------------------------------------


@dataclass
class Upload:
    token: str
    user_id: int
    unit_id: int
    filename: str
    joined_on: datetime.date
    mapping: dict[str, int] | None = None
    created: float = 0.0

    @staticmethod
    def directory() -> Path:
        return Path(settings.MEDIA_ROOT) / "imports"

    @property
    def data_path(self) -> Path:
        return self.directory() / f"{self.token}.data"

    @property
    def meta_path(self) -> Path:
        return self.directory() / f"{self.token}.json"

    def read(self) -> bytes:
        return self.data_path.read_bytes()

    def sheet(self) -> Sheet:
        return load(self.read(), self.filename)

    def save_meta(self) -> None:
        meta = {
            "user": self.user_id,
            "unit": self.unit_id,
            "filename": self.filename,
            "joined_on": self.joined_on.isoformat(),
            "mapping": self.mapping,
            "created": self.created,
        }
        tmp = self.meta_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(meta))
        tmp.replace(self.meta_path)

    def claim(self) -> bool:
        """Take the upload for the import; a second submit of the same file finds it gone."""
        try:
            self.meta_path.rename(self.meta_path.with_suffix(".claimed"))
        except FileNotFoundError:
            return False
        return True

    def release(self) -> None:
        self.meta_path.with_suffix(".claimed").replace(self.meta_path)

    def delete(self) -> None:
        for path in (self.data_path, self.meta_path, self.meta_path.with_suffix(".claimed")):
            path.unlink(missing_ok=True)


def upload_save(*, data: bytes, filename: str, cell: PartyUnit, joined_on: datetime.date, by: User) -> Upload:
    directory = Upload.directory()
    directory.mkdir(parents=True, exist_ok=True)
    _sweep(directory)
    upload = Upload(secrets.token_urlsafe(32), by.pk, cell.pk, Path(filename).name, joined_on, created=time.time())
    upload.data_path.write_bytes(data)
    upload.save_meta()
    return upload


def upload_get(token: str, *, cell: PartyUnit, user: User) -> Upload | None:
    """The upload if this user made it for this cell and it has not expired or been imported."""
    if not TOKEN_RE.match(token or ""):
        return None
    try:
        meta = json.loads((Upload.directory() / f"{token}.json").read_text())
    except (FileNotFoundError, ValueError):
        return None
    if meta.get("user") != user.pk or meta.get("unit") != cell.pk:
        return None
    if time.time() - meta.get("created", 0) > UPLOAD_TTL_SECONDS:
        return None
    return Upload(
        token,
        meta["user"],
        meta["unit"],
        meta["filename"],
        datetime.date.fromisoformat(meta["joined_on"]),
        meta.get("mapping"),
        meta.get("created", 0),
    )


def _sweep(directory: Path) -> None:
    limit = time.time() - UPLOAD_TTL_SECONDS
    for path in directory.iterdir():
        try:
            if path.stat().st_mtime < limit:
                path.unlink()
        except FileNotFoundError:
            pass


# --- The downloadable template -----------------------------------------------------------------


def template_workbook(cell: PartyUnit) -> bytes:
    """An empty list with the headers the importer knows, date and text columns preformatted."""
    import openpyxl
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    workbook = openpyxl.Workbook()
    ws = workbook.active
    ws.title = "Danh sách"
    columns = ["STT", *(f.template_header for f in FIELDS)]
    ws.cell(row=1, column=1, value=f"DANH SÁCH ĐẢNG VIÊN {cell.name.upper()}").font = Font(bold=True, size=14)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(columns))
    ws.cell(row=1, column=1).alignment = Alignment(horizontal="center")
    for index, header in enumerate(columns, start=1):
        c = ws.cell(row=3, column=index, value=header)
        c.font = Font(bold=True)
        c.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        ws.column_dimensions[get_column_letter(index)].width = 28 if index == 2 else 16
    last = 3 + 200
    for index, f in enumerate(FIELDS, start=2):
        letter = get_column_letter(index)
        number_format = "DD/MM/YYYY" if f.key in DATE_KEYS else "@"
        for r in range(4, last + 1):
            ws[f"{letter}{r}"].number_format = number_format
        if f.key == "gender":
            rule = DataValidation(type="list", formula1='"Nam,Nữ"', allow_blank=True)
        elif f.key == "position":
            rule = DataValidation(type="list", formula1='"Bí thư,Phó Bí thư,Chi ủy viên,Đảng viên"', allow_blank=True)
        else:
            continue
        ws.add_data_validation(rule)
        rule.add(f"{letter}4:{letter}{last}")
    ws.freeze_panes = "C4"
    guide = workbook.create_sheet("Hướng dẫn")
    for line in (
        "Mỗi đảng viên một dòng, bắt đầu từ dòng 4. Giữ nguyên dòng tiêu đề cột (dòng 3).",
        "Bắt buộc: Họ và tên, Ngày sinh, Giới tính (Nam hoặc Nữ), Ngày vào Đảng.",
        "Ngày ghi theo dạng ngày/tháng/năm, ví dụ 02/09/2016.",
        "Chức vụ: Bí thư, Phó Bí thư hoặc Chi ủy viên được ghi nhận từ ngày nhập; bỏ trống nếu là đảng viên.",
        "Đảng viên đã có trong chi bộ (cùng số thẻ) được bỏ qua, không nhập trùng.",
        "Ví dụ: Nguyễn Văn An | 15/08/1985 | Nam | 19/05/2010 | 19/05/2011 | 79123456 | Chi ủy viên",
    ):
        guide.append([line])
    guide.column_dimensions["A"].width = 110
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
