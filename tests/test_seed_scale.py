"""seed_demo --scale: the tree, members and three years of meetings, seeded once for the module
(each test runs in a savepoint of that transaction)."""

import io

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import Count
from django.test import override_settings
from django.utils import timezone

from cells.models import PATH_STEP, PartyUnit, Term
from cells.seed import TERM_START
from cells.seed_scale import HISTORY_REASON
from cells.text import fold
from meetings import services, summaries
from meetings.models import Attendance, Guest, Meeting, Vote
from meetings.seed_scale import ATTENDANCE_HISTORY, MONTHS
from members.access import Action, Role, roles_of, units_for
from members.models import DuesPayment, Member, Membership, Position, StatusPeriod, Transfer, User, add_months
from members.seed import DEMO_PASSWORD, DEMO_USERNAMES

SCALE = 20
Kind = PartyUnit.Kind


def seed(*args) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def scale_seed(django_db_setup, django_db_blocker):
    fast = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # as tests/conftest.py, for the logins made here
    with override_settings(PASSWORD_HASHERS=fast), django_db_blocker.unblock(), transaction.atomic():
        yield seed("--scale", str(SCALE))
        transaction.set_rollback(True)


@pytest.fixture
def scaled(scale_seed, db):
    return scale_seed


def test_scale_below_the_minimum_is_refused(db):
    # First in the module, before the module's seed: nothing is written.
    units = PartyUnit.objects.count()
    with pytest.raises(CommandError):
        seed("--scale", "3")
    assert PartyUnit.objects.count() == units


def test_scale_builds_n_cells_of_every_type_with_about_25_members_each(scaled):
    assert PartyUnit.objects.filter(kind=Kind.CELL).count() == SCALE
    assert 18 * SCALE <= Member.objects.count() <= 32 * SCALE
    assert set(PartyUnit.objects.values_list("kind", flat=True)) == set(Kind.values)
    cell_types = set(PartyUnit.objects.filter(kind=Kind.CELL).values_list("unit_type", flat=True))
    assert cell_types == set(PartyUnit.UnitType.values)
    assert PartyUnit.objects.filter(kind=Kind.GROUP).exists()
    assert PartyUnit.objects.filter(kind=Kind.CELL, is_grassroots=True).exists()
    # The closing figures: timing and rows per table.
    assert f"Seeded {SCALE} cells in" in scaled and "members_member" in scaled and "total" in scaled


def test_every_member_has_exactly_one_open_membership(scaled):
    open_rolls = Membership.objects.filter(end__isnull=True)
    assert open_rolls.count() == Member.objects.count()
    assert not open_rolls.values("member").annotate(n=Count("pk")).filter(n__gt=1).exists()
    # Transfer history: an earlier membership elsewhere, closed on the day the current one starts.
    closed = Membership.objects.filter(end__isnull=False).select_related("member")
    assert closed.exists()
    assert Transfer.objects.filter(state=Transfer.State.ACCEPTED).count() == closed.count()
    for earlier in closed:
        current = open_rolls.get(member=earlier.member)
        assert earlier.cell != current.cell and earlier.end == current.start
        assert earlier.member.home_unit_id == current.cell_id


def test_paths_agree_with_the_parents(scaled):
    units = {unit.pk: unit for unit in PartyUnit.objects.all()}
    for unit in units.values():
        segment = f"{unit.uid.hex[:PATH_STEP]}."
        parent = units.get(unit.parent_id)
        if parent is None:
            assert (unit.path, unit.depth) == (segment, 0)
        else:
            assert unit.path == parent.path + segment and unit.path.startswith(parent.path)
            assert unit.depth == parent.depth + 1
            assert unit.kind in {k for k, parents in PartyUnit.ALLOWED_PARENTS.items() if parent.kind in parents}
        assert unit.search_name == fold(unit.name)
    # save() computes the same derived columns the bulk path wrote.
    deepest = max(units.values(), key=lambda u: u.depth)
    path = deepest.path
    deepest.save()
    assert deepest.path == path


