"""Demo data, step 3 of seed_demo: a year of meetings in every demo cell, up to the next one.

Per cell and month: the committee's pre-meeting 3–10 days before (a few small cells skip it now and
then), the regular meeting around the 10th, a thematic meeting each quarter (sometimes combined with
the regular one); one cell misses a month and one enterprise cell attends at about 70%. Every past
meeting is held with complete minutes (chair and secretary, attendance of the whole roll with
reasons, agenda texts, speeches, the vote, delegates) and the dues collected at it; the last regular
meeting of every cell is closed with its stored PDF, as the app closes it; the next regular meeting
and its committee meeting are scheduled, through meetings.services (reminders and notices as in the
app), so the secretary has a next step.

Past meetings are written in bulk (bulk_create with simple_history's bulk helper, so every row has
its audit history), ~40 statements instead of ~25,000 service calls: the rows are those the services
would write. The roll comes from `Tree.roll`, the in-memory twin of services.roll_on (tests compare
them), which the --scale step shares.
"""

from __future__ import annotations

import datetime
import operator
import random
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import TextIO

from django.core.management.color import no_style
from django.db import connection, models
from django.db.models import Max
from django.utils import timezone, translation
from django.utils.text import slugify

from cells.models import PartyUnit, UnitSetting
from cells.seed import FIRST_RESIDENTIAL_CELL
from cells.text import fold
from cells.tree_settings import DEFAULTS
from members.models import (
    DuesPayment,
    Member,
    Membership,
    Position,
    StatusPeriod,
    TemporaryAttachment,
    User,
    add_months,
)

from . import agenda, counting, services
from .models import AgendaItem, Attendance, Guest, Meeting, Speech, Vote

UnitType = PartyUnit.UnitType
Kind = Meeting.Kind
Status = Attendance.Status
Role = Position.Role

# The app has no lazy rendering of closed minutes (the download checks the stored PDF's SHA-256), so a
# closed meeting needs its PDF at once (WeasyPrint: ~0.5 s to load, ~0.1–0.3 s a document). The demo
# cell's last CLOSE_LAST regular meetings are closed, the members' minutes to read; every other past
# meeting stays "held" with complete minutes, ready for its secretary to close.
CLOSE_LAST = 1
HISTORY_REASON = "seed_demo"
COMMITTEE_ROLES = (Role.SECRETARY, Role.DEPUTY_SECRETARY, Role.COMMITTEE_MEMBER, Role.STANDING_MEMBER)

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


# --- The roll, in memory ---------------------------------------------------------------------------------


