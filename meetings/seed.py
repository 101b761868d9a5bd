"""Demo data, step 3 of seed_demo: a year of meetings in every demo cell, up to the next one.

Per cell and month: the committee's pre-meeting 3–10 days before (a few small cells skip it now and
then), the regular meeting around the 10th, a thematic meeting each quarter (sometimes combined with
the regular one); one cell misses a month and one enterprise cell attends at about 70%. Attendance,
guests, minutes, speeches, the vote and the dues collected at the meeting all go through
meetings.services and members.services, so validation and audit history hold as in the app. The
meetings of the last CLOSE_MONTHS months are closed (each with its stored PDF), older ones stay held;
the next regular meeting and its committee meeting, when still ahead, stay scheduled.
"""

from __future__ import annotations

import datetime
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import TextIO

from django.utils import timezone
from django.utils.text import slugify

from cells.models import PartyUnit
from cells.seed import FIRST_RESIDENTIAL_CELL
from cells.text import fold
from members import services as member_services
from members.models import Member, Membership, Position, User, add_months

from . import services
from .models import Attendance, Meeting

UnitType = PartyUnit.UnitType
Kind = Meeting.Kind
Status = Attendance.Status
Role = Position.Role

# Minutes are closed (WeasyPrint renders and stores each PDF, ~0.08 s of CPU) for the meetings of the last
# CLOSE_MONTHS months; older ones stay "held". Closing all ~330 would add ~20 s to the seed. None: all.
CLOSE_MONTHS: int | None = 3

PLACES = {
    "Chi bộ Tổ dân phố 1": "Nhà văn hóa tổ dân phố 1",
    "Chi bộ Tổ dân phố 2": "Nhà văn hóa tổ dân phố 2",
    "Chi bộ Trường THCS Tam Đảo": "Phòng họp Hội đồng sư phạm, Trường THCS Tam Đảo",
    "Chi bộ Cơ quan Ủy ban nhân dân phường": "Phòng họp UBND phường",
    "Chi bộ Công an phường Tam Đảo": "Hội trường Công an phường Tam Đảo",
    "Chi bộ thôn Sơn Đình": "Nhà văn hóa thôn Sơn Đình",
    "Chi bộ thôn Đồng Bùa": "Nhà văn hóa thôn Đồng Bùa",
    "Chi bộ Trạm Y tế xã Đại Đình": "Phòng giao ban Trạm Y tế xã Đại Đình",
    "Chi bộ Quân sự xã Đại Đình": "Phòng họp Ban Chỉ huy Quân sự xã",
    "Chi bộ Công ty TNHH Du lịch Tây Thiên": "Văn phòng Công ty TNHH Du lịch Tây Thiên",
    "Chi bộ Xí nghiệp Vệ sinh môi trường số 1": "Hội trường Xí nghiệp Vệ sinh môi trường số 1",
    "Chi bộ Phòng Kỹ thuật – Kế hoạch": "Phòng họp tầng 2, Công ty CP Môi trường Vĩnh Phúc",
    "Chi bộ Công ty TNHH Cơ khí Phúc Yên": "Phòng họp Công ty TNHH Cơ khí Phúc Yên",
}
WEAK_CELL = "Chi bộ Công ty TNHH Cơ khí Phúc Yên"  # ~70% attendance, like the bloc that started below 70%
MISSES_A_MONTH = "Chi bộ Công ty TNHH Du lịch Tây Thiên"  # high season: no meeting four months ago
SKIP_COMMITTEE = {"Chi bộ Công ty TNHH Du lịch Tây Thiên", WEAK_CELL, "Chi bộ Trạm Y tế xã Đại Đình"}
FEWER_THEMATIC = {"Chi bộ Công ty TNHH Du lịch Tây Thiên", WEAK_CELL}
# Members who leave dues unpaid in the last ended months of the year: (cell, months) → a discipline warning.
DEBTORS = [(WEAK_CELL, 3), ("Chi bộ thôn Đồng Bùa", 2)]