def test_every_cell_has_a_secretary_and_a_committee_from_nine_full_members(scaled):
    today = timezone.localdate()
    for cell in PartyUnit.objects.filter(kind=Kind.CELL):
        offices = Position.objects.filter(Position.active_on(today), unit=cell)
        assert offices.filter(role=Position.Role.SECRETARY).count() == 1, cell
        full = Membership.objects.filter(Membership.active_on(today), cell=cell, member__full_member_on__isnull=False)
        assert full.count() >= 3, cell
        if full.count() >= 9:
            assert offices.count() >= 3, cell
    for committee in PartyUnit.objects.filter(kind__in=[Kind.COMMITTEE, Kind.GRASSROOTS_COMMITTEE]):
        assert Position.objects.filter(unit=committee, role=Position.Role.COMMITTEE_MEMBER).exists(), committee
    # Every unit that issues documents has the current term.
    issuing = PartyUnit.objects.exclude(kind=Kind.GROUP)
    assert Term.objects.filter(start=TERM_START, end__isnull=True).count() == issuing.count()


def test_statuses_follow_the_party_rules(scaled):
    today = timezone.localdate()
    for member in Member.objects.all():
        assert add_months(member.birth_date, 18 * 12) <= member.admitted_on, member
        if member.full_member_on:
            assert add_months(member.admitted_on, 12) <= member.full_member_on <= today, member
        else:
            assert add_months(member.admitted_on, 12) > today, member
    probationary = Member.objects.filter(full_member_on__isnull=True).count()
    assert 0.05 <= probationary / Member.objects.count() <= 0.15
    assert StatusPeriod.objects.filter(kind=StatusPeriod.Kind.EXEMPTED).exists()
    assert len(set(Member.objects.exclude(card_number=None).values_list("card_number", flat=True))) == (
        Member.objects.exclude(card_number=None).count()
    )


def test_bulk_rows_have_their_history(scaled):
    for model in (PartyUnit, Term, Member, Membership, Position, Transfer, StatusPeriod):
        history = model.history.filter(history_type="+", history_change_reason=HISTORY_REASON)
        assert history.count() == model.objects.count() > 0, model


def test_logins_only_for_secretaries_and_the_demo_accounts(scaled):
    today = timezone.localdate()
    secretaries = Position.objects.filter(Position.active_on(today), role=Position.Role.SECRETARY)
    assert User.objects.count() == secretaries.count() + 4  # admin, bantochuc, capuy, dangvien
    others = Member.objects.filter(user__isnull=False).exclude(pk__in=secretaries.values("member"))
    assert set(others.values_list("user__username", flat=True)) == {"capuy", "dangvien"}
    for username in DEMO_USERNAMES:
        user = authenticate(username=username, password=DEMO_PASSWORD)
        assert user is not None and user.username == username
        assert f"  {username} " in scaled


def test_a_secretary_sees_only_her_cell(scaled):
    for user in User.objects.filter(member__positions__role=Position.Role.SECRETARY).exclude(
        member__positions__unit__kind__in=[Kind.COMMITTEE, Kind.GRASSROOTS_COMMITTEE]
    )[:5]:
        cell = Membership.objects.get(member__user=user, end=None).cell
        visible = units_for(user, Action.VIEW_MEMBERS)
        # Her cell and its party groups, nothing else.
        assert set(visible) == set(cell.subtree()), user
        assert list(visible.filter(kind=Kind.CELL)) == [cell]


def test_demo_logins_are_placed_in_the_big_tree(scaled):
    bithu, dangvien, capuy = (User.objects.get(username=name) for name in ["bithu", "dangvien", "capuy"])
    cell = Membership.objects.get(member__user=bithu, end=None).cell
    assert Membership.objects.get(member__user=dangvien, end=None).cell == cell
    assert roles_of(dangvien) == {Role.MEMBER} and not units_for(dangvien, Action.VIEW_MEMBERS).exists()
    committee = Position.objects.get(member__user=capuy, role=Position.Role.COMMITTEE_MEMBER).unit
    assert committee == cell.parent
    assert set(units_for(capuy, Action.VIEW_MEMBERS)) == set(committee.subtree())
    staff = User.objects.get(username="bantochuc")
    assert units_for(staff, Action.VIEW_MEMBERS).count() == PartyUnit.objects.count()


def test_scale_needs_an_empty_database_unless_if_empty(scaled):
    counts = PartyUnit.objects.count(), Member.objects.count(), User.objects.count()
    with pytest.raises(CommandError):
        seed("--scale", str(SCALE))
    output = seed("--scale", str(SCALE), "--if-empty")
    assert "nothing seeded" in output
    assert (PartyUnit.objects.count(), Member.objects.count(), User.objects.count()) == counts


