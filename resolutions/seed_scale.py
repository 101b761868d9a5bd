"""Scale data, step 4 of `seed_demo --scale N`: the resolutions of the scale tree's meetings.

Every regular meeting's vote (meetings.seed_scale) becomes an issued resolution with its draft and
one version, numbered per cell and term from 01; every fourth has a member's comment and the
committee's response; each has two tasks given to members on the roll (or to the committee), with a
progress report and the review at the cell's next regular meeting. Cells are written a chunk at a
time with bulk_create and simple_history's bulk helper (every row has its history); no PDFs, no
section rows at scale (the register, the tasks pages and the exports do not read them).
"""

from __future__ import annotations

import datetime
import random
import time
from collections import Counter, defaultdict
from typing import TextIO

from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from cells.models import PartyUnit, Term
from cells.seed_scale import HISTORY_REASON, new_uid
from cells.text import fold
from meetings.models import Meeting, Vote
from members.models import Membership, Position, User

from .models import (
    Comment,
    Draft,
    DraftVersion,
    NumberSequence,
    Resolution,
    Response,
    Task,
    TaskProgressNote,
    TaskReview,
)
from .seed import COMMENTS, PROGRESS, REVIEWS, TASK_POOL, _body

CELLS_PER_CHUNK = 200
BATCH = 2000


