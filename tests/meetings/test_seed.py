"""The meetings step of seed_demo: a year of meetings per demo cell, and three years at --scale."""

import datetime
import hashlib
import io
from collections import defaultdict

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from cells.models import PartyUnit
from meetings import discipline, services
from meetings.models import Attendance, Guest, Meeting, Vote
from meetings.seed import CLOSE_MONTHS, EXCUSES, SKIP_COMMITTEE, WEAK_CELL
from meetings.seed_scale import ATTENDANCE_HISTORY
from members.models import DuesPayment, Member, add_months

Kind, Status = Meeting.Kind, Meeting.Status
SCALE = 20


def seed(*args) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


@pytest.fixture(scope="class")
def demo(django_db_setup, django_db_blocker, tmp_path_factory):
    """The demo seeded once for TestDemo (it renders PDFs), rolled back after its last test."""
    media = tmp_path_factory.mktemp("seed-media")
    with override_settings(MEDIA_ROOT=media), django_db_blocker.unblock(), transaction.atomic():
        output = seed()
        yield output
        transaction.set_rollback(True)


@pytest.fixture
def seeded(demo, db):
    return demo


def held_regular():
    return Meeting.objects.filter(kind=Kind.REGULAR, status__in=Meeting.HELD_STATUSES).select_related("unit")


class TestDemo:
    def test_every_cell_has_a_year_of_meetings_and_the_next_one_scheduled(self, seeded):
        now = timezone.now()
        cells = PartyUnit.objects.filter(kind=PartyUnit.Kind.CELL)
        assert cells.count() == 13
        thematic_cells = 0
        for cell in cells:
            meetings = Meeting.objects.filter(unit=cell)
            regular = meetings.filter(kind=Kind.REGULAR)
            assert 11 <= regular.filter(scheduled_start__lt=now).count() <= 12, cell
            # The next regular meeting is ahead, scheduled, with nothing recorded yet.
            upcoming = regular.get(scheduled_start__gt=now)
            assert upcoming.status == Status.SCHEDULED and not upcoming.attendance.exists()
            # The committee meets before every regular meeting, except now and then in a few small cells.
            committee = meetings.filter(kind=Kind.COMMITTEE).count()
            assert committee == regular.count() or (cell.name in SKIP_COMMITTEE and committee >= 1), cell
            assert not meetings.filter(scheduled_start__lt=now, status=Status.SCHEDULED).exists(), cell
            thematic_cells += (
                meetings.filter(kind=Kind.THEMATIC).exists() or regular.filter(combined_thematic=True).exists()
            )
        assert thematic_cells >= 11
        # Each committee meeting prepares the regular meeting 3–10 days later.
        for committee in Meeting.objects.filter(kind=Kind.COMMITTEE):
            start = committee.scheduled_start
            window = (start + datetime.timedelta(days=2), start + datetime.timedelta(days=11))
            regular = Meeting.objects.filter(unit=committee.unit, kind=Kind.REGULAR, scheduled_start__range=window)
            assert regular.count() == 1, committee
        assert "Meetings: " in seeded and "dues payments" in seeded

    def test_every_past_regular_meeting_lists_the_whole_roll(self, seeded):
        for meeting in held_regular():
            roll = services.roll_on(meeting.unit, services.meeting_date(meeting))
            rows = Attendance.objects.filter(meeting=meeting)
            assert set(rows.values_list("member_id", flat=True)) == set(roll), meeting
            assert not rows.filter(status="").exists(), meeting

    def test_the_counts_are_those_of_real_cells(self, seeded):
        present, expected = defaultdict(int), defaultdict(int)
        for meeting in held_regular().prefetch_related("votes"):
            counts = services.counts_for(meeting)
            assert 0 < counts.present <= counts.expected <= counts.on_roll + counts.attached_here, meeting
            assert counts.voting_base <= counts.full and counts.unrecorded == 0
            (vote,) = meeting.votes.all()
            # Nearly unanimous, and passed against the voting base.
            assert vote.voting_base == counts.voting_base and vote.passed
            assert vote.votes_against + vote.votes_other <= 1
            present[meeting.unit.name] += counts.present
            expected[meeting.unit.name] += counts.expected
        rates = {name: present[name] / expected[name] for name in present}
        assert 0.6 <= rates.pop(WEAK_CELL) <= 0.8
        assert all(rate >= 0.85 for rate in rates.values()), rates
        rows = Attendance.objects.filter(meeting__kind=Kind.REGULAR)
        assert rows.filter(status=Attendance.Status.ONLINE, member__works_away=True).exists()
        assert rows.filter(arrived_late=True).exists()
        assert rows.filter(status=Attendance.Status.ABSENT_UNEXCUSED).count() >= 3
        assert rows.filter(status=Attendance.Status.ABSENT_EXCUSED, reason__in=EXCUSES).count() >= 10
        assert Guest.objects.filter(is_higher_delegate=True).exists()
        durations = [m.duration_minutes for m in held_regular()]
        assert any(d < 90 for d in durations) and sum(d >= 90 for d in durations) > len(durations) * 0.7

    def test_minutes_are_complete_and_closed_with_their_pdf(self, seeded):
        closed = Meeting.objects.filter(status=Status.CLOSED)
        assert closed.filter(kind=Kind.REGULAR).count() >= 13 * (CLOSE_MONTHS - 1)
        assert closed.filter(kind=Kind.COMMITTEE).exists()
        for meeting in closed:
            meeting.minutes_pdf.open("rb")
            data = meeting.minutes_pdf.read()
            meeting.minutes_pdf.close()
            assert data.startswith(b"%PDF") and hashlib.sha256(data).hexdigest() == meeting.minutes_sha256
        # Older meetings stay held (closing all of them would double the seed's time).
        oldest = add_months(timezone.localdate(), -CLOSE_MONTHS)
        assert not closed.filter(scheduled_start__date__lt=oldest).exists()
        for meeting in held_regular():
            assert (
                meeting.chair_id and meeting.minutes_secretary_id and meeting.chair_id != meeting.minutes_secretary_id
            )
            assert meeting.actual_start and meeting.actual_end > meeting.actual_start
            assert 2 <= meeting.agenda.filter(key="discussion").get().speeches.count() <= 4
            assert meeting.agenda.get(key="assessment").content and meeting.agenda.get(key="tasks").content

    def test_dues_are_paid_at_the_meeting_and_a_member_falls_behind(self, seeded):
        paid = DuesPayment.objects.all()
        assert paid.count() > 1000
        assert not paid.exclude(amount__range=(10_000, 50_000)).exists()
        at_meeting = 0
        for meeting in held_regular():
            at_meeting += paid.filter(
                year=meeting.period_year, month=meeting.period_month, paid_on=services.meeting_date(meeting)
            ).count()
        assert at_meeting > paid.count() * 0.7
        # Discipline (QĐ 24 §8.1): someone has 2–3 unpaid months in the year of the last ended month.
        last = add_months(timezone.localdate().replace(day=1), -1)
        levels = [discipline.discipline_count(m, last.year) for m in Member.objects.all()]
        assert any(len(count.unpaid_months) >= 2 for count in levels)
        assert any(count.level() in ("warning", "alert") for count in levels)


