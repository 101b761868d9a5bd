"""Scale data, step 3 of `seed_demo --scale N`: three years of meetings on every cell of the scale tree.

Per cell and month a regular meeting around the 10th (a weak cell misses or cancels some), the
committee's pre-meeting before most, a thematic meeting in most quarters (now and then combined with
the regular meeting), all "held" with their actual start and end, chair and minutes secretary (no
PDFs at scale). Attendance rows list everyone on the roll on the meeting date with their standing
(full, exempted, suspended, attached here or elsewhere), worked out in memory from the members step's
rows; the committee's meetings list the committee. A vote on each regular meeting's resolution, a
higher-level delegate now and then, and dues for every member and month, mostly paid at the meeting.

Cells are written a chunk at a time (bounded memory) by meetings.seed.Writer: COPY on PostgreSQL
(executemany on SQLite), ids assigned up front, every row with its audit history row as
simple_history's bulk helper writes it. ATTENDANCE_HISTORY = False leaves out the attendance history
(the largest table).
"""

from __future__ import annotations

import datetime
import random
import time
from collections import Counter
from dataclasses import dataclass
from types import SimpleNamespace
from typing import TextIO

from django.utils import timezone

from cells.models import PartyUnit
from cells.seed_scale import HISTORY_REASON, new_uid
from members.models import DuesPayment, Position, User

from . import counting
from .models import Attendance, Guest, Meeting, Vote
from .seed import ROLE_VI, TOPIC_BY_TYPE, TOPICS, Tree, Writer, _month_shift, _values, attendance_status

Kind = Meeting.Kind
Status = Attendance.Status
Role = Position.Role
UnitType = PartyUnit.UnitType

MONTHS = 36
CELLS_PER_CHUNK = 100
ATTENDANCE_HISTORY = True
CANCEL_REASONS = ["Trùng lịch công tác đột xuất của cấp ủy", "Mưa bão, không bảo đảm an toàn", "Dịch bệnh"]


@dataclass(frozen=True)
class Quality:
    """How well a cell keeps the cadence (DOMAIN.md "Targets from practice")."""

    share: float
    miss: float  # chance a month has no regular meeting (half of them cancelled, half never scheduled)
    committee: float  # chance the committee meets before the regular meeting
    thematic: float  # chance a quarter has its thematic meeting
    present: tuple[float, float]  # attendance three years ago, and now
    unexcused: float  # share of absences without a reason
    short: float  # share of meetings under 90 minutes
    unpaid: float  # chance a member-month of dues stays unpaid
    delegate: float  # chance a higher-level delegate attends


QUALITIES = [
    Quality(0.6, 0.0, 0.97, 0.95, (0.9, 0.96), 0.04, 0.05, 0.002, 0.25),
    Quality(0.3, 0.03, 0.85, 0.8, (0.82, 0.9), 0.1, 0.15, 0.01, 0.15),
    # Below 70% is where one bloc committee started; it reached 90% (DOMAIN.md).
    Quality(0.1, 0.12, 0.6, 0.5, (0.62, 0.8), 0.3, 0.35, 0.04, 0.1),
]


def _months(today: datetime.date) -> list[tuple[int, int]]:
    # The last MONTHS months whose meeting (the 8th–12th) is surely past.
    last = (today.year, today.month) if today.day > 12 else _month_shift(today.year, today.month, -1)
    return [_month_shift(*last, -n) for n in range(MONTHS - 1, -1, -1)]


def _aware(day: datetime.date, hour: int, minute: int, tz) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=tz)


@dataclass(frozen=True)
class Context:
    today: datetime.date
    tz: datetime.tzinfo
    months: list[tuple[int, int]]
    admin_id: int