class Tree:
    """The rows of the earlier steps that the meetings need, read once, grouped by cell and member."""

    def __init__(self):
        self.cells = list(PartyUnit.objects.filter(kind=PartyUnit.Kind.CELL).select_related("parent").order_by("pk"))
        self.members = {
            pk: (admitted, full, ended, away)
            for pk, admitted, full, ended, away in Member.objects.values_list(
                "pk", "admitted_on", "full_member_on", "ended_on", "works_away"
            )
        }
        self.rolls = defaultdict(list)
        for member, cell, start, end in Membership.objects.values_list("member_id", "cell_id", "start", "end"):
            self.rolls[cell].append((member, start, end))
        self.periods = defaultdict(list)
        for member, kind, start, end in StatusPeriod.objects.values_list("member_id", "kind", "start", "end"):
            self.periods[member].append((kind, start, end))
        self.attached_here, self.attached = defaultdict(list), defaultdict(list)
        for member, cell, start, end in TemporaryAttachment.objects.values_list("member_id", "cell_id", "start", "end"):
            self.attached_here[cell].append((member, start, end))
            self.attached[member].append((cell, start, end))
        self.offices = defaultdict(list)
        positions = Position.objects.filter(member__isnull=False, role__in=COMMITTEE_ROLES).order_by("pk")
        for unit, role, member, start, end, name in positions.values_list(
            "unit_id", "role", "member_id", "start", "end", "member__full_name"
        ):
            self.offices[unit].append((role, member, start, end, name))
        # A cell's office holders of any date, by precedence: they stand in where no office is on record.
        self.leaders = {
            unit: list(dict.fromkeys(m for _, m, *_ in sorted(rows, key=lambda o: Position.RANK.index(o[0]))))
            for unit, rows in self.offices.items()
        }
        # Whether approved absences leave the voting base, per cell: the nearest setting up the tree.
        key = "approved_absence_reduces_voting_base"
        overrides = dict(UnitSetting.objects.filter(key=key).values_list("unit__path", "value"))
        self.reduces = {}
        for cell in self.cells:
            found = [path for path in overrides if cell.path.startswith(path)]
            self.reduces[cell.pk] = overrides[max(found, key=len)] if found else DEFAULTS[key]

    def roll(self, cell: int, day: datetime.date, committee: bool = False) -> list[dict]:
        """As meetings.services.roll_on, from memory: who is listed, with their standing on the day.
        A committee meeting lists the cell committee of that day, without members attached here."""
        own = []
        for member, start, end in self.rolls[cell]:
            admitted, _, ended, _ = self.members[member]
            if start <= day and (end is None or end > day) and admitted <= day and (ended is None or ended > day):
                own.append(member)
        here = []
        if committee:
            office = {
                m for role, m, start, end, _ in self.offices[cell] if start <= day and (end is None or end >= day)
            }
            own = [m for m in own if m in office]
        else:
            mine = set(own)
            here = [m for m, start, end in self.attached_here[cell] if start <= day and (end is None or end > day)]
            here = [m for m in here if m not in mine]
        rows = []
        for member in own + here:
            _, full, _, _ = self.members[member]
            kinds = {
                kind
                for kind, start, end in self.periods.get(member, ())
                if start <= day and (end is None or day <= end)
            }
            elsewhere = member not in here and any(
                c != cell and start <= day and (end is None or end > day)
                for c, start, end in self.attached.get(member, ())
            )
            rows.append(
                {
                    "member_id": member,
                    "is_full": full is not None and full <= day,
                    "is_exempted": StatusPeriod.Kind.EXEMPTED in kinds,
                    "is_suspended": StatusPeriod.Kind.SUSPENDED in kinds,
                    "is_attached_here": member in here,
                    "is_attached_elsewhere": elsewhere,
                }
            )
        return rows

    def office_on(self, cell: int, day: datetime.date, *roles: str, other_than: int | None = None) -> int | None:
        for wanted in roles:
            for role, member, start, end, _ in self.offices[cell]:
                if role == wanted and start <= day and (end is None or end >= day) and member != other_than:
                    return member
        return None

    def stand_in(self, cell: int, roll: list[dict], other_than: int | None = None) -> int | None:
        """Who chairs or keeps the minutes when no office on that date is on record: an office holder of
        another date, else a full member on the roll who is neither away, exempted nor suspended."""
        away = ("is_exempted", "is_suspended", "is_attached_elsewhere", "is_attached_here")
        able = [
            row["member_id"]
            for row in roll
            if row["is_full"] and row["member_id"] != other_than and not any(row[flag] for flag in away)
        ]
        return next((m for m in self.leaders.get(cell, ()) if m in able), able[0] if able else None)

    def chair_and_clerk(self, cell: int, day: datetime.date, roll: list[dict]) -> tuple[int | None, int | None]:
        chair = self.office_on(cell, day, Role.SECRETARY, Role.DEPUTY_SECRETARY) or self.stand_in(cell, roll)
        clerk = self.office_on(
            cell, day, Role.COMMITTEE_MEMBER, Role.DEPUTY_SECRETARY, Role.SECRETARY, other_than=chair
        ) or self.stand_in(cell, roll, other_than=chair)
        return chair, clerk


def attendance_status(
    rng: random.Random, flags: dict, present: float, unexcused: float, away: bool, keep: bool = False
) -> dict:
    """The attendance of one row of the roll, as a secretary records it; `keep` (chair, minutes
    secretary) is there."""
    if flags["is_suspended"]:
        return {"status": Status.ABSENT_EXCUSED, "reason": "Đang bị đình chỉ sinh hoạt đảng"}
    if flags["is_attached_elsewhere"]:
        return {
            "status": Status.ABSENT_EXCUSED,
            "reason": "Sinh hoạt tạm thời tại chi bộ khác",
            "reason_approved": True,
        }
    if flags["is_exempted"] and not keep and rng.random() < 0.85:
        return {
            "status": Status.ABSENT_EXCUSED,
            "reason": "Được miễn công tác và sinh hoạt đảng",
            "reason_approved": True,
        }
    if keep or rng.random() < present:
        # Members who work away follow the meeting online (the seeds' cells adopted it to raise attendance).
        online = away and rng.random() < 0.8
        return {"status": Status.ONLINE if online else Status.PRESENT, "arrived_late": rng.random() < 0.035}
    if rng.random() < unexcused:
        return {"status": Status.ABSENT_UNEXCUSED}
    reason = "Đi công tác" if away else rng.choice(EXCUSES)
    return {"status": Status.ABSENT_EXCUSED, "reason": reason, "reason_approved": rng.random() < 0.9}


