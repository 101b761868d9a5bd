"""The meetings step of seed_demo: a year of meetings per demo cell (the --scale step is checked in
tests/test_seed_scale.py). The demo is seeded once for the module; each test runs in a savepoint."""

import datetime
import hashlib
import io
from collections import defaultdict

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from cells.models import PartyUnit
from cells.seed import FIRST_RESIDENTIAL_CELL
from meetings import discipline, services, summaries
from meetings.models import AgendaItem, Attendance, Guest, Meeting, Speech, Vote
from meetings.seed import CLOSE_LAST, EXCUSES, HISTORY_REASON, SKIP_COMMITTEE, WEAK_CELL
from members.models import DuesPayment, Member, User, add_months

Kind, Status = Meeting.Kind, Meeting.Status


def seed(*args) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, tmp_path_factory):
    """The demo seeded once for the module, rolled back after its last test."""
    media = tmp_path_factory.mktemp("seed-media")
    fast = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # as tests/conftest.py, for the logins made here
    with override_settings(MEDIA_ROOT=media, PASSWORD_HASHERS=fast), django_db_blocker.unblock(), transaction.atomic():
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

    def test_every_past_meeting_lists_the_roll_the_service_takes_with_the_same_standing(self, seeded):
        # The seed's in-memory roll (Tree.roll) against services.roll_on, flags included; committee
        # meetings list the cell committee only.
        flags = ("is_full", "is_exempted", "is_suspended", "is_attached_here", "is_attached_elsewhere")
        past = Meeting.objects.filter(status__in=Meeting.HELD_STATUSES).select_related("unit")
        assert past.count() > 300
        for meeting in past:
            roll = services.roll_on(
                meeting.unit, services.meeting_date(meeting), committee_only=meeting.kind == Kind.COMMITTEE
            )
            rows = {row["member_id"]: row for row in Attendance.objects.filter(meeting=meeting).values()}
            assert set(rows) == set(roll), meeting
            assert all({f: rows[m][f] for f in flags} == roll[m] for m in roll), meeting
            assert all(row["status"] for row in rows.values()), meeting
        # The demo has a member temporarily attached to another cell: listed here at regular meetings.
        assert Attendance.objects.filter(is_attached_here=True, meeting__kind=Kind.REGULAR).exists()
        assert not Attendance.objects.filter(is_attached_here=True, meeting__kind=Kind.COMMITTEE).exists()

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

    def test_past_minutes_are_complete_and_the_last_of_the_demo_cell_is_closed_with_its_pdf(self, seeded):
        closed = Meeting.objects.filter(status=Status.CLOSED)
        assert closed.count() == CLOSE_LAST
        for meeting in closed:
            assert meeting.unit.name == FIRST_RESIDENTIAL_CELL and meeting.kind == Kind.REGULAR
            meeting.minutes_pdf.open("rb")
            data = meeting.minutes_pdf.read()
            meeting.minutes_pdf.close()
            assert data.startswith(b"%PDF") and hashlib.sha256(data).hexdigest() == meeting.minutes_sha256
        last = Meeting.objects.filter(
            unit__name=FIRST_RESIDENTIAL_CELL, kind=Kind.REGULAR, status__in=Meeting.HELD_STATUSES
        ).first()  # newest first
        assert last.status == Status.CLOSED
        # Every other past meeting is held with complete minutes: the secretary may close it at once.
        held = Meeting.objects.filter(status=Status.HELD)
        assert held.count() > 300 and not held.exclude(minutes_pdf="").exists()
        for meeting in held.select_related("unit"):
            assert services.close_problems(meeting) == [], meeting
            assert meeting.chair_id != meeting.minutes_secretary_id and meeting.minutes_version == 1
            assert meeting.actual_end > meeting.actual_start
        for meeting in held_regular():
            assert 2 <= meeting.agenda.filter(key="discussion").get().speeches.count() <= 4
            assert meeting.agenda.get(key="assessment").content and meeting.agenda.get(key="tasks").content
            assert "đảng phí" in meeting.agenda.get(key="opening").content
        # The agenda is the standard one, in Vietnamese, numbered from 1 without gaps.
        for meeting in Meeting.objects.filter(status__in=Meeting.HELD_STATUSES)[:40]:
            orders = list(meeting.agenda.values_list("order", flat=True))
            assert orders == list(range(1, len(orders) + 1)) and len(orders) >= 4, meeting
        assert AgendaItem.objects.filter(meeting__kind=Kind.REGULAR, key="news", title__startswith="Thông tin").exists()
        assert Meeting.objects.filter(kind=Kind.THEMATIC, presenters__isnull=False).exists()

    def test_bulk_rows_have_their_history_and_the_summaries_agree(self, seeded):
        # Every row of the past meetings has its "created" history row, as the services would write.
        past = Meeting.objects.filter(status__in=Meeting.HELD_STATUSES)
        rows = {
            Meeting: past,
            Attendance: Attendance.objects.all(),
            AgendaItem: AgendaItem.objects.filter(meeting__in=past),
            Speech: Speech.objects.all(),
            Vote: Vote.objects.all(),
            Guest: Guest.objects.all(),
            DuesPayment: DuesPayment.objects.all(),
        }
        for model, queryset in rows.items():
            created = model.history.filter(history_type="+", history_change_reason=HISTORY_REASON)
            assert created.count() == queryset.count() > 0, model
            assert set(created.values_list("id", flat=True)) == set(queryset.values_list("pk", flat=True)), model
        # The dashboard summaries were rebuilt after the bulk step and agree with the raw tables.
        assert summaries.MeetingCount.objects.count() == Meeting.objects.count()
        assert summaries.check() == []

    def test_the_pages_of_the_seeded_meetings_work(self, seeded, client):
        secretary, member = User.objects.get(username="bithu"), User.objects.get(username="dangvien")
        meetings = Meeting.objects.filter(unit__name=FIRST_RESIDENTIAL_CELL)
        closed = meetings.get(status=Status.CLOSED) if CLOSE_LAST == 1 else meetings.filter(status=Status.CLOSED)[0]
        held = meetings.filter(status=Status.HELD, kind=Kind.REGULAR).first()
        upcoming = meetings.get(status=Status.SCHEDULED, kind=Kind.REGULAR)
        client.force_login(member)
        response = client.get(reverse("meetings:minutes_pdf", args=[closed.uid]))
        assert response.status_code == 200 and response.content == closed.minutes_pdf.open("rb").read()
        client.force_login(secretary)
        for meeting in (closed, held, upcoming):
            assert client.get(reverse("meetings:detail", args=[meeting.uid])).status_code == 200, meeting
        for meeting in (closed, held):
            assert client.get(reverse("meetings:minutes", args=[meeting.uid])).status_code == 200, meeting
        draft = client.get(reverse("meetings:minutes_pdf", args=[held.uid]))
        assert draft.status_code == 200 and draft.content.startswith(b"%PDF")

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