EXCUSES = ["Ốm", "Đi công tác", "Việc gia đình", "Đi khám bệnh", "Con ốm", "Trực cơ quan", "Đi học tập trung"]
TOPICS = [
    "Học tập và làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh về tinh thần trách nhiệm, nêu gương của "
    "cán bộ, đảng viên",
    "Học tập và làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh về thực hành tiết kiệm, chống lãng phí",
    "Học tập và làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh về xây dựng Đảng trong sạch, vững mạnh",
    "Nâng cao chất lượng sinh hoạt chi bộ",
    "Chuyển đổi số trong công tác đảng",
    "Bảo vệ nền tảng tư tưởng của Đảng, đấu tranh phản bác các quan điểm sai trái, thù địch",
    "Quán triệt, thực hiện Nghị quyết Đại hội Đảng bộ các cấp nhiệm kỳ 2025–2030",
    "Phòng, chống tham nhũng, lãng phí, tiêu cực trong cơ quan, đơn vị",
]
TOPIC_BY_TYPE = {
    UnitType.RESIDENTIAL: "Phát huy vai trò nêu gương của đảng viên nơi cư trú trong xây dựng khu dân cư văn hóa",
    UnitType.STATE_AGENCY: "Cải cách hành chính, nâng cao sự hài lòng của người dân và doanh nghiệp",
    UnitType.POLICE: "Xây dựng lực lượng Công an nhân dân thật sự trong sạch, vững mạnh, chính quy, tinh nhuệ",
    UnitType.ARMY: "Xây dựng nền quốc phòng toàn dân, thế trận lòng dân vững chắc ở cơ sở",
    UnitType.PUBLIC_SERVICE: "Nâng cao chất lượng phục vụ nhân dân, y đức và đạo đức nhà giáo",
    UnitType.STATE_ENTERPRISE: "Nâng cao hiệu quả sản xuất kinh doanh, bảo đảm việc làm cho người lao động",
    UnitType.PRIVATE_ENTERPRISE: "Phát triển đảng viên trong doanh nghiệp ngoài khu vực nhà nước",
}
WORK = {
    UnitType.RESIDENTIAL: [
        "vận động nhân dân tổng vệ sinh đường làng, ngõ xóm vào sáng chủ nhật hằng tuần",
        "phối hợp Ban công tác Mặt trận thăm hỏi các gia đình chính sách, hộ nghèo",
        "giữ vững an ninh trật tự, không để xảy ra tụ tập đông người trái pháp luật",
        "hướng dẫn người dân cài đặt, kích hoạt tài khoản định danh điện tử VNeID",
        "hòa giải thành công {k} vụ mâu thuẫn trong khu dân cư",
        "thu quỹ phòng, chống thiên tai đạt {p}% kế hoạch",
        "phun thuốc diệt muỗi, phòng, chống sốt xuất huyết",
    ],
    UnitType.PUBLIC_SERVICE: [
        "hoàn thành kế hoạch chuyên môn của tháng",
        "khám, tiêm chủng mở rộng cho {k} trẻ em trên địa bàn",
        "tổ chức dự giờ, thao giảng {k} tiết, bồi dưỡng học sinh giỏi",
        "giám sát dịch bệnh, không để xảy ra ổ dịch",
        "kiểm tra hồ sơ chuyên môn, chấn chỉnh kịp thời những sai sót",
    ],
    UnitType.STATE_AGENCY: [
        "giải quyết đúng hạn {p}% hồ sơ thủ tục hành chính",
        "duy trì tiếp công dân định kỳ, giải quyết dứt điểm {k} đơn thư",
        "thu ngân sách đạt {p}% dự toán tháng",
        "vận hành ổn định Trung tâm phục vụ hành chính công phường",
    ],
    UnitType.POLICE: [
        "tuần tra, kiểm soát, bảo đảm an ninh trật tự trên địa bàn",
        "tiếp nhận, giải quyết {k} tin báo, tố giác tội phạm",
        "cấp căn cước cho {k} trường hợp",
        "tuyên truyền phòng cháy, chữa cháy tại khu dân cư",
    ],
    UnitType.ARMY: [
        "duy trì nghiêm chế độ trực sẵn sàng chiến đấu",
        "huấn luyện dân quân đúng kế hoạch, bảo đảm an toàn",
        "đăng ký, quản lý công dân trong độ tuổi sẵn sàng nhập ngũ",
        "phối hợp Công an xã tuần tra, bảo vệ các mục tiêu trọng điểm",
    ],
    UnitType.STATE_ENTERPRISE: [
        "thu gom, vận chuyển rác thải sinh hoạt đúng tuyến, đúng giờ",
        "bảo đảm an toàn lao động, không để xảy ra tai nạn",
        "doanh thu đạt {p}% kế hoạch tháng",
        "bảo dưỡng phương tiện, thiết bị theo định kỳ",
    ],
    UnitType.PRIVATE_ENTERPRISE: [
        "ổn định sản xuất, bảo đảm việc làm cho người lao động",
        "hoàn thành {p}% đơn hàng theo kế hoạch",
        "phối hợp Công đoàn chăm lo đời sống công nhân",
        "giới thiệu {k} quần chúng ưu tú học lớp bồi dưỡng nhận thức về Đảng",
    ],
}
SHORTCOMINGS = [
    "một số đảng viên còn đến sinh hoạt chưa đúng giờ",
    "việc thu nộp đảng phí của một vài đồng chí còn chậm",
    "số đảng viên phát biểu ý kiến trong sinh hoạt chi bộ chưa nhiều",
    "việc cập nhật thông tin, tài liệu trên ứng dụng còn chậm",
    "công tác tuyên truyền có lúc chưa kịp thời",
]
# What a month asks of every cell (the tasks a meeting sets for the month it is held for).
MONTH_TASKS = {
    1: "chuẩn bị đón Tết Nguyên đán vui tươi, an toàn, tiết kiệm; kỷ niệm Ngày thành lập Đảng (3/2)",
    2: "thăm, tặng quà gia đình chính sách dịp Tết; phát động Tết trồng cây",
    3: "hưởng ứng Tháng Thanh niên; kỷ niệm Ngày thành lập Đoàn TNCS Hồ Chí Minh (26/3)",
    4: "kỷ niệm Ngày Giải phóng miền Nam, thống nhất đất nước (30/4) và Ngày Quốc tế Lao động (1/5)",
    5: "kỷ niệm Ngày sinh Chủ tịch Hồ Chí Minh (19/5); chuẩn bị phòng, chống thiên tai mùa mưa bão",
    6: "hưởng ứng Tháng hành động vì trẻ em; bảo đảm an toàn kỳ thi tốt nghiệp trung học phổ thông",
    7: "kỷ niệm Ngày Thương binh – Liệt sĩ (27/7); thăm, tặng quà gia đình thương binh, liệt sĩ",
    8: "kỷ niệm Cách mạng Tháng Tám và Quốc khánh 2/9; chuẩn bị năm học mới",
    9: "tổ chức Tết Trung thu cho thiếu nhi; hưởng ứng khai giảng năm học mới",
    10: "kỷ niệm Ngày Phụ nữ Việt Nam 20/10; phòng, chống lụt bão cuối mùa",
    11: "tổ chức Ngày hội Đại đoàn kết toàn dân tộc (18/11); chuẩn bị kiểm điểm, đánh giá cuối năm",
    12: "kiểm điểm, đánh giá, xếp loại tổ chức đảng và đảng viên năm {year}; kỷ niệm Ngày thành lập "
    "Quân đội nhân dân Việt Nam (22/12)",
}
NEWS = [
    "Thông tin thời sự trong nước, quốc tế nổi bật trong tháng; thông báo kết quả hội nghị Ban Chấp hành {parent}.",
    "Quán triệt Hướng dẫn 42-HD/BTCTW về nâng cao chất lượng sinh hoạt chi bộ; tình hình kinh tế – xã hội "
    "của tỉnh tháng {month}.",
    "Thông báo nhanh kết quả hội nghị Tỉnh ủy; văn bản chỉ đạo mới của {parent} về công tác xây dựng Đảng.",
    "Tình hình thời sự nổi bật; kế hoạch của {parent} về chuyển đổi số và cải cách hành chính trong tháng {month}.",
]
SPEECHES = [
    "Nhất trí với báo cáo đánh giá kết quả tháng {last}; việc {work} là điểm sáng, cần tiếp tục phát huy.",
    "Đề nghị bổ sung vào nghị quyết nhiệm vụ {task}, phân công cụ thể đảng viên phụ trách.",
    "Đề nghị mỗi đảng viên gương mẫu, vận động gia đình và quần chúng cùng thực hiện nhiệm vụ tháng {month}.",
    "Phản ánh ý kiến của quần chúng về {issue}; đề nghị chi bộ kiến nghị cấp trên xem xét, giải quyết.",
    "Thống nhất với dự thảo nghị quyết; đề nghị khắc phục tồn tại: {shortcoming}.",
]
THEMATIC_SPEECHES = [
    "Chuyên đề thiết thực; bản thân sẽ liên hệ, xây dựng kế hoạch làm theo gắn với nhiệm vụ được giao.",
    "Đề nghị chi bộ cụ thể hóa chuyên đề thành những việc làm cụ thể, kiểm tra việc thực hiện hằng quý.",
    "Liên hệ thực tế ở đơn vị: việc {work} là minh chứng cho tinh thần của chuyên đề, cần tiếp tục phát huy.",
    "Đề nghị bổ sung vào kết luận chuyên đề yêu cầu nêu gương của cán bộ, đảng viên, trước hết là cấp ủy viên.",
]
ISSUES = {
    UnitType.RESIDENTIAL: ["đèn chiếu sáng ngõ xóm hỏng chưa được thay", "đường nội thôn xuống cấp sau mưa lớn"],
    UnitType.STATE_ENTERPRISE: ["chế độ bồi dưỡng cho người lao động làm ca đêm", "phương tiện xuống cấp"],
    UnitType.PRIVATE_ENTERPRISE: ["tiền lương làm thêm giờ của công nhân", "nhà ở cho công nhân ở xa"],
}
ISSUE_DEFAULT = ["khối lượng công việc tăng cao vào cuối năm", "trang thiết bị làm việc cần được bổ sung"]