class Writer:
    """Inserts many rows fast, each with its audit history row (as simple_history's bulk helper writes
    it: type "+", one date and change reason for the batch), ids assigned here so that later rows can
    point at earlier ones. PostgreSQL: COPY (psycopg's cursor.copy); SQLite: one prepared INSERT run by
    executemany. Both skip the ORM's per-value preparation, which cost more than the database.
    Rows are dicts of attnames; a missing column gets the field's default (auto_now fields: `when`).
    Call finish() at the end: it moves the tables' id sequences past the ids written."""

    def __init__(self, *, reason: str = HISTORY_REASON, when: datetime.datetime | None = None, user_id=None):
        self.reason, self.when, self.user_id = reason, when or timezone.now(), user_id
        self.postgres = connection.vendor == "postgresql"
        self.last_id: dict[type[models.Model], int] = {}
        self.counts: Counter = Counter()

    def new_id(self, model) -> int:
        if model not in self.last_id:
            self.last_id[model] = model._default_manager.aggregate(m=Max("pk"))["m"] or 0
        self.last_id[model] += 1
        return self.last_id[model]

    def _columns(self, model, skip_auto: bool) -> tuple[list[str], list[str], dict, list]:
        """Column names, their attnames, the defaults of columns a row may leave out, and (SQLite) the
        adapters per column position."""
        names, attnames, defaults, adapters = [], [], {}, []
        for f in model._meta.concrete_fields:
            if skip_auto and f.primary_key and isinstance(f, models.AutoField):
                continue
            names.append(f.column)
            attnames.append(f.attname)
            defaults[f.attname] = f.get_default()
            adapt = None if self.postgres else self._sqlite_adapter(f)
            if adapt is not None:
                adapters.append((len(names) - 1, adapt))
        return names, attnames, defaults, adapters

    def _generator(self, f):
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            return lambda: self.when
        return f.default if f.has_default() and callable(f.default) else None

    @staticmethod
    def _sqlite_adapter(f):
        ops = connection.ops
        if isinstance(f, models.DateTimeField):
            return ops.adapt_datetimefield_value
        if isinstance(f, models.DateField):
            return ops.adapt_datefield_value
        if isinstance(f, models.UUIDField):
            return lambda v: v.hex if v is not None else None
        if isinstance(f, models.FileField):
            return lambda v: str(v or "")
        return None

    def _history_rows(self, model, rows: list[dict]) -> list[dict]:
        extra = {
            "history_date": self.when,
            "history_change_reason": self.reason,
            "history_type": "+",
            "history_user_id": self.user_id,
        }
        return [{**row, **extra} for row in rows]

    def insert(self, model, rows: list[dict], history: bool = True) -> None:
        if not rows:
            return
        # Generated values (ids, uids, auto_now dates) go into the rows, so the history rows get them too.
        generated = [(f.attname, self._generator(f)) for f in model._meta.concrete_fields if self._generator(f)]
        for row in rows:
            if "id" not in row:
                row["id"] = self.new_id(model)
            for attname, make in generated:
                if row.get(attname) is None:
                    row[attname] = make()
        self._copy(model, rows, skip_auto=False)
        self.counts[model._meta.db_table] += len(rows)
        if history:
            history_model = model.history.model
            self._copy(history_model, self._history_rows(model, rows), skip_auto=True)
            self.counts[history_model._meta.db_table] += len(rows)

    def _copy(self, model, rows: list[dict], skip_auto: bool) -> None:
        names, attnames, defaults, adapters = self._columns(model, skip_auto)
        table = connection.ops.quote_name(model._meta.db_table)
        quoted = ", ".join(connection.ops.quote_name(n) for n in names)
        pick = operator.itemgetter(*attnames)  # one C call per row: the defaults merged in first
        values = (pick({**defaults, **row}) for row in rows)
        if adapters:
            values = (_adapted(value, adapters) for value in values)
        with connection.cursor() as cursor:
            if self.postgres:
                with cursor.cursor.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
                    for value in values:
                        copy.write_row(value)
            else:
                marks = ", ".join(["%s"] * len(names))
                # Table and column names come from the models' metadata, quoted; values are parameters.
                cursor.executemany(f"INSERT INTO {table} ({quoted}) VALUES ({marks})", values)  # noqa: S608

    def finish(self) -> None:
        sql = connection.ops.sequence_reset_sql(no_style(), list(self.last_id))
        if sql:
            with connection.cursor() as cursor:
                for statement in sql:
                    cursor.execute(statement)


