"""Time to render a 4-page biên bản (25 members, 8 agenda items with several speeches each).

Builds the meeting through the services in a throwaway database of its own (a temporary SQLite file,
or bench_minutes_<name> on PostgreSQL; created and dropped), then renders the minutes as the close
and the download do, and prints the first render, the median of 20 warm renders and the page count:

    .venv/bin/python bench/minutes_pdf.py [out.pdf]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/chibo_dev .venv/bin/python bench/minutes_pdf.py
"""

import datetime
import io
import os
import shutil
import statistics
import sys
import tempfile
import time
import zoneinfo
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

TZ = zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý"]
MIDDLE = ["Văn", "Thị", "Quốc", "Minh", "Thị Ngọc", "Đức", "Thanh", "Hữu"]
GIVEN = ["An", "Bình", "Cường", "Dũng", "Hằng", "Hạnh", "Khánh", "Lan", "Long", "Mai", "Nam", "Phúc", "Quyết"]
TITLES = [
    "Khai mạc: thu đảng phí, báo cáo tình hình đảng viên dự họp, thông qua chương trình, cử thư ký",
    "Thông tin thời sự, phổ biến chủ trương, nghị quyết của cấp trên",
    "Đánh giá kết quả thực hiện nhiệm vụ tháng 2 và nghị quyết tháng trước",
    "Phương hướng, nhiệm vụ tháng 4 năm 2026",
    "Thảo luận",
    "Công tác phát triển đảng viên và quản lý đảng viên",
    "Kết luận và biểu quyết thông qua nghị quyết",
    "Đọc và thông qua biên bản; bế mạc",
]
CONTENT = (
    "Trong tháng, chi bộ đã lãnh đạo các đoàn thể trong khu phố thực hiện tốt công tác vệ sinh môi trường, "
    "giữ gìn an ninh trật tự, vận động nhân dân tham gia đóng góp quỹ khuyến học và quỹ vì người nghèo."
)
SPEECH = "Nhất trí; đề nghị phân công người phụ trách."


def name(n: int) -> str:
    return f"{FAMILY[n % len(FAMILY)]} {MIDDLE[n % len(MIDDLE)]} {GIVEN[(n * 5) % len(GIVEN)]}"


def build():
    from cells.models import PartyUnit
    from meetings import services
    from members.models import Member, Membership, Position, User

    ward = PartyUnit.objects.create(kind=PartyUnit.Kind.COMMITTEE, name="Đảng bộ phường Tam Đảo", place_name="Tam Đảo")
    cell = PartyUnit.objects.create(kind=PartyUnit.Kind.CELL, name="Chi bộ Khu phố 1", parent=ward)
    by = User.objects.create(username="bench-secretary")
    members = []
    for n in range(25):
        member = Member.objects.create(
            full_name=name(n),
            birth_date=datetime.date(1960 + n, 5, 1),
            gender="male",
            admitted_on=datetime.date(2000, 3, 1),
            full_member_on=None if n >= 22 else datetime.date(2001, 3, 1),
            home_unit=cell,
        )
        Membership.objects.create(member=member, cell=cell, start=datetime.date(2015, 1, 1))
        members.append(member)
    Position.objects.create(unit=cell, role=Position.Role.SECRETARY, member=members[0], start=datetime.date(2020, 1, 1))

    start = datetime.datetime(2026, 3, 12, 8, 0, tzinfo=TZ)
    meeting = services.meeting_schedule(
        unit=cell, kind="regular", scheduled_start=start, place="Nhà văn hóa khu phố 1", by=by
    )
    meeting = services.meeting_open(meeting=meeting, by=by)
    for n, member in enumerate(members):
        if n in (7, 13):
            services.attendance_record(
                meeting=meeting, member=member, status="excused", reason="Đi công tác", reason_approved=True, by=by
            )
        elif n == 19:
            services.attendance_record(meeting=meeting, member=member, status="unexcused", by=by)
        else:
            services.attendance_record(meeting=meeting, member=member, status="online" if n == 5 else "present", by=by)
    services.guest_add(meeting=meeting, name="Nguyễn Văn Hùng", title="Phó Bí thư Đảng ủy phường", by=by)
    while meeting.agenda.count() < len(TITLES):
        services.agenda_item_add(meeting=meeting, title="Nội dung khác", by=by)
    for order, item in enumerate(meeting.agenda.order_by("order")):
        services.agenda_item_save(
            item=item,
            base_version=item.version,
            title=TITLES[order],
            content=CONTENT,
            conclusion="Chi bộ thống nhất giao chi ủy chỉ đạo thực hiện.",
            by=by,
        )
        for k in range(3):
            services.speech_add(item=item, member=members[(order * 3 + k) % 22], summary=SPEECH, by=by)
    services.vote_record(meeting=meeting, subject="Nghị quyết chi bộ tháng 3 năm 2026", votes_for=19, by=by)
    services.vote_record(meeting=meeting, subject="Kết nạp quần chúng Lê Thị Hoa vào Đảng", votes_for=18, by=by)
    services.minutes_header_save(
        meeting=meeting,
        chair=members[0],
        minutes_secretary=members[1],
        actual_end=start + datetime.timedelta(hours=2),
        by=by,
    )
    return services.meeting_finish(meeting=meeting, by=by)


