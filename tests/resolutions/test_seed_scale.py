"""seed_demo --scale: the resolutions step on the smallest scale tree (seeded once for the module)."""

import io
from collections import defaultdict

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings

from meetings.models import Meeting, Vote
from resolutions.models import Draft, Resolution, Task, TaskReview

SCALE = 10


@pytest.fixture(scope="module")
def scale_seed(django_db_setup, django_db_blocker):
    fast = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with override_settings(PASSWORD_HASHERS=fast), django_db_blocker.unblock(), transaction.atomic():
        out = io.StringIO()
        call_command("seed_demo", "--scale", str(SCALE), stdout=out)
        yield out.getvalue()
        transaction.set_rollback(True)


@pytest.fixture
def scaled(scale_seed, db):
    return scale_seed


def test_every_regular_vote_becomes_a_numbered_resolution(scaled):
    assert "resolutions.seed_scale:" in scaled
    votes = Vote.objects.filter(meeting__kind=Meeting.Kind.REGULAR, meeting__status__in=Meeting.HELD_STATUSES, order=1)
    resolutions = Resolution.objects.all()
    # a vote of a cell without a signer or outside any term has no resolution; nearly all do
    assert 0.9 * votes.count() <= resolutions.count() <= votes.count()
    numbers = defaultdict(list)
    for unit_id, term_id, number in resolutions.values_list("unit_id", "term_id", "number"):
        numbers[(unit_id, term_id)].append(number)
    for key, got in numbers.items():
        assert sorted(got) == list(range(1, len(got) + 1)), key
    assert not Draft.objects.filter(current_version__isnull=True).exists()
    assert Resolution.history.count() == resolutions.count()


def test_tasks_have_people_and_are_reviewed_at_the_next_meeting(scaled):
    tasks = Task.objects.all()
    assert tasks.count() == 2 * Resolution.objects.count()
    assert not tasks.filter(assigned_to_committee=False, assignees__isnull=True).exists()
    for review in TaskReview.objects.select_related("meeting", "task__resolution__meeting")[:100]:
        assert review.meeting.scheduled_start > review.task.resolution.meeting.scheduled_start
    assert Task.history.count() == tasks.count()
