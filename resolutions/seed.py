"""Demo data, step 4 of seed_demo: a year of resolutions in every demo cell, after meetings.seed.

Each held regular meeting's vote (meetings.seed records "Nghị quyết chi bộ tháng M năm Y") becomes
an issued resolution: the draft with one or two versions and their sections, members' comments
(some on the tasks section) and the committee's responses, the meeting vote linked, the number from
the cell's sequence for its term, and two or three tasks with assignees, progress reports and the
review at the next regular meeting. The cell that skipped a month holds a written consultation for
it instead (written votes of its full members). The next regular meeting's draft is open for
comments, so members have a draft awaiting their comment.

Rows are written in bulk (simple_history's bulk helper, so each has its audit history): the rows
are those the services write. Only the demo cell's last PDF_LAST resolutions get their stored PDF
(WeasyPrint: ~0.1–0.3 s a document); the register book prints the others when it needs them.
"""

from __future__ import annotations

import datetime
import hashlib
import random
import time
from collections import defaultdict
from contextlib import contextmanager
from typing import TextIO

from django.core.files.base import ContentFile
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from cells.models import PartyUnit, Term
from cells.seed import FIRST_RESIDENTIAL_CELL
from cells.text import fold
from meetings.models import Attendance, Meeting, Vote
from meetings.pdf import header_for, place_name
from members.models import Member, Position, User

from . import text
from .models import (
    Comment,
    ConsultationVote,
    Draft,
    DraftVersion,
    NumberSequence,
    Resolution,
    Response,
    Task,
    TaskProgressNote,
    TaskReview,
    VersionSection,
)
from .services import drafts as draft_services
from .services.issuing import default_recipients, document_symbol, number_label
from .services.tasks import parse_task_items

PDF_LAST = 2
REASON = "seed_demo"
WRITTEN_CELL = "Chi bộ Công ty TNHH Du lịch Tây Thiên"  # meetings.seed: it skips a month in high season

ASSESSMENTS = [
    "Chi bộ đã lãnh đạo hoàn thành tốt các nhiệm vụ đề ra trong tháng; đảng viên gương mẫu thực hiện "
    "chủ trương của Đảng, chính sách, pháp luật của Nhà nước.",
    "Các nhiệm vụ cơ bản được hoàn thành; công tác vận động quần chúng có chuyển biến tích cực. Một số "
    "nhiệm vụ còn chậm so với kế hoạch do thời tiết và nguồn lực hạn chế.",
    "Sinh hoạt chi bộ đúng định kỳ, nội dung thiết thực; tỷ lệ đảng viên dự sinh hoạt đạt trên 90%. "
    "Việc nắm bắt tâm tư, nguyện vọng của nhân dân được duy trì thường xuyên.",
]
TASK_POOL = [
    "Tổ chức tổng vệ sinh môi trường, khơi thông cống rãnh trên địa bàn",
    "Vận động nhân dân tham gia bảo vệ an ninh trật tự, phòng, chống tội phạm",
    "Rà soát, cập nhật danh sách hộ nghèo, hộ cận nghèo và gia đình chính sách",
    "Hoàn thành thu đảng phí và các loại quỹ đúng thời hạn",
    "Tuyên truyền phòng, chống cháy nổ trong khu dân cư",
    "Bồi dưỡng quần chúng ưu tú, giới thiệu cho Đảng xem xét kết nạp",
    "Tổ chức cho đảng viên học tập, quán triệt nghị quyết của cấp trên",
    "Kiểm tra việc thực hiện quy định về những điều đảng viên không được làm",
    "Vận động nhân dân hiến đất, góp công làm đường giao thông nội đồng",
    "Thăm hỏi, động viên đảng viên cao tuổi, đảng viên ốm đau",
]
COMMENTS = [
    "Đề nghị bổ sung chỉ tiêu cụ thể cho từng tổ đảng.",
    "Nhất trí với dự thảo; đề nghị giao rõ người chịu trách nhiệm từng nhiệm vụ.",
    "Phần đánh giá cần nêu rõ hơn hạn chế và nguyên nhân.",
    "Đề nghị lùi thời hạn hoàn thành nhiệm vụ vệ sinh môi trường sang cuối tháng.",
    "Bổ sung nội dung vận động đoàn viên thanh niên tham gia.",
]
EXPLANATIONS = {
    Response.Decision.PARTLY: "Tiếp thu một phần; chỉ tiêu cụ thể sẽ do các tổ đảng xây dựng trong kế hoạch tháng.",
    Response.Decision.NOT_ACCEPTED: "Giữ nguyên như dự thảo vì thời hạn đã được thống nhất với cấp ủy cấp trên.",
}
PROGRESS = [
    "Đã triển khai đến các tổ đảng, đang tổ chức thực hiện.",
    "Đã hoàn thành khoảng một nửa khối lượng công việc.",
    "Đã phối hợp với chi hội, chi đoàn; dự kiến hoàn thành đúng hạn.",
    "Đã hoàn thành, có báo cáo kết quả gửi chi ủy.",
]
REVIEWS = {
    Task.Status.DONE: "Hoàn thành đúng thời hạn, chất lượng tốt.",
    Task.Status.IN_PROGRESS: "Đang thực hiện, cần đẩy nhanh tiến độ.",
    Task.Status.NOT_STARTED: "Chưa triển khai; đề nghị đồng chí được phân công khẩn trương thực hiện.",
}