def test_scale_holds_three_years_of_meetings_with_the_whole_roll(scaled):
    regular = Meeting.objects.filter(kind=Meeting.Kind.REGULAR, status=Meeting.Status.HELD)
    assert SCALE * (MONTHS - 6) <= regular.count() <= SCALE * MONTHS
    # Committee meetings where the cell has a committee of two or more on record (a secretary alone
    # holds none): every month in most of those cells.
    committee = Meeting.objects.filter(kind=Meeting.Kind.COMMITTEE)
    assert committee.count() > SCALE * 12
    assert not committee.annotate(n=Count("attendance")).filter(n__lt=2).exists()
    assert Meeting.objects.filter(kind=Meeting.Kind.THEMATIC).count() > SCALE * MONTHS // 8
    assert Meeting.objects.filter(status=Meeting.Status.CANCELLED).exclude(cancel_reason="").exists()
    held_or_cancelled = [Meeting.Status.HELD, Meeting.Status.CANCELLED]
    assert not Meeting.objects.exclude(status__in=held_or_cancelled).exists()
    # The in-memory roll is the service's, flags included, for regular and committee meetings alike.
    flags = ("is_full", "is_exempted", "is_suspended", "is_attached_here", "is_attached_elsewhere")
    held = Meeting.objects.filter(status=Meeting.Status.HELD).select_related("unit")
    for meeting in held:
        roll = services.roll_on(
            meeting.unit, services.meeting_date(meeting), committee_only=meeting.kind == Meeting.Kind.COMMITTEE
        )
        rows = {row["member_id"]: row for row in Attendance.objects.filter(meeting=meeting).values()}
        assert set(rows) == set(roll), meeting
        assert all({f: rows[m][f] for f in flags} == roll[m] for m in roll), meeting
        assert meeting.actual_end > meeting.actual_start
        assert meeting.chair_id and meeting.minutes_secretary_id and meeting.chair_id != meeting.minutes_secretary_id
    assert not Attendance.objects.filter(status="").exists()
    assert not Attendance.objects.filter(meeting__status=Meeting.Status.CANCELLED).exists()


def test_scale_counts_look_like_real_cells(scaled):
    rows = Attendance.objects.filter(meeting__kind=Meeting.Kind.REGULAR)
    present = rows.filter(status__in=Attendance.PRESENT_STATUSES).count()
    expected = sum(services.counts_for(m).expected for m in Meeting.objects.filter(kind=Meeting.Kind.REGULAR))
    assert 0.8 <= present / expected <= 0.97
    assert rows.filter(status=Attendance.Status.ABSENT_UNEXCUSED).exists()
    assert rows.filter(status=Attendance.Status.ABSENT_EXCUSED).exclude(reason="").exists()
    assert rows.filter(status=Attendance.Status.ONLINE).exists()
    # One vote per regular meeting held, against its voting base, passed.
    regular = Meeting.objects.filter(kind=Meeting.Kind.REGULAR, status=Meeting.Status.HELD)
    assert Vote.objects.count() == regular.count()
    for vote in Vote.objects.select_related("meeting")[:200]:
        assert vote.voting_base == services.counts_for(vote.meeting).voting_base and vote.passed, vote
    assert Guest.objects.filter(is_higher_delegate=True).exists()
    # Dues for nearly every member-month, most of them on the day of the meeting.
    assert DuesPayment.objects.count() > Member.objects.count() * (MONTHS - 6)
    meetings = list(regular.order_by("pk")[:100])
    paid = [
        DuesPayment.objects.filter(year=m.period_year, month=m.period_month, paid_on=services.meeting_date(m)).count()
        for m in meetings
    ]
    present = [m.attendance.filter(status__in=Attendance.PRESENT_STATUSES).count() for m in meetings]
    assert sum(paid) > 0.9 * sum(present)


def test_scale_meetings_rows_have_their_history_and_the_summaries_are_built(scaled):
    models = (Meeting, Vote, Guest, DuesPayment) + ((Attendance,) if ATTENDANCE_HISTORY else ())
    for model in models:
        created = model.history.filter(history_type="+", history_change_reason=HISTORY_REASON)
        assert created.count() == model.objects.count() > 0, model
    # Ids were assigned by the step: the next row the app writes gets a fresh one.
    meeting = Meeting.objects.filter(status=Meeting.Status.HELD).first()
    vote = services.vote_record(
        meeting=meeting, subject="Kết luận bổ sung", votes_for=1, by=User.objects.get(username="admin")
    )
    assert vote.pk > max(Vote.objects.exclude(pk=vote.pk).values_list("pk", flat=True))
    assert summaries.MeetingCount.objects.count() == Meeting.objects.count()
    assert "dashboard summaries" in scaled and "meetings_attendance" in scaled and "Meetings: " in scaled
