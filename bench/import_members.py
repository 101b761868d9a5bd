"""Time to read, check and import N members (default 500) from an .xlsx on the current DATABASE_URL.

Runs in a throwaway database of its own (bench_import_<name>, created and dropped, never the test
suite's), so the figures never touch real data:

    .venv/bin/python bench/import_members.py [rows]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/chibo_dev .venv/bin/python bench/import_members.py
"""

import datetime
import io
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

import openpyxl  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

HEADER = ["STT", "Họ và tên", "Ngày sinh", "Giới tính", "Ngày vào Đảng", "Ngày chính thức", "Số thẻ", "SĐT", "Chức vụ"]


def hand_kept_list(rows: int) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["DANH SÁCH ĐẢNG VIÊN"])
    ws.append([])
    ws.append(HEADER)
    for n in range(1, rows + 1):
        born = datetime.date(1950, 1, 1) + datetime.timedelta(days=(n * 37) % 15000)
        admitted = born + datetime.timedelta(days=9200)  # about 25 years old
        ws.append(
            [
                n,
                f"Nguyễn Thị Hằng {n}",
                born.strftime("%d/%m/%Y") if n % 2 else datetime.datetime.combine(born, datetime.time()),
                "Nữ" if n % 3 else "Nam",
                admitted.strftime("%d/%m/%Y"),
                (admitted + datetime.timedelta(days=400)).strftime("%d/%m/%Y"),
                f"{60000000 + n}",
                900000000 + n,
                "Chi ủy viên" if n % 100 == 0 else "",
            ]
        )
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def main(rows: int) -> None:
    from cells.models import PartyUnit
    from members import imports
    from members.models import Member, User

    committee = PartyUnit.objects.create(kind=PartyUnit.Kind.COMMITTEE, name="Đảng bộ phường Bench")
    cell = PartyUnit.objects.create(kind=PartyUnit.Kind.CELL, name="Chi bộ Bench", parent=committee)
    user = User.objects.create(username="bench-secretary")
    data = hand_kept_list(rows)

    started = time.perf_counter()
    sheet = imports.load(data, "danh-sach.xlsx")
    read = time.perf_counter()
    preview = imports.build_preview(cell=cell, sheet=sheet, mapping=sheet.mapping, joined_on=datetime.date(2024, 1, 1))
    checked = time.perf_counter()
    result = imports.members_import(
        cell=cell, sheet=sheet, mapping=sheet.mapping, joined_on=datetime.date(2024, 1, 1), by=user
    )
    done = time.perf_counter()

    assert preview.new_count == rows and result.new_count == rows, (preview.error_count, result.new_count)
    assert Member.history.filter(history_type="+").count() == rows
    print(f"rows: {rows} ({connection.vendor}, {len(data) // 1024} KB .xlsx)")
    print(f"read .xlsx: {read - started:.2f} s")
    print(f"check (preview): {checked - read:.2f} s")
    print(f"import (one transaction, checks again): {done - checked:.2f} s")
    print(f"total: {done - started:.2f} s")


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    setup_test_environment()
    test_settings = connection.settings_dict.setdefault("TEST", {})
    if connection.vendor == "sqlite":
        # A file in WAL mode, as the app runs, not an in-memory database.
        tmpdir = tempfile.mkdtemp(prefix="bench-import-")
        test_settings["NAME"] = os.path.join(tmpdir, "bench.sqlite3")
    else:
        test_settings["NAME"] = f"bench_import_{connection.settings_dict['NAME']}"
    original = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        main(count)
    finally:
        connection.creation.destroy_test_db(original, verbosity=0)