def _body(rng: random.Random, month: int, year: int, tasks: list[str]) -> str:
    items = "\n".join(f"{i}. {t}." for i, t in enumerate(tasks, start=1))
    return (
        f"Căn cứ Điều lệ Đảng Cộng sản Việt Nam; căn cứ kết quả sinh hoạt chi bộ tháng {month} năm {year},\n\n"
        f"## I. Đánh giá kết quả thực hiện nhiệm vụ tháng {month} {{#danh-gia}}\n{rng.choice(ASSESSMENTS)}\n\n"
        f"## II. Nhiệm vụ và giải pháp tháng tới {{#nhiem-vu}}\n{items}\n\n"
        "## III. Tổ chức thực hiện {#to-chuc-thuc-hien}\n"
        "Chi ủy phân công đảng viên phụ trách từng nhiệm vụ; các đồng chí được phân công báo cáo tiến độ "
        "tại kỳ sinh hoạt chi bộ tháng sau.\n"
    )


@contextmanager
def _dated(model, *names):
    """Let bulk_create keep the dates set here: auto_now(_add) would stamp every row with today."""
    fields = [model._meta.get_field(name) for name in names]
    saved = [(f.auto_now, f.auto_now_add) for f in fields]
    for f in fields:
        f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, (auto_now, auto_now_add) in zip(fields, saved, strict=True):
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


def _add_days(moment: datetime.datetime, days: int) -> datetime.datetime:
    return moment + datetime.timedelta(days=days)


def _missing_month(starts: list[datetime.datetime], today: datetime.date) -> tuple[int, int] | None:
    """A past month in the cell's year without a regular meeting (the one that skipped a month)."""
    have = {(s.year, s.month) for s in starts}
    if not starts:
        return None
    first = min(starts).date()
    year, month = first.year, first.month
    while (year, month) < (today.year, today.month):
        if (year, month) not in have:
            return year, month
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return None