def main(out: str | None) -> None:
    import pypdf

    meeting = build()

    from meetings import pdf
    from meetings.pdf import minutes_context, render_document, render_minutes_pdf

    started = time.perf_counter()
    pdf._get_renderer()  # imports WeasyPrint, makes the process's FontConfiguration
    imported = time.perf_counter()

    data = render_minutes_pdf(meeting, draft=False)
    first = time.perf_counter()
    warm = []
    for _ in range(20):
        t0 = time.perf_counter()
        render_minutes_pdf(meeting, draft=False)
        warm.append(time.perf_counter() - t0)
    queries = []
    for _ in range(20):
        t0 = time.perf_counter()
        context = minutes_context(meeting, draft=False)
        queries.append(time.perf_counter() - t0)
    layout = []
    for _ in range(5):
        t0 = time.perf_counter()
        render_document("meetings/pdf/minutes.html", context)
        layout.append(time.perf_counter() - t0)

    if out:
        Path(out).write_bytes(data)
    pages = len(pypdf.PdfReader(io.BytesIO(data)).pages)
    print(f"minutes: 25 members, 8 agenda items, 24 speeches, 2 votes ({connection.vendor})")
    print(f"pages: {pages}, {len(data) // 1024} KB")
    print(f"import weasyprint: {imported - started:.2f} s")
    print(f"first render: {first - imported:.3f} s")
    print(f"warm render, median of 20: {statistics.median(warm):.3f} s (min {min(warm):.3f}, max {max(warm):.3f})")
    print(f"  of which the database context: {statistics.median(queries) * 1000:.1f} ms")
    print(f"  of which template + WeasyPrint: {statistics.median(layout):.3f} s")
    print(f"target < 0.5 s: {'met' if statistics.median(warm) < 0.5 else 'NOT met'}")


if __name__ == "__main__":
    setup_test_environment()
    test_settings = connection.settings_dict.setdefault("TEST", {})
    tmpdir = None
    if connection.vendor == "sqlite":
        tmpdir = tempfile.mkdtemp(prefix="bench-minutes-")
        test_settings["NAME"] = os.path.join(tmpdir, "bench.sqlite3")
    else:
        test_settings["NAME"] = f"bench_minutes_{connection.settings_dict['NAME']}"
    original = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        main(sys.argv[1] if len(sys.argv) > 1 else None)
    finally:
        connection.creation.destroy_test_db(original, verbosity=0)
        if tmpdir:
            shutil.rmtree(tmpdir, ignore_errors=True)