@pytest.fixture
def scaled(db):
    return seed("--scale", str(SCALE))


def test_scale_holds_three_years_of_meetings_with_the_whole_roll(scaled):
    regular = Meeting.objects.filter(kind=Kind.REGULAR, status=Status.HELD)
    assert SCALE * 30 <= regular.count() <= SCALE * 36
    assert Meeting.objects.filter(kind=Kind.COMMITTEE).count() > SCALE * 18
    assert Meeting.objects.filter(kind=Kind.THEMATIC).count() > SCALE * 5
    assert not Meeting.objects.exclude(status__in=[Status.HELD, Status.CANCELLED]).exists()
    for meeting in regular.select_related("unit"):
        roll = services.roll_on(meeting.unit, services.meeting_date(meeting))
        rows = Attendance.objects.filter(meeting=meeting)
        assert rows.count() == len(roll) and set(rows.values_list("member_id", flat=True)) == set(roll), meeting
        assert meeting.actual_end > meeting.actual_start
        assert meeting.chair_id and meeting.minutes_secretary_id and meeting.chair_id != meeting.minutes_secretary_id
    assert not Attendance.objects.filter(status="").exists()
    assert Vote.objects.count() == regular.count()
    assert DuesPayment.objects.count() > Member.objects.count() * 20
    # Bulk rows keep their audit history too.
    for model in (Meeting, Attendance, Vote, DuesPayment) if ATTENDANCE_HISTORY else (Meeting, Vote, DuesPayment):
        assert model.history.filter(history_type="+").count() == model.objects.count(), model
    assert "meetings_attendance" in scaled and "Meetings: " in scaled