def seed(stdout: TextIO, rng: random.Random) -> None:
    started = time.perf_counter()
    now = timezone.now()
    today = timezone.localdate(now)
    admin = User.objects.get(username="admin")
    cells = list(
        PartyUnit.objects.filter(kind=PartyUnit.Kind.CELL, meetings__isnull=False).distinct().select_related("parent")
    )
    if not cells:
        return
    cell_ids = [c.pk for c in cells]
    terms: dict[int, list[Term]] = defaultdict(list)
    for term in Term.objects.filter(unit_id__in=cell_ids).order_by("start"):
        terms[term.unit_id].append(term)
    signers: dict[int, dict[str, Member]] = defaultdict(dict)
    for position in Position.objects.filter(
        Position.active_on(today),
        unit_id__in=cell_ids,
        member__isnull=False,
        role__in=(Position.Role.SECRETARY, Position.Role.DEPUTY_SECRETARY),
    ).select_related("member"):
        signers[position.unit_id][position.role] = position.member
    votes = list(
        Vote.objects.filter(
            meeting__unit_id__in=cell_ids,
            meeting__kind=Meeting.Kind.REGULAR,
            meeting__status__in=Meeting.HELD_STATUSES,
            order=1,
        )
        .select_related("meeting")
        .order_by("meeting__scheduled_start")
    )
    meeting_ids = [v.meeting_id for v in votes]
    present: dict[int, list[int]] = defaultdict(list)
    full: dict[int, list[int]] = defaultdict(list)
    for meeting_id, member_id, status, is_full in Attendance.objects.filter(meeting_id__in=meeting_ids).values_list(
        "meeting_id", "member_id", "status", "is_full"
    ):
        if status in Attendance.PRESENT_STATUSES:
            present[meeting_id].append(member_id)
        if is_full:
            full[meeting_id].append(member_id)
    users = dict(
        Member.objects.filter(pk__in=[m.pk for s in signers.values() for m in s.values()]).values_list("pk", "user_id")
    )
    user_by_id = User.objects.in_bulk([u for u in users.values() if u])
    by_cell_votes: dict[int, list[Vote]] = defaultdict(list)
    for vote in votes:
        by_cell_votes[vote.meeting.unit_id].append(vote)
    regular_next: dict[int, list[Meeting]] = defaultdict(list)
    for meeting in (
        Meeting.objects.filter(unit_id__in=cell_ids, kind=Meeting.Kind.REGULAR)
        .exclude(status=Meeting.Status.CANCELLED)
        .order_by("scheduled_start")
    ):
        regular_next[meeting.unit_id].append(meeting)

    # One plan per resolution: (cell, issued_on, meeting or None, vote or None, month, year)
    plans = []
    for cell in cells:
        cell_votes = by_cell_votes.get(cell.pk, [])
        for vote in cell_votes:
            meeting = vote.meeting
            start = timezone.localtime(meeting.scheduled_start)
            issued = min(start.date() + datetime.timedelta(days=rng.choice((0, 1, 1, 2))), today)
            plans.append((cell, issued, meeting, vote, meeting.period_month, meeting.period_year))
        if cell.name == WRITTEN_CELL:
            gap = _missing_month([timezone.localtime(v.meeting.scheduled_start) for v in cell_votes], today)
            if gap:
                year, month = gap
                day = min(datetime.date(year, month, 20), today)
                plans.append((cell, day, None, None, month, year))
    plans.sort(key=lambda p: (p[0].path, p[1]))

    sequences: dict[tuple[int, str, int], int] = defaultdict(int)
    drafts, versions, resolutions, meta = [], [], [], []
    symbols = {cell.pk: document_symbol(cell) for cell in cells}
    places = {cell.pk: place_name(cell) for cell in cells}
    recipients = {cell.pk: default_recipients(cell) for cell in cells}
    task_counter = 0
    for cell, issued, meeting, vote, month, year in plans:
        term = next((t for t in reversed(terms[cell.pk]) if t.start <= issued and (not t.end or issued <= t.end)), None)
        signer = signers[cell.pk].get(Position.Role.SECRETARY) or signers[cell.pk].get(Position.Role.DEPUTY_SECRETARY)
        if term is None or signer is None:
            continue
        by = user_by_id.get(users.get(signer.pk)) or admin
        picked = [TASK_POOL[(task_counter + i) % len(TASK_POOL)] for i in range(rng.choice((2, 3, 3)))]
        task_counter += 3
        body, _sections = text.assign_keys(_body(rng, month, year, picked))
        title = f"Nghị quyết sinh hoạt chi bộ tháng {month} năm {year}"
        next_month, next_year = (1, year + 1) if month == 12 else (month + 1, year)
        summary = f"Về lãnh đạo thực hiện nhiệm vụ tháng {next_month} năm {next_year}"
        written = meeting is None
        if written:
            before = [v.meeting_id for v in by_cell_votes[cell.pk] if v.meeting.scheduled_start.date() < issued]
            voters = sorted(full[before[-1]] if before else [])
            base = len(voters)
            v_for = max(base - rng.choice((0, 1)), base // 2 + 1)
            counts = (v_for, base - v_for, 0, base)
        else:
            counts = (vote.votes_for, vote.votes_against, vote.votes_other, vote.voting_base)
            voters = []
        decided = timezone.make_aware(datetime.datetime.combine(issued, datetime.time(16, 0)))
        opened = _add_days(decided, -10)
        draft = Draft(
            unit=cell,
            meeting=meeting,
            kind="NQ",
            title=title,
            summary=summary,
            status=Draft.Status.ISSUED,
            comment_deadline=_add_days(decided, -3),
            is_written_consultation=written,
            vote_deadline=decided if written else None,
            passed_by=Draft.PassedBy.WRITTEN if written else Draft.PassedBy.MEETING,
            meeting_vote=vote,
            votes_for=counts[0],
            votes_against=counts[1],
            votes_other=counts[2],
            voting_base=counts[3],
            decided_at=decided,
            created_by=by,
        )
        sequences[(cell.pk, "NQ", term.pk)] += 1
        number = sequences[(cell.pk, "NQ", term.pk)]
        resolution = Resolution(
            unit=cell,
            kind="NQ",
            term=term,
            number=number,
            number_label=number_label(number, "NQ", symbols[cell.pk]),
            issued_on=issued,
            place_name=places[cell.pk],
            title=title,
            summary=summary,
            body=body,
            search_text=fold(f"{title}\n{summary}\n{body}"),
            signer_title="BÍ THƯ" if signers[cell.pk].get(Position.Role.SECRETARY) else "PHÓ BÍ THƯ",
            signer_name=signer.full_name,
            recipients=recipients[cell.pk],
            meeting=meeting,
            passed_by=draft.passed_by,
            votes_for=counts[0],
            votes_against=counts[1],
            votes_other=counts[2],
            voting_base=counts[3],
            pdf="",
            pdf_sha256="",
            issued_by=by,
        )
        drafts.append(draft)
        resolutions.append(resolution)
        meta.append(
            {
                "cell": cell,
                "by": by,
                "opened": opened,
                "body": body,
                "voters": voters,
                "meeting": meeting,
                "present": present.get(meeting.pk, []) if meeting else voters,
                "two": rng.random() < 0.35,
            }
        )

    bulk_create_with_history(drafts, Draft, default_user=admin, default_change_reason=REASON)
    for draft, m in zip(drafts, meta, strict=True):
        if m["two"]:
            first = m["body"].replace("## III. Tổ chức thực hiện", "## III. Tổ chức thực hiện (dự thảo)")
            first_body, _ = text.assign_keys(first)
            versions.append(
                DraftVersion(
                    draft=draft, number=1, title=draft.title, summary=draft.summary, body=first_body, created_by=m["by"]
                )
            )
            versions.append(
                DraftVersion(
                    draft=draft,
                    number=2,
                    title=draft.title,
                    summary=draft.summary,
                    body=m["body"],
                    change_note="Tiếp thu ý kiến góp ý của đảng viên",
                    created_by=m["by"],
                )
            )
        else:
            versions.append(
                DraftVersion(
                    draft=draft, number=1, title=draft.title, summary=draft.summary, body=m["body"], created_by=m["by"]
                )
            )
    bulk_create_with_history(versions, DraftVersion, default_user=admin, default_change_reason=REASON)
    current = {}
    first_version = {}
    sections = []
    for version in versions:
        current[version.draft_id] = version
        first_version.setdefault(version.draft_id, version)
        for section in text.parse_sections(version.body):
            sections.append(
                VersionSection(
                    version=version, key=section.key, order=section.order, heading=section.heading, body=section.body
                )
            )
    VersionSection.objects.bulk_create(sections)
    for draft in drafts:
        draft.current_version = current[draft.pk]
    Draft.objects.bulk_update(drafts, ["current_version"])

    comments, comment_meta = [], []
    for draft, m in zip(drafts, meta, strict=True):
        authors = [a for a in m["present"] if a != getattr(m.get("signer"), "pk", None)]
        for author in rng.sample(authors, min(len(authors), rng.choice((1, 2, 3)))):
            comments.append(
                Comment(
                    draft=draft,
                    version=first_version[draft.pk],
                    author_id=author,
                    section_key=rng.choice(("", "nhiem-vu", "danh-gia")),
                    text=rng.choice(COMMENTS),
                )
            )
            comment_meta.append(m["by"])
    # Dated inside their draft's comment period.
    opened_at = {draft.pk: m["opened"] for draft, m in zip(drafts, meta, strict=True)}
    for comment in comments:
        when = opened_at[comment.draft_id] + datetime.timedelta(hours=rng.randint(2, 150))
        comment.created_at = comment.updated_at = when
    with _dated(Comment, "created_at", "updated_at"):
        bulk_create_with_history(comments, Comment, default_user=admin, default_change_reason=REASON)
    responses = []
    for comment, by in zip(comments, comment_meta, strict=True):
        decision = rng.choice(
            (
                Response.Decision.ACCEPTED,
                Response.Decision.ACCEPTED,
                Response.Decision.PARTLY,
                Response.Decision.NOT_ACCEPTED,
            )
        )
        responses.append(
            Response(comment=comment, decision=decision, explanation=EXPLANATIONS.get(decision, ""), responded_by=by)
        )
    bulk_create_with_history(responses, Response, default_user=admin, default_change_reason=REASON)
    written_votes = []
    for draft, m in zip(drafts, meta, strict=True):
        if draft.is_written_consultation:
            choices = ["for"] * draft.votes_for + ["against"] * draft.votes_against
            for member_id, choice in zip(m["voters"], choices, strict=False):
                written_votes.append(ConsultationVote(draft=draft, member_id=member_id, choice=choice))
    bulk_create_with_history(written_votes, ConsultationVote, default_user=admin, default_change_reason=REASON)

    for draft, resolution in zip(drafts, resolutions, strict=True):
        resolution.draft = draft
    bulk_create_with_history(resolutions, Resolution, default_user=admin, default_change_reason=REASON)
    NumberSequence.objects.bulk_create(
        NumberSequence(unit_id=unit, kind=kind, term_id=term, last_number=n)
        for (unit, kind, term), n in sequences.items()
    )

    # Tasks from each tasks section, assignees among those present, reviewed at the next regular meeting.
    tasks, assignees, notes, reviews = [], [], [], []
    for resolution, m in zip(resolutions, meta, strict=True):
        candidates = m["present"] or []
        following = [
            x for x in regular_next[resolution.unit_id] if timezone.localdate(x.scheduled_start) > resolution.issued_on
        ]
        review_at = following[0] if following and following[0].status in Meeting.HELD_STATUSES else None
        for order, item in enumerate(parse_task_items(resolution.body), start=1):
            due = resolution.issued_on + datetime.timedelta(days=rng.choice((20, 25, 30)))
            if due < today - datetime.timedelta(days=10):
                status = rng.choice((Task.Status.DONE,) * 5 + (Task.Status.IN_PROGRESS,))
            elif due < today:
                status = rng.choice((Task.Status.DONE, Task.Status.IN_PROGRESS, Task.Status.NOT_STARTED))
            else:
                status = rng.choice((Task.Status.IN_PROGRESS, Task.Status.NOT_STARTED))
            committee = not candidates or rng.random() < 0.2
            task = Task(
                unit_id=resolution.unit_id,
                resolution=resolution,
                text=item,
                due_on=due,
                status=status,
                assigned_to_committee=committee,
                order=order,
                created_by=m["by"],
                completed_on=min(due, today) if status == Task.Status.DONE else None,
            )
            people = [] if committee else rng.sample(candidates, min(len(candidates), rng.choice((1, 1, 2))))
            tasks.append(task)
            assignees.append(people)
            reviews.append(review_at)
    bulk_create_with_history(tasks, Task, default_user=admin, default_change_reason=REASON)
    through = Task.assignees.through
    through.objects.bulk_create(
        through(task_id=task.pk, member_id=member)
        for task, people in zip(tasks, assignees, strict=True)
        for member in people
    )
    review_rows = []
    for task, people, meeting in zip(tasks, assignees, reviews, strict=True):
        if people and task.status != Task.Status.NOT_STARTED:
            reports = 2 if task.status == Task.Status.DONE else 1
            for i in range(reports):
                notes.append(
                    TaskProgressNote(
                        task=task,
                        author_id=people[0],
                        text=PROGRESS[-1]
                        if (task.status == Task.Status.DONE and i == reports - 1)
                        else rng.choice(PROGRESS[:3]),
                    )
                )
        if meeting is not None:
            review_rows.append(
                TaskReview(
                    task=task,
                    meeting=meeting,
                    status_at_review=task.status,
                    assessment=REVIEWS[task.status],
                    reviewed_by=task.created_by,
                )
            )
    # Each report dated between the issue and the due date (or today), in order.
    per_task: dict[int, list[TaskProgressNote]] = defaultdict(list)
    for note in notes:
        per_task[id(note.task)].append(note)
    for task_notes in per_task.values():
        task = task_notes[0].task
        span = max((min(task.completed_on or task.due_on, today) - task.resolution.issued_on).days, 1)
        for i, note in enumerate(task_notes, start=1):  # in order, the last one nearest the end
            day = min(task.resolution.issued_on + datetime.timedelta(days=span * i // len(task_notes)), today)
            note.at = timezone.make_aware(datetime.datetime.combine(day, datetime.time(rng.randint(7, 20))))
    with _dated(TaskProgressNote, "at"):
        bulk_create_with_history(notes, TaskProgressNote, default_user=admin, default_change_reason=REASON)
    bulk_create_with_history(review_rows, TaskReview, default_user=admin, default_change_reason=REASON)

    # The demo cell's latest resolutions get their stored PDF, as issuing stores it (printed in one
    # pass by the register book's printer: one layout instead of one per document).
    from .exports import _render_texts, _text_context

    demo = [r for r in resolutions if r.unit.name == FIRST_RESIDENTIAL_CELL][-PDF_LAST:]
    if demo:
        header = header_for(demo[0].unit, today)
        place = place_name(demo[0].unit)
        for resolution, pdf in zip(demo, _render_texts([_text_context(r, header, place) for r in demo]), strict=True):
            resolution.pdf_sha256 = hashlib.sha256(pdf).hexdigest()
            resolution.pdf.save(f"nghi-quyet-{resolution.uid}.pdf", ContentFile(pdf), save=False)
            Resolution.objects.filter(pk=resolution.pk).update(
                pdf=resolution.pdf.name, pdf_sha256=resolution.pdf_sha256
            )

    # Ahead: the next regular meeting's draft is open for comments (through the services).
    opened = 0
    for cell in cells:
        upcoming = [x for x in regular_next[cell.pk] if x.scheduled_start > now + datetime.timedelta(days=2)]
        signer = signers[cell.pk].get(Position.Role.SECRETARY)
        by = user_by_id.get(users.get(signer.pk)) if signer else None
        if not upcoming or by is None or cell.name not in (FIRST_RESIDENTIAL_CELL,):
            continue
        meeting = upcoming[0]
        month, year = meeting.period_month, meeting.period_year
        draft = draft_services.draft_create(
            unit=cell,
            meeting=meeting,
            title=f"Nghị quyết sinh hoạt chi bộ tháng {month} năm {year}",
            summary="Dự thảo gửi đảng viên góp ý",
            body=_body(rng, month, year, TASK_POOL[:3]),
            by=by,
        )
        draft_services.comments_open(draft=draft, deadline=meeting.scheduled_start - datetime.timedelta(days=1), by=by)
        opened += 1

    stdout.write(
        f"Resolutions: {len(resolutions)} issued ({sum(1 for d in drafts if d.is_written_consultation)} by written "
        f"consultation, {len(demo)} with a stored PDF), {len(comments)} comments, {len(responses)} responses, "
        f"{len(tasks)} tasks, {len(notes)} progress reports, {len(review_rows)} reviews; {opened} draft open "
        f"({time.perf_counter() - started:.1f} s).\n"
    )