def _adapted(value: tuple, adapters: list) -> list:
    value = list(value)
    for i, adapt in adapters:
        value[i] = adapt(value[i])
    return value


# --- The demo cells ------------------------------------------------------------------------------------


@dataclass
class Held:
    """A past meeting on its way to the database, with the roll of its date."""

    meeting: Meeting
    plan: Planned
    data: CellData
    roll: list[dict]
    presenter: int | None = None


ROLE_VI = {
    Role.SECRETARY: "Bí thư",
    Role.DEPUTY_SECRETARY: "Phó Bí thư",
    Role.STANDING_MEMBER: "Ủy viên Ban Thường vụ",
    Role.COMMITTEE_MEMBER: "Đảng ủy viên",
}


def _cell_data(rng: random.Random, cell: PartyUnit, admin: User, capuy: Member | None) -> CellData:
    secretary = (
        Position.objects.filter(unit=cell, role=Role.SECRETARY, member__isnull=False, end__isnull=True)
        .select_related("member__user")
        .first()
    )
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
    user = secretary.member.user if secretary is not None else None
    return CellData(
        cell=cell,
        by=user or admin,
        attendance=0.62 if weak else rng.uniform(0.87, 0.97),
        unexcused=0.35 if weak else 0.06,
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


def _dues(rng: random.Random, today: datetime.date, paid: dict, unpaid: set, admin: User) -> list[dict]:
    """One payment per member and month on the roll (DOMAIN.md "Dues"): at the meeting when present,
    else to the secretary later that month; a month still running may be unpaid yet."""
    first = min(((year, month) for _, year, month in paid), default=(today.year, today.month))
    memberships = defaultdict(list)
    for m in Membership.objects.select_related("member", "cell").order_by("member_id", "start"):
        memberships[m.member].append(m)
    payments = []
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
                payments.append(
                    {"member_id": member.pk, "year": year, "month": month, "amount": amount, "paid_on": day,
                     "recorded_by_id": admin.pk}
                )  # fmt: skip
            year, month = _month_shift(year, month, 1)
    return payments


def _plan_held(rng: random.Random, tree: Tree, held: Held) -> None:
    """Fill the meeting's minutes header: start and end, chair and minutes secretary."""
    p, meeting = held.plan, held.meeting
    start = p.start + datetime.timedelta(minutes=rng.choice([0, 0, 5, 10]))
    meeting.actual_start, meeting.actual_end = start, start + datetime.timedelta(minutes=p.minutes)
    meeting.chair_id, meeting.minutes_secretary_id = tree.chair_and_clerk(held.data.cell.pk, p.start.date(), held.roll)
    meeting.minutes_version = 1  # one save of the minutes header, as minutes_header_save counts


def _record(rng: random.Random, tree: Tree, writer: Writer, held: Held, paid: dict, unpaid: set) -> dict[str, list]:
    """The rows a secretary records for one past meeting: attendance of the whole roll, the agenda
    with its minutes and speeches, delegates and the vote."""
    meeting, p, data = held.meeting, held.plan, held.data
    day, cell = p.start.date(), data.cell
    keep = {meeting.chair_id, meeting.minutes_secretary_id}
    rows = []
    for flags in held.roll:
        away = tree.members[flags["member_id"]][3]
        status = attendance_status(rng, flags, data.attendance, data.unexcused, away, flags["member_id"] in keep)
        rows.append(Attendance(meeting_id=meeting.pk, **flags, **status))
    present = [row.member_id for row in rows if row.is_present]
    payers = 0
    if p.kind == Kind.REGULAR:
        for row in rows:
            key = (row.member_id, p.year, p.month)
            if not row.is_attached_here and row.is_present and key not in unpaid and key not in paid:
                paid[key] = day  # dues collected at the meeting
                payers += 1
    out: dict[str, list] = {"attendance": [_values(row) for row in rows], "guests": [], "votes": []}
    if p.kind != Kind.COMMITTEE and data.delegate and rng.random() < 0.3:
        name, title = data.delegate
        out["guests"].append({"meeting_id": meeting.pk, "name": name, "title": title, "is_higher_delegate": True})
    texts = _texts(rng, data, meeting, p)
    if p.kind == Kind.REGULAR:
        texts["opening"] = (
            f"Chi bộ thu đảng phí tháng {p.month}/{p.year}: {payers} đồng chí nộp tại buổi sinh hoạt. "
            f"Báo cáo tình hình đảng viên dự sinh hoạt; thông qua chương trình; cử thư ký hội nghị.",
            "",
        )
    # The titles go into the biên bản: stored in Vietnamese (services._agenda_create).
    with translation.override("vi"):
        standard = [(item.key, str(item.title)) for item in agenda.standard_items(meeting)]
    out["items"], out["speeches"] = [], []
    for order, (key, title) in enumerate(standard, start=1):
        content, conclusion = texts.get(key, ("", ""))
        written = bool(content or conclusion)
        item_id = writer.new_id(AgendaItem)
        out["items"].append(
            {"id": item_id, "meeting_id": meeting.pk, "order": order, "key": key, "title": title, "content": content,
             "conclusion": conclusion, "version": int(written), "updated_by_id": data.by.pk if written else None}
        )  # fmt: skip
        if key != "discussion":
            continue
        # The chair sums up rather than speaks, unless the room is too small for a discussion without her.
        speakers = [m for m in present if m != meeting.chair_id]
        speakers = speakers if len(speakers) >= 2 else present
        month = p.month or day.month
        for n, member in enumerate(rng.sample(speakers, min(len(speakers), rng.randint(2, 4))), start=1):
            text = rng.choice(THEMATIC_SPEECHES if p.kind == Kind.THEMATIC else SPEECHES).format(
                month=month,
                last=_month_shift(day.year, month, -1)[1],
                work=_fill(rng, rng.choice(WORK.get(cell.unit_type, WORK[UnitType.STATE_AGENCY]))),
                task=MONTH_TASKS[month].format(year=p.year or day.year),
                issue=rng.choice(ISSUES.get(cell.unit_type, ISSUE_DEFAULT)),
                shortcoming=rng.choice(SHORTCOMINGS),
            )
            out["speeches"].append(
                {"item_id": item_id, "member_id": member, "speaker_name": "", "summary": text, "order": n}
            )
    if p.kind == Kind.REGULAR:
        counts = counting.count(rows, approved_absence_reduces=tree.reduces[cell.pk])
        full_present = counts.full_present
        # Nearly unanimous; a dissenting vote only where the text still passes (DOMAIN.md "Voting base").
        dissent = rng.random() >= 0.8 and counting.passes(full_present - 1, counts.voting_base)
        against, other = rng.choice([(1, 0), (0, 1)]) if dissent else (0, 0)
        out["votes"].append(
            {"meeting_id": meeting.pk, "subject": f"Nghị quyết chi bộ tháng {p.month} năm {p.year}", "order": 1,
             "votes_for": max(0, full_present - against - other), "votes_against": against, "votes_other": other,
             "voting_base": counts.voting_base}
        )  # fmt: skip
    return out


def _values(obj: models.Model) -> dict:
    """An unsaved instance as a Writer row (files as their stored name)."""
    return {
        f.attname: f.get_prep_value(getattr(obj, f.attname))
        if isinstance(f, models.FileField)
        else getattr(obj, f.attname)
        for f in obj._meta.concrete_fields
        if f.attname != "id" or obj.pk
    }


def seed(stdout: TextIO, rng: random.Random) -> None:
    now = timezone.now()
    today = timezone.localdate(now)
    admin = User.objects.get(username="admin")
    capuy = Member.objects.filter(user__username="capuy").first()
    debtors, unpaid = _debtors(rng, today)
    tree = Tree()
    writer = Writer(when=now)
    kinds: Counter = Counter()
    held: list[Held] = []
    upcoming = []
    for cell in tree.cells:
        data = _cell_data(rng, cell, admin, capuy)
        place = PLACES.get(cell.name, f"Hội trường {cell.name.removeprefix('Chi bộ ')}")
        # A residential cell's committee meets at the secretary's home.
        committee_place = "Nhà đồng chí Bí thư chi bộ" if cell.unit_type == UnitType.RESIDENTIAL else place
        # Members who work away follow the meetings online.
        works_away = any(tree.members[m][3] for m, _, end in tree.rolls[cell.pk] if end is None)
        online_link = f"https://meet.example.com/{slugify(fold(cell.name))}" if works_away else ""
        for p in _plan(rng, cell, now):
            day = p.start.date()
            roll = tree.roll(cell.pk, day, committee=p.kind == Kind.COMMITTEE)
            if len(roll) < (2 if p.kind == Kind.COMMITTEE else 1):
                continue  # no committee on record that day (a secretary alone does not hold a committee meeting)
            presenter = None
            if p.topic:
                presenter = tree.office_on(cell.pk, day, Role.DEPUTY_SECRETARY, Role.SECRETARY)
            fields = {
                "kind": p.kind,
                "combined_thematic": p.combined,
                "period_year": p.year if p.kind == Kind.REGULAR else None,
                "period_month": p.month if p.kind == Kind.REGULAR else None,
                "topic": p.topic,
                "scheduled_start": p.start,
                "planned_minutes": 150 if p.combined else 60 if p.kind == Kind.COMMITTEE else 120,
                "place": committee_place if p.kind == Kind.COMMITTEE else place,
                "online_link": online_link if p.kind != Kind.COMMITTEE else "",
            }
            kinds[p.kind] += 1
            if p.start > now:
                upcoming.append((cell, data.by, presenter, fields))
                continue
            meeting = Meeting(
                id=writer.new_id(Meeting), unit=cell, created_by=data.by, status=Meeting.Status.HELD, **fields
            )
            meeting.clean()
            held.append(Held(meeting, p, data, roll, presenter))
            _plan_held(rng, tree, held[-1])

    writer.insert(Meeting, [_values(h.meeting) for h in held])
    presenters = [{"meeting_id": h.meeting.pk, "member_id": h.presenter} for h in held if h.presenter]
    writer.insert(Meeting.presenters.through, presenters, history=False)
    paid: dict[tuple[int, int, int], datetime.date] = {}
    rows: dict[str, list] = defaultdict(list)
    for h in held:
        for name, values in _record(rng, tree, writer, h, paid, unpaid).items():
            rows[name] += values
    for model, name in [(Attendance, "attendance"), (AgendaItem, "items"), (Speech, "speeches"),
                        (Guest, "guests"), (Vote, "votes")]:  # fmt: skip
        writer.insert(model, rows[name])
    dues = _dues(rng, today, paid, unpaid, admin)
    writer.insert(DuesPayment, dues)
    writer.finish()

    # Ahead: scheduled as the secretary schedules them (invitations and reminders included).
    for cell, by, presenter, fields in upcoming:
        presenters = [Member.objects.get(pk=presenter)] if presenter else ()
        services.meeting_schedule(unit=cell, presenters=presenters, by=by, **fields)

    # The demo cell's last regular meetings are closed through the service: each PDF rendered and stored.
    to_close = [h for h in held if h.plan.kind == Kind.REGULAR and h.data.cell.name == FIRST_RESIDENTIAL_CELL]
    for h in to_close[-CLOSE_LAST:]:
        services.minutes_close(meeting=Meeting.objects.get(pk=h.meeting.pk), by=h.data.by)
    closed = len(to_close[-CLOSE_LAST:])
    stdout.write(
        f"Meetings: {sum(kinds.values())} ({kinds[Kind.REGULAR]} regular, {kinds[Kind.COMMITTEE]} committee, "
        f"{kinds[Kind.THEMATIC]} thematic; {len(held) - closed} held, {closed} closed, {len(upcoming)} scheduled), "
        f"{len(rows['attendance'])} attendance rows, {len(dues)} dues payments; behind with dues: "
        f"{', '.join(m.full_name for m in debtors)}.\n"
    )
