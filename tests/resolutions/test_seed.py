"""The resolutions seed step: a year of issued resolutions per demo cell, numbered without gaps,
with comments, responses, votes, tasks, progress and reviews, and audit history."""

import io
import re
from collections import defaultdict

import pytest
from django.core.management import call_command

from cells.seed import FIRST_RESIDENTIAL_CELL
from meetings.models import Attendance, Meeting
from resolutions.models import Comment, Draft, Resolution, Response, Task, TaskProgressNote, TaskReview

pytestmark = pytest.mark.django_db(transaction=False)


@pytest.fixture
def seeded(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_seed_gives_each_cell_a_year_of_resolutions_in_number_order(seeded):
    line = next(line for line in seeded.splitlines() if line.startswith("Resolutions:"))
    seconds = float(re.search(r"\(([\d.]+) s\)", line).group(1))
    print(line)
    assert seconds < 30  # a few seconds on a quiet machine; the bound leaves room for a loaded one
    numbers = defaultdict(list)
    for unit_id, term_id, kind, number in Resolution.objects.values_list("unit_id", "term_id", "kind", "number"):
        numbers[(unit_id, term_id, kind)].append(number)
    assert len(numbers) >= 10
    for key, got in numbers.items():
        assert sorted(got) == list(range(1, len(got) + 1)), key  # gapless from 01 per unit, kind and term
    demo = Resolution.objects.filter(unit__name=FIRST_RESIDENTIAL_CELL).order_by("number")
    assert demo.count() >= 10 and demo.first().number_label == "Số 01-NQ/CB"
    assert [bool(r.pdf) for r in demo][-2:] == [True, True]
    assert Resolution.history.count() == Resolution.objects.count()


def test_seeded_drafts_comments_votes_and_tasks_hold_together(seeded):
    assert not Draft.objects.filter(status=Draft.Status.ISSUED, current_version__isnull=True).exists()
    assert Comment.objects.count() > 50 and Response.objects.count() == Comment.objects.count()
    assert Comment.objects.filter(section_key="nhiem-vu").exists()
    written = Draft.objects.get(is_written_consultation=True)
    assert written.consultation_votes.count() == written.votes_for + written.votes_against
    assert written.resolution.passed_by == "written"
    for resolution in Resolution.objects.filter(meeting__isnull=False).select_related("draft")[:20]:
        assert resolution.draft.meeting_vote.meeting_id == resolution.meeting_id
    assert Draft.objects.filter(status=Draft.Status.OPEN, unit__name=FIRST_RESIDENTIAL_CELL).exists()
    tasks = Task.objects.select_related("unit", "resolution").prefetch_related("assignees")
    assert tasks.count() > 200
    # assignees were present at the meeting that passed the resolution
    for task in tasks.filter(resolution__meeting__isnull=False, assigned_to_committee=False)[:80]:
        present = set(
            Attendance.objects.filter(
                meeting_id=task.resolution.meeting_id, status__in=("present", "online")
            ).values_list("member_id", flat=True)
        )
        people = {m.pk for m in task.assignees.all()}
        assert people and people <= present
    assert TaskProgressNote.objects.exists() and Task.history.count() == Task.objects.count()
    for review in TaskReview.objects.select_related("task__resolution", "meeting")[:50]:
        assert review.meeting.kind == Meeting.Kind.REGULAR
        assert review.meeting.scheduled_start.date() > review.task.resolution.issued_on