def _cell_meetings(rng: random.Random, tree: Tree, cell: PartyUnit, quality: Quality, ctx: Context) -> list:
    """(meeting, roll) for every meeting of one cell over the months, in memory."""
    today, tz, months, admin_id = ctx.today, ctx.tz, ctx.months, ctx.admin_id
    planned: list[tuple[Meeting, list[dict]]] = []
    home = cell.unit_type == UnitType.RESIDENTIAL
    hour, minute = (19, 30) if home else rng.choice([(14, 0), (16, 0), (8, 0)])
    place = f"{'Nhà văn hóa' if home else 'Phòng họp'} {cell.name.removeprefix('Chi bộ ')}"[:200]
    away = any(tree.members[m][3] for m, _, end in tree.rolls[cell.pk] if end is None)
    link = f"https://meet.example.com/cb-{cell.uid.hex[:12]}" if away else ""
    topics = rng.sample(TOPICS, len(TOPICS)) + [TOPIC_BY_TYPE.get(cell.unit_type, TOPICS[3])]

    def meeting(kind, start, minutes, **fields):
        actual = start + datetime.timedelta(minutes=rng.choice([0, 0, 5, 10]))
        row = Meeting(
            uid=new_uid(rng), unit=cell, kind=kind, scheduled_start=start, status=Meeting.Status.HELD,
            actual_start=actual, actual_end=actual + datetime.timedelta(minutes=minutes),
            place=place if kind != Kind.COMMITTEE or not home else "Nhà đồng chí Bí thư chi bộ",
            online_link=link if kind != Kind.COMMITTEE else "", created_by_id=admin_id,
            planned_minutes=60 if kind == Kind.COMMITTEE else 150 if fields.get("combined_thematic") else 120,
            **fields,
        )  # fmt: skip
        day = start.date()
        roll = tree.roll(cell.pk, day, committee=kind == Kind.COMMITTEE)
        if len(roll) < (2 if kind == Kind.COMMITTEE else 1):
            return None  # no committee on record that day (a secretary alone does not hold a committee meeting)
        row.chair_id, row.minutes_secretary_id = tree.chair_and_clerk(cell.pk, day, roll)
        row.minutes_version = 1
        planned.append((row, roll))
        return row

    def length() -> int:
        return rng.randint(60, 88) if rng.random() < quality.short else rng.randint(90, 140)

    regular = {}
    for year, month in months:
        day = datetime.date(year, month, rng.randint(8, 12))
        if not home and day.weekday() >= 5:
            day -= datetime.timedelta(days=day.weekday() - 4)
        if day < cell.founded_on:
            continue
        start = _aware(day, hour, minute, tz)
        if rng.random() < quality.miss:
            if rng.random() < 0.5:
                cancelled = Meeting(
                    uid=new_uid(rng), unit=cell, kind=Kind.REGULAR, period_year=year, period_month=month,
                    scheduled_start=start, place=place, status=Meeting.Status.CANCELLED,
                    cancel_reason=rng.choice(CANCEL_REASONS), created_by_id=admin_id,
                )  # fmt: skip
                planned.append((cancelled, []))
            continue
        if rng.random() < quality.committee:
            before = day - datetime.timedelta(days=rng.randint(3, 10))
            meeting(
                Kind.COMMITTEE,
                _aware(before, *rng.choice([(8, 0), (16, 30), (19, 30)]), tz),
                rng.randint(45, 80),
            )
        regular[(year, month)] = meeting(Kind.REGULAR, start, length(), period_year=year, period_month=month)
    # A thematic meeting in most quarters; now and then held together with the regular meeting.
    for n, quarter in enumerate(sorted({(year, (month - 1) // 3) for year, month in regular})):
        if rng.random() >= quality.thematic:
            continue
        year, q = quarter
        month = q * 3 + rng.choice([2, 3])
        topic = topics[n % len(topics)]
        same = regular.get((year, month))
        if same is not None and rng.random() < 0.1:
            same.combined_thematic, same.topic, same.planned_minutes = True, topic, 150
            same.actual_end = same.actual_start + datetime.timedelta(minutes=rng.randint(115, 160))
            continue
        day = datetime.date(year, month, rng.randint(18, 26))
        if cell.founded_on <= day < today:
            meeting(Kind.THEMATIC, _aware(day, *((19, 30) if home else (8, 0)), tz), length(), topic=topic)
    return planned


def seed(stdout: TextIO, rng: random.Random, scale: int) -> None:
    started = time.perf_counter()
    today = timezone.localdate()
    tz = timezone.get_current_timezone()
    tree = Tree()
    names = PartyUnit.objects.exclude(kind__in=[PartyUnit.Kind.CELL, PartyUnit.Kind.GROUP])
    unit_names = {pk: short or name for pk, short, name in names.values_list("pk", "short_name", "name")}
    admin_id = User.objects.values_list("pk", flat=True).get(username="admin")
    months = _months(today)
    qualities = rng.choices(QUALITIES, weights=[q.share for q in QUALITIES], k=len(tree.cells))
    totals: Counter = Counter()
    ctx = Context(today, tz, months, admin_id)
    month_ends = [(y, m, datetime.date(*_month_shift(y, m, 1), 1) - datetime.timedelta(days=1)) for y, m in months]
    writer = Writer(reason=HISTORY_REASON)

    for first in range(0, len(tree.cells), CELLS_PER_CHUNK):
        chunk = list(zip(tree.cells[first : first + CELLS_PER_CHUNK], qualities[first:], strict=False))
        # --- The meetings of these cells, each with the roll it will list -------------------------------
        planned: list[tuple[Meeting, PartyUnit, Quality, list[dict]]] = []
        for cell, quality in chunk:
            planned += [(row, cell, quality, roll) for row, roll in _cell_meetings(rng, tree, cell, quality, ctx)]
        for row, *_ in planned:
            row.id = writer.new_id(Meeting)
        writer.insert(Meeting, [_values(row) for row, *_ in planned])

        # --- Attendance, votes, delegates, dues ------------------------------------------------------------
        attendance, votes, guests, dues = [], [], [], []
        paid_at: dict[tuple[int, int, int], datetime.date] = {}  # (member, year, month) -> day paid at the meeting
        for row, cell, quality, roll in planned:
            if not roll:
                continue
            day = timezone.localtime(row.scheduled_start, tz).date()
            progress = months.index((day.year, day.month)) / (MONTHS - 1) if (day.year, day.month) in months else 1
            present = quality.present[0] + (quality.present[1] - quality.present[0]) * progress
            keep = {row.chair_id, row.minutes_secretary_id}
            rows = []  # what counting.count reads, without a model instance per row (1.8 M at scale 2000)
            for flags in roll:
                member = flags["member_id"]
                away = tree.members[member][3]
                status = attendance_status(rng, flags, present, quality.unexcused, away, keep=member in keep)
                values = {"reason_approved": False, "arrived_late": False, **flags, **status}
                rows.append(SimpleNamespace(**values))
                attendance.append({"meeting_id": row.pk, **values})
            if row.kind == Kind.COMMITTEE:
                continue
            if row.kind == Kind.REGULAR:
                for a in rows:
                    if a.status in Attendance.PRESENT_STATUSES and not a.is_attached_here:
                        paid_at[(a.member_id, row.period_year, row.period_month)] = day
                counts = counting.count(rows, approved_absence_reduces=tree.reduces[cell.pk])
                against = (
                    1 if rng.random() < 0.1 and counting.passes(counts.full_present - 1, counts.voting_base) else 0
                )
                subject = f"Nghị quyết chi bộ tháng {row.period_month} năm {row.period_year}"
                votes.append(
                    {"meeting_id": row.pk, "subject": subject, "order": 1, "votes_for": counts.full_present - against,
                     "votes_against": against, "votes_other": 0, "voting_base": counts.voting_base}
                )  # fmt: skip
            supervisors = [o for o in tree.offices[cell.parent_id] if o[0] != Role.SECRETARY and o[3] is None]
            if supervisors and rng.random() < quality.delegate:
                role, _, _, _, name = supervisors[cell.pk % len(supervisors)]
                title = f"{ROLE_VI[role]} {unit_names.get(cell.parent_id, '')}, phụ trách chi bộ"
                guests.append({"meeting_id": row.pk, "name": name, "title": title, "is_higher_delegate": True})

        # Dues: every member-month on a chunk cell's roll at the month's end (meetings.discipline's rule).
        for cell, quality in chunk:
            for member, start, end in tree.rolls[cell.pk]:
                admitted, _, ended, _ = tree.members[member]
                amount = (
                    rng.randrange(10, 21) if cell.unit_type == UnitType.RESIDENTIAL else rng.randrange(20, 51)
                ) * 1000
                for year, month, last in month_ends:
                    if not (start <= last and (end is None or end > last) and admitted <= last):
                        continue
                    if ended is not None and ended <= last:
                        continue
                    paid_on = paid_at.get((member, year, month))
                    if paid_on is None:
                        if last >= today or rng.random() < quality.unpaid * 10:
                            continue  # the month is not over, or this member is behind
                        paid_on = last - datetime.timedelta(days=rng.randint(0, 15))
                    elif rng.random() < quality.unpaid:
                        continue
                    dues.append(
                        {"member_id": member, "year": year, "month": month, "amount": amount, "paid_on": paid_on}
                    )
        writer.insert(Attendance, attendance, history=ATTENDANCE_HISTORY)
        writer.insert(Vote, votes)
        writer.insert(Guest, guests)
        writer.insert(DuesPayment, dues)
        totals.update(
            meetings=len(planned), attendance=len(attendance), votes=len(votes), guests=len(guests), dues=len(dues)
        )
        totals.update(f"{row.kind} {row.status}" for row, *_ in planned)
        done = min(first + CELLS_PER_CHUNK, len(tree.cells))
        stdout.write(
            f"  meetings: {done:,}/{len(tree.cells):,} cells, {totals['meetings']:,} meetings, "
            f"{totals['attendance']:,} attendance rows, {totals['dues']:,} dues ({time.perf_counter() - started:.0f} s)"
        )
        stdout.flush()
    writer.finish()

    kinds = ", ".join(f"{totals[k]:,} {k}" for k in sorted(totals) if " " in k)
    stdout.write(
        f"Meetings: {totals['meetings']:,} ({kinds}), {totals['attendance']:,} attendance rows"
        f"{'' if ATTENDANCE_HISTORY else ' (no history)'}, {totals['votes']:,} votes, {totals['guests']:,} "
        f"delegates, {totals['dues']:,} dues payments."
    )