@dataclass
class Planned:
    kind: str
    start: datetime.datetime
    minutes: int  # how long it actually lasts, if held
    year: int | None = None  # the month a regular meeting is for (a committee meeting: the one it prepares)
    month: int | None = None
    topic: str = ""
    combined: bool = False


@dataclass
class CellData:
    cell: PartyUnit
    by: User
    attendance: float  # chance that an expected member comes
    unexcused: float  # share of absences without a reason
    offices: list[Position] = field(default_factory=list)  # the cell's own, with their members
    delegate: tuple[str, str] | None = None  # (name, title) of the supervising member of the committee above


def _aware(day: datetime.date, hour: int, minute: int) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def _month_shift(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + month - 1 + months
    return index // 12, index % 12 + 1


def _plan(rng: random.Random, cell: PartyUnit, now: datetime.datetime) -> list[Planned]:
    """The cell's meetings: twelve months held and the next regular meeting, in date order."""
    home = cell.unit_type == UnitType.RESIDENTIAL
    hour, minute = (19, 30) if home else rng.choice([(14, 0), (16, 0), (8, 0)])
    today = timezone.localdate(now)
    regular = []
    for shift in range(-13, 2):
        year, month = _month_shift(today.year, today.month, shift)
        day = datetime.date(year, month, rng.randint(8, 12))
        if not home and day.weekday() >= 5:
            day -= datetime.timedelta(days=day.weekday() - 4)  # workplaces meet on the Friday before
        long = rng.random() < 0.85  # some meetings fall short of the 90 minutes of HD 42
        regular.append(
            Planned(Kind.REGULAR, _aware(day, hour, minute), rng.randint(92, 140) if long else 75, year, month)
        )
    upcoming = next(i for i, p in enumerate(regular) if p.start > now)
    regular = [p for p in regular[upcoming - 12 : upcoming + 1] if p.start.date() >= (cell.founded_on or today)]
    if cell.name == MISSES_A_MONTH:
        del regular[-5]
    planned = list(regular)
    for p in regular:
        if cell.name in SKIP_COMMITTEE and rng.random() < 0.3:
            continue
        day = p.start.date() - datetime.timedelta(days=rng.randint(3, 10))
        start = _aware(day, *rng.choice([(8, 0), (16, 30), (19, 30)]))
        planned.append(Planned(Kind.COMMITTEE, start, rng.randint(45, 80), p.year, p.month))
    # A thematic meeting each quarter, in its second or third month; sometimes held with the regular meeting.
    quarters = sorted({(p.year, (p.month - 1) // 3) for p in regular if p.start < now})
    topics = rng.sample(TOPICS, len(TOPICS)) + [TOPIC_BY_TYPE.get(cell.unit_type, TOPICS[3])]
    for n, (year, quarter) in enumerate(quarters[-4:]):
        if cell.name in FEWER_THEMATIC and rng.random() < 0.4:
            continue
        topic = topics[-1] if n == 2 else topics[n]
        # The second or third month of the quarter; the first when the quarter has only just begun.
        months = [quarter * 3 + m for m in rng.sample([2, 3], 2) + [1]]
        day, hour, minute = rng.randint(18, 26), *((19, 30) if home else (8, 0))
        starts = [_aware(datetime.date(year, month, day), hour, minute) for month in months]
        start = next((start for start in starts if regular[0].start < start < now), None)
        if start is None:
            continue
        same = next((p for p in regular if (p.year, p.month) == (year, start.month) and p.start < now), None)
        if same is not None and rng.random() < 0.2:
            same.combined, same.topic, same.minutes = True, topic, rng.randint(125, 160)
        else:
            planned.append(Planned(Kind.THEMATIC, start, rng.randint(95, 130), topic=topic))
    return sorted(planned, key=lambda p: p.start)


def _office_on(data: CellData, day: datetime.date, *roles: str, other_than: Member | None = None) -> Member | None:
    for role in roles:
        for position in data.offices:
            if position.role == role and position.start <= day and (position.end is None or position.end >= day):
                if position.member != other_than:
                    return position.member
    return None


def _fill(rng: random.Random, text: str, **values) -> str:
    return text.format(k=rng.randint(2, 9), p=rng.randint(92, 100), **values)


def _texts(rng: random.Random, data: CellData, meeting: Meeting, p: Planned) -> dict[str, tuple[str, str]]:
    """Content and conclusion per agenda key, in Vietnamese."""
    day = p.start.date()
    # The meeting for a month (held around the 10th) reviews the month before and sets this month's tasks.
    cell, year, month = data.cell, p.year or day.year, p.month or day.month
    last = _month_shift(year, month, -1)[1]
    pool = WORK.get(cell.unit_type, WORK[UnitType.STATE_AGENCY])
    work = [_fill(rng, w) for w in rng.sample(pool, 2)]
    steady = rng.choice([w for w in pool if "{" not in w])
    task = MONTH_TASKS[month].format(year=year)
    parent = cell.parent.short_name or cell.parent.name
    assessment = (
        f"Trong tháng {last}, chi bộ đã lãnh đạo thực hiện các nhiệm vụ đề ra: {work[0]}; {work[1]}. "
        f"Đảng viên chấp hành tốt chủ trương, đường lối của Đảng, chính sách, pháp luật của Nhà nước. "
        f"Tồn tại: {rng.choice(SHORTCOMINGS)}."
    )
    tasks = (
        f"Nhiệm vụ tháng {month}/{year}: {task}; tiếp tục {steady}; thu nộp đảng phí đầy đủ, "
        f"đúng hạn; duy trì sinh hoạt chi bộ định kỳ đúng quy định."
    )
    news = rng.choice(NEWS).format(parent=parent, month=last)
    if meeting.kind == Kind.COMMITTEE:
        return {
            "assessment": (f"Đánh giá sơ bộ kết quả tháng {last}: {work[0]}.", ""),
            "content": (f"Thống nhất nội dung sinh hoạt chi bộ tháng {month}: {task}.", ""),
            "draft": ("Thông qua dự thảo nghị quyết, phân công chuẩn bị báo cáo và thu đảng phí.", ""),
        }
    topic = meeting.topic
    return {
        "news": (news, ""),
        "assessment": (assessment, ""),
        "tasks": (tasks, ""),
        "presentation": (
            f"Trình bày chuyên đề “{topic}”: nội dung cốt lõi, liên hệ thực tiễn của đơn vị và những việc mỗi "
            f"đảng viên cam kết thực hiện.",
            "",
        ),
        "discussion": ("", "Chi bộ thống nhất cao với báo cáo và các ý kiến đóng góp; giao chi ủy tiếp thu, bổ sung."),
        "conclusion": (
            "",
            f"Chi bộ thống nhất ban hành kết luận chuyên đề; mỗi đảng viên xây dựng kế hoạch làm theo về “{topic}”.",
        ),
    }


def _statuses(rng: random.Random, data: CellData, rows: list[Attendance], keep: set[int]) -> dict[int, tuple]:
    """(status, reason, approved, late) per member; `keep` must be present (chair, secretary)."""
    decided = {}
    for row in rows:
        member = row.member
        if row.is_suspended:
            decided[member.pk] = (Status.ABSENT_EXCUSED, "Đang bị đình chỉ sinh hoạt đảng", False, False)
        elif row.is_attached_elsewhere:
            decided[member.pk] = (Status.ABSENT_EXCUSED, "Sinh hoạt tạm thời tại chi bộ khác", True, False)
        elif row.is_exempted and member.pk not in keep and rng.random() < 0.85:
            decided[member.pk] = (Status.ABSENT_EXCUSED, "Được miễn công tác và sinh hoạt đảng", True, False)
        elif member.pk in keep or rng.random() < data.attendance:
            # Members who work away follow the meeting online (the seeds' cells adopted it to raise attendance).
            online = member.works_away and rng.random() < 0.8
            decided[member.pk] = (Status.ONLINE if online else Status.PRESENT, "", False, rng.random() < 0.04)
        elif rng.random() < data.unexcused:
            decided[member.pk] = (Status.ABSENT_UNEXCUSED, "", False, False)
        else:
            reason = "Đi công tác" if member.works_away else rng.choice(EXCUSES)
            decided[member.pk] = (Status.ABSENT_EXCUSED, reason, rng.random() < 0.9, False)
    return decided


def _hold(rng: random.Random, data: CellData, meeting: Meeting, p: Planned, paid: dict, unpaid: set) -> Meeting:
    by, day = data.by, p.start.date()
    meeting = services.meeting_open(meeting=meeting, by=by)
    chair = _office_on(data, day, Role.SECRETARY, Role.DEPUTY_SECRETARY)
    clerk = _office_on(data, day, Role.COMMITTEE_MEMBER, Role.DEPUTY_SECRETARY, Role.SECRETARY, other_than=chair)
    rows = list(Attendance.objects.filter(meeting=meeting).select_related("member"))
    if p.kind == Kind.COMMITTEE:
        # The committee's own meeting: its members on that date.
        office = {pos.member_id for pos in data.offices if pos.start <= day and (pos.end is None or pos.end >= day)}
        rows = [row for row in rows if row.member_id in office]
    # Where no office holder is on record that day, a full member on the roll stands in.
    away = ("is_exempted", "is_suspended", "is_attached_elsewhere", "is_attached_here")
    able = [row.member for row in rows if row.is_full and not any(getattr(row, flag) for flag in away)]
    chair = chair or next(iter(able), None)
    clerk = clerk or next((m for m in able if m != chair), None)
    decided = _statuses(rng, data, rows, {m.pk for m in (chair, clerk) if m})
    for row in rows:
        status, reason, approved, late = decided[row.member_id]
        services.attendance_record(
            meeting=meeting, member=row.member, status=status, reason=reason, reason_approved=approved,
            arrived_late=late, by=by,
        )  # fmt: skip
    present = [row.member for row in rows if decided[row.member_id][0] in Attendance.PRESENT_STATUSES]
    if p.kind == Kind.REGULAR:
        for row in rows:
            key = (row.member_id, p.year, p.month)
            if not row.is_attached_here and row.member in present and key not in unpaid:
                paid.setdefault(key, day)  # dues collected at the meeting
    if p.kind != Kind.COMMITTEE and data.delegate and rng.random() < 0.3:
        name, title = data.delegate
        services.guest_add(meeting=meeting, name=name, title=title, by=by)
    start = p.start + datetime.timedelta(minutes=rng.choice([0, 0, 5, 10]))
    end = start + datetime.timedelta(minutes=p.minutes)
    services.minutes_header_save(meeting=meeting, chair=chair, minutes_secretary=clerk, actual_start=start, by=by)
    texts = _texts(rng, data, meeting, p)
    for item in meeting.agenda.all():
        content, conclusion = texts.get(item.key, ("", ""))
        if item.key == "opening" and p.kind == Kind.REGULAR:
            payers = sum(paid.get((row.member_id, p.year, p.month)) == day for row in rows)
            content = (
                f"Chi bộ thu đảng phí tháng {p.month}/{p.year}: {payers} đồng chí nộp tại buổi sinh hoạt. "
                f"Báo cáo tình hình đảng viên dự sinh hoạt; thông qua chương trình; cử thư ký hội nghị."
            )
        if content or conclusion:
            services.agenda_item_save(
                item=item, base_version=item.version, content=content, conclusion=conclusion, by=by
            )
        if item.key == "discussion":
            speakers = [m for m in present if m != chair]
            for member in rng.sample(speakers, min(len(speakers), rng.randint(2, 4))):
                month = p.month or day.month
                text = rng.choice(THEMATIC_SPEECHES if p.kind == Kind.THEMATIC else SPEECHES).format(
                    month=month,
                    last=_month_shift(day.year, month, -1)[1],
                    work=_fill(rng, rng.choice(WORK.get(data.cell.unit_type, WORK[UnitType.STATE_AGENCY]))),
                    task=MONTH_TASKS[month].format(year=p.year or day.year),
                    issue=rng.choice(ISSUES.get(data.cell.unit_type, ISSUE_DEFAULT)),
                    shortcoming=rng.choice(SHORTCOMINGS),
                )
                services.speech_add(item=item, member=member, summary=text, by=by)
    if p.kind == Kind.REGULAR:
        full_present = services.counts_for(meeting).full_present
        against, other = (0, 0) if rng.random() < 0.8 else rng.choice([(1, 0), (0, 1)])
        services.vote_record(
            meeting=meeting,
            subject=f"Nghị quyết chi bộ tháng {p.month} năm {p.year}",
            votes_for=max(0, full_present - against - other),
            votes_against=against if full_present > 1 else 0,
            votes_other=other if full_present > 1 else 0,
            by=by,
        )
    return services.meeting_finish(meeting=meeting, actual_end=end, by=by)


ROLE_VI = {
    Role.SECRETARY: "Bí thư",
    Role.DEPUTY_SECRETARY: "Phó Bí thư",
    Role.STANDING_MEMBER: "Ủy viên Ban Thường vụ",
    Role.COMMITTEE_MEMBER: "Đảng ủy viên",
}


def _cell_data(rng: random.Random, cell: PartyUnit, admin: User, capuy: Member | None) -> CellData:
    offices = list(Position.objects.filter(unit=cell, member__isnull=False).select_related("member__user"))
    secretary = next((p.member for p in offices if p.role == Role.SECRETARY and p.end is None), None)
    weak = cell.name == WEAK_CELL
    # The member of the committee above who supervises the cell (phụ trách) and attends some meetings;
    # the ward committee member of the demo logins supervises the demo cell.
    above = list(
        Position.objects.filter(unit=cell.parent, member__isnull=False, role__in=list(ROLE_VI), end__isnull=True)
        .exclude(role=Role.SECRETARY)
        .select_related("member")
        .order_by("pk")
    )
    supervisor = next(
        (p for p in above if capuy and p.member_id == capuy.pk and cell.name == FIRST_RESIDENTIAL_CELL), None
    )
    supervisor = supervisor or (rng.choice(above) if above else None)
    parent = cell.parent.short_name or cell.parent.name
    return CellData(
        cell=cell,
        by=secretary.user if secretary is not None and secretary.user_id else admin,
        attendance=0.62 if weak else rng.uniform(0.87, 0.97),
        unexcused=0.35 if weak else 0.06,
        offices=offices,
        delegate=(supervisor.member.full_name, f"{ROLE_VI[supervisor.role]} {parent}, phụ trách chi bộ")
        if supervisor
        else None,
    )


def _debtors(rng: random.Random, today: datetime.date) -> tuple[list[Member], set[tuple[int, int, int]]]:
    """A couple of ordinary members who leave dues unpaid in the last ended months of one calendar
    year (the discipline counter looks at a calendar year): one reaches the warning, one the alert."""
    year, last = _month_shift(today.year, today.month, -1)
    members, unpaid = [], set()
    for cell_name, months in DEBTORS:
        pool = list(
            Member.objects.filter(
                memberships__cell__name=cell_name,
                memberships__end__isnull=True,
                ended_on__isnull=True,
                user__isnull=True,
                positions__isnull=True,
                attachments__isnull=True,
                admitted_on__lt=datetime.date(year, 1, 1),
            ).exclude(memberships__end__isnull=False)
        )
        member = rng.choice(sorted(pool, key=lambda m: m.pk))
        members.append(member)
        unpaid |= {(member.pk, year, month) for month in range(max(1, last - months + 1), last + 1)}
    return members, unpaid


def _dues(rng: random.Random, today: datetime.date, paid: dict, unpaid: set, admin: User) -> int:
    """One payment per member and month on the roll (DOMAIN.md "Dues"): at the meeting when present,
    else to the secretary later that month."""
    first = min(((year, month) for _, year, month in paid), default=(today.year, today.month))
    memberships = defaultdict(list)
    for m in Membership.objects.select_related("member", "cell").order_by("member_id", "start"):
        memberships[m.member].append(m)
    count = 0
    for member, rows in memberships.items():
        # 1% of salary or 0.5% of pension: residential cells are mostly pensioners.
        pensioner = rows[-1].cell.unit_type == UnitType.RESIDENTIAL
        amount = rng.randrange(10, 21) * 1000 if pensioner else rng.randrange(20, 51) * 1000
        year, month = first
        while (year, month) <= (today.year, today.month):
            end = add_months(datetime.date(year, month, 1), 1) - datetime.timedelta(days=1)
            on_roll = any(m.start <= end and (m.end is None or m.end > end) for m in rows)
            on_roll = on_roll and member.admitted_on <= end and (member.ended_on is None or member.ended_on > end)
            day = paid.get((member.pk, year, month))
            if day is None and on_roll and end < today and (member.pk, year, month) not in unpaid:
                day = max(datetime.date(year, month, 1), min(end, today) - datetime.timedelta(days=rng.randint(0, 12)))
            if day is not None:
                member_services.dues_record(member=member, year=year, month=month, amount=amount, paid_on=day, by=admin)
                count += 1
            year, month = _month_shift(year, month, 1)
    return count


def seed(stdout: TextIO, rng: random.Random) -> None:
    now = timezone.now()
    today = timezone.localdate(now)
    admin = User.objects.get(username="admin")
    capuy = Member.objects.filter(user__username="capuy").first()
    debtors, unpaid = _debtors(rng, today)
    paid: dict[tuple[int, int, int], datetime.date] = {}
    close_from = None if CLOSE_MONTHS is None else add_months(today, -CLOSE_MONTHS)
    statuses: Counter = Counter()
    kinds: Counter = Counter()
    for cell in PartyUnit.objects.filter(kind=PartyUnit.Kind.CELL).select_related("parent").order_by("pk"):
        data = _cell_data(rng, cell, admin, capuy)
        place = PLACES.get(cell.name, f"Hội trường {cell.name.removeprefix('Chi bộ ')}")
        # A residential cell's committee meets at the secretary's home.
        committee_place = "Nhà đồng chí Bí thư chi bộ" if cell.unit_type == UnitType.RESIDENTIAL else place
        # Members who work away follow the meetings online.
        works_away = Membership.objects.filter(cell=cell, member__works_away=True).exists()
        online_link = f"https://meet.example.com/{slugify(fold(cell.name))}" if works_away else ""
        for p in _plan(rng, cell, now):
            presenter = _office_on(data, p.start.date(), Role.DEPUTY_SECRETARY, Role.SECRETARY) if p.topic else None
            meeting = services.meeting_schedule(
                unit=cell,
                kind=p.kind,
                combined_thematic=p.combined,
                period_year=p.year if p.kind == Kind.REGULAR else None,
                period_month=p.month if p.kind == Kind.REGULAR else None,
                topic=p.topic,
                presenters=[presenter] if presenter else (),
                scheduled_start=p.start,
                planned_minutes=150 if p.combined else 60 if p.kind == Kind.COMMITTEE else 120,
                place=committee_place if p.kind == Kind.COMMITTEE else place,
                online_link=online_link if p.kind != Kind.COMMITTEE else "",
                by=data.by,
            )
            kinds[p.kind] += 1
            if p.start > now:
                statuses[meeting.status] += 1
                continue
            meeting = _hold(rng, data, meeting, p, paid, unpaid)
            # Closed with its PDF unless older than CLOSE_MONTHS, or the roll lists someone the seed does
            # not record (services.roll_on puts a temporarily attached member on the committee's roll).
            if (close_from is None or p.start.date() >= close_from) and not services.close_problems(meeting):
                meeting = services.minutes_close(meeting=meeting, by=data.by)
            statuses[meeting.status] += 1
    dues = _dues(rng, today, paid, unpaid, admin)
    stdout.write(
        f"Meetings: {sum(kinds.values())} ({kinds[Kind.REGULAR]} regular, {kinds[Kind.COMMITTEE]} committee, "
        f"{kinds[Kind.THEMATIC]} thematic; {', '.join(f'{n} {s}' for s, n in sorted(statuses.items()))}), "
        f"{Attendance.objects.count()} attendance rows, {dues} dues payments; behind with dues: "
        f"{', '.join(m.full_name for m in debtors)}.\n"
    )