def seed(stdout: TextIO, rng: random.Random, scale: int) -> None:
    started = time.perf_counter()
    today = timezone.localdate()
    admin = User.objects.get(username="admin")
    cells = list(
        PartyUnit.objects.filter(kind=PartyUnit.Kind.CELL).order_by("path").values_list("pk", "document_symbol")
    )
    totals: Counter = Counter()
    for first in range(0, len(cells), CELLS_PER_CHUNK):
        chunk = cells[first : first + CELLS_PER_CHUNK]
        ids = [pk for pk, _ in chunk]
        symbols = {pk: symbol or "CB" for pk, symbol in chunk}
        terms = defaultdict(list)
        for term in Term.objects.filter(unit_id__in=ids).order_by("start"):
            terms[term.unit_id].append(term)
        signers = {}
        for unit_id, role, name in (
            Position.objects.filter(
                Position.active_on(today),
                unit_id__in=ids,
                member__isnull=False,
                role__in=(Position.Role.SECRETARY, Position.Role.DEPUTY_SECRETARY),
            )
            .order_by("role")
            .values_list("unit_id", "role", "member__full_name")
        ):
            if unit_id not in signers or role == Position.Role.SECRETARY:
                signers[unit_id] = ("BÍ THƯ" if role == Position.Role.SECRETARY else "PHÓ BÍ THƯ", name)
        rolls = defaultdict(list)
        for cell_id, member_id in Membership.objects.filter(cell_id__in=ids, end__isnull=True).values_list(
            "cell_id", "member_id"
        ):
            rolls[cell_id].append(member_id)
        votes = list(
            Vote.objects.filter(
                meeting__unit_id__in=ids,
                meeting__kind=Meeting.Kind.REGULAR,
                meeting__status__in=Meeting.HELD_STATUSES,
                order=1,
            )
            .select_related("meeting")
            .order_by("meeting__unit_id", "meeting__scheduled_start")
        )
        by_cell = defaultdict(list)
        for vote in votes:
            by_cell[vote.meeting.unit_id].append(vote)

        sequences: dict[tuple[int, int], int] = defaultdict(int)
        drafts, resolutions, plans = [], [], []
        for cell_id, cell_votes in by_cell.items():
            signer = signers.get(cell_id)
            if signer is None:
                continue
            for i, vote in enumerate(cell_votes):
                meeting = vote.meeting
                issued = min(timezone.localdate(meeting.scheduled_start) + datetime.timedelta(days=1), today)
                term = next((t for t in terms[cell_id] if t.start <= issued and (not t.end or issued <= t.end)), None)
                if term is None:
                    continue
                month, year = meeting.period_month, meeting.period_year
                picked = rng.sample(TASK_POOL, 2)
                body = _body(rng, month, year, picked)
                title = f"Nghị quyết sinh hoạt chi bộ tháng {month} năm {year}"
                summary = "Về lãnh đạo thực hiện nhiệm vụ tháng tới"
                decided = timezone.make_aware(datetime.datetime.combine(issued, datetime.time(16, 0)))
                sequences[(cell_id, term.pk)] += 1
                number = sequences[(cell_id, term.pk)]
                draft = Draft(
                    uid=new_uid(rng),
                    unit_id=cell_id,
                    meeting=meeting,
                    kind="NQ",
                    title=title,
                    summary=summary,
                    status=Draft.Status.ISSUED,
                    comment_deadline=decided - datetime.timedelta(days=3),
                    passed_by=Draft.PassedBy.MEETING,
                    meeting_vote=vote,
                    votes_for=vote.votes_for,
                    votes_against=vote.votes_against,
                    votes_other=vote.votes_other,
                    voting_base=vote.voting_base,
                    decided_at=decided,
                    created_by=admin,
                )
                drafts.append(draft)
                resolutions.append(
                    Resolution(
                        uid=new_uid(rng),
                        unit_id=cell_id,
                        kind="NQ",
                        term=term,
                        number=number,
                        number_label=f"Số {number:02d}-NQ/{symbols[cell_id]}",
                        issued_on=issued,
                        place_name="",
                        title=title,
                        summary=summary,
                        body=body,
                        search_text=fold(f"{title}\n{summary}\n{body}"),
                        signer_title=signer[0],
                        signer_name=signer[1],
                        recipients="- Lưu chi bộ.",
                        meeting=meeting,
                        passed_by=Draft.PassedBy.MEETING,
                        votes_for=vote.votes_for,
                        votes_against=vote.votes_against,
                        votes_other=vote.votes_other,
                        voting_base=vote.voting_base,
                        pdf="",
                        pdf_sha256="",
                        issued_by=admin,
                    )
                )
                following = cell_votes[i + 1].meeting if i + 1 < len(cell_votes) else None
                plans.append((picked, following, rolls.get(cell_id, [])))
        if not drafts:
            continue
        history = {"batch_size": BATCH, "default_user": admin, "default_change_reason": HISTORY_REASON}
        bulk_create_with_history(drafts, Draft, **history)
        versions = [
            DraftVersion(draft=d, number=1, title=d.title, summary=d.summary, body=r.body, created_by=admin)
            for d, r in zip(drafts, resolutions, strict=True)
        ]
        bulk_create_with_history(versions, DraftVersion, **history)
        for draft, version in zip(drafts, versions, strict=True):
            draft.current_version = version
        Draft.objects.bulk_update(drafts, ["current_version"], batch_size=BATCH)
        for draft, resolution in zip(drafts, resolutions, strict=True):
            resolution.draft = draft
        bulk_create_with_history(resolutions, Resolution, **history)
        NumberSequence.objects.bulk_create(
            [NumberSequence(unit_id=u, kind="NQ", term_id=t, last_number=n) for (u, t), n in sequences.items()],
            batch_size=BATCH,
        )

        comments, tasks, people, reviews_at = [], [], [], []
        for k, (draft, version, resolution, (picked, following, roll)) in enumerate(
            zip(drafts, versions, resolutions, plans, strict=True)
        ):
            if roll and k % 4 == 0:
                comments.append(
                    Comment(
                        uid=new_uid(rng),
                        draft=draft,
                        version=version,
                        author_id=rng.choice(roll),
                        section_key="nhiem-vu",
                        text=rng.choice(COMMENTS),
                    )
                )
            for order, item in enumerate(picked, start=1):
                due = resolution.issued_on + datetime.timedelta(days=25)
                if due < today - datetime.timedelta(days=10):
                    status = Task.Status.DONE if rng.random() < 0.85 else Task.Status.IN_PROGRESS
                else:
                    status = rng.choice((Task.Status.IN_PROGRESS, Task.Status.NOT_STARTED))
                committee = not roll or rng.random() < 0.2
                tasks.append(
                    Task(
                        uid=new_uid(rng),
                        unit_id=resolution.unit_id,
                        resolution=resolution,
                        text=f"{item}.",
                        due_on=due,
                        status=status,
                        assigned_to_committee=committee,
                        completed_on=min(due, today) if status == Task.Status.DONE else None,
                        order=order,
                        created_by=admin,
                    )
                )
                people.append([] if committee else [rng.choice(roll)])
                reviews_at.append(following)
        bulk_create_with_history(comments, Comment, **history)
        responses = [
            Response(comment=c, decision=Response.Decision.ACCEPTED, explanation="", responded_by=admin)
            for c in comments
        ]
        bulk_create_with_history(responses, Response, **history)
        bulk_create_with_history(tasks, Task, **history)
        through = Task.assignees.through
        through.objects.bulk_create(
            [through(task_id=t.pk, member_id=m) for t, ms in zip(tasks, people, strict=True) for m in ms],
            batch_size=BATCH,
        )
        notes, reviews = [], []
        for task, ms, meeting in zip(tasks, people, reviews_at, strict=True):
            if ms and task.status != Task.Status.NOT_STARTED:
                notes.append(TaskProgressNote(task=task, author_id=ms[0], text=rng.choice(PROGRESS)))
            if meeting is not None:
                reviews.append(
                    TaskReview(
                        task=task,
                        meeting=meeting,
                        status_at_review=task.status,
                        assessment=REVIEWS[task.status],
                        reviewed_by=admin,
                    )
                )
        bulk_create_with_history(notes, TaskProgressNote, **history)
        bulk_create_with_history(reviews, TaskReview, **history)
        totals.update(
            resolutions=len(resolutions),
            comments=len(comments),
            tasks=len(tasks),
            notes=len(notes),
            reviews=len(reviews),
        )
        done = min(first + CELLS_PER_CHUNK, len(cells))
        stdout.write(
            f"  resolutions: {done:,}/{len(cells):,} cells, {totals['resolutions']:,} resolutions, "
            f"{totals['tasks']:,} tasks ({time.perf_counter() - started:.1f} s)"
        )
    stdout.write(
        f"Resolutions: {totals['resolutions']:,} issued, {totals['comments']:,} comments with responses, "
        f"{totals['tasks']:,} tasks, {totals['notes']:,} progress reports, {totals['reviews']:,} reviews "
        f"in {time.perf_counter() - started:.1f} s."
    )
