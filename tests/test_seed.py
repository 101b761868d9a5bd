"""seed_demo: the demo tree and its members. The demo is seeded twice per module, not once per test:
once with --if-empty into the empty database and rolled back (the determinism check), then again for
every test, each test in a savepoint of that transaction."""

import io

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from cells.models import PartyUnit, Term
from members.access import Role, roles_of
from members.models import Member, Membership, Position, StatusPeriod, Transfer, User, add_months
from members.seed import DEMO_PASSWORD


def seed(*args) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def snapshot() -> list[tuple[str, str]]:
    return list(Member.objects.order_by("card_number", "full_name").values_list("full_name", "card_number"))


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, tmp_path_factory):
    """(output of the first seed with --if-empty, its members, output of the second seed)."""
    media = tmp_path_factory.mktemp("seed-media")
    # The fast hasher of tests/conftest.py, already when the module's logins are made.
    fast = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with override_settings(MEDIA_ROOT=media, PASSWORD_HASHERS=fast), django_db_blocker.unblock():
        with transaction.atomic():
            first_output, first = seed("--if-empty"), snapshot()
            transaction.set_rollback(True)
        with transaction.atomic():
            yield first_output, first, seed()
            transaction.set_rollback(True)


@pytest.fixture
def seeded(demo, db):
    return demo[2]


def test_seed_builds_a_tree_and_its_members(seeded):
    assert PartyUnit.objects.count() >= 14
    assert Member.objects.count() >= 140
    kinds = set(PartyUnit.objects.values_list("kind", flat=True))
    assert kinds == {
        PartyUnit.Kind.COMMITTEE,
        PartyUnit.Kind.GRASSROOTS_COMMITTEE,
        PartyUnit.Kind.CELL,
        PartyUnit.Kind.GROUP,
    }
    cell_types = set(PartyUnit.objects.filter(kind=PartyUnit.Kind.CELL).values_list("unit_type", flat=True))
    assert len(cell_types) >= 6
    # Every unit that issues documents has the 2025–2030 term.
    assert Term.objects.count() == PartyUnit.objects.exclude(kind=PartyUnit.Kind.GROUP).count()
    assert "Created" in seeded and "members: " in seeded


def test_seed_records_respect_the_party_rules(seeded):
    today = timezone.localdate()
    for member in Member.objects.all():
        # Admitted at 18 or older; full membership after 12 months of probation.
        assert add_months(member.birth_date, 18 * 12) <= member.admitted_on, member
        if member.full_member_on:
            assert add_months(member.admitted_on, 12) <= member.full_member_on <= today, member
        else:
            assert add_months(member.admitted_on, 12) > today, member
    probationary = Member.objects.filter(full_member_on__isnull=True).count()
    assert 0.05 <= probationary / Member.objects.count() <= 0.15
    for cell in PartyUnit.objects.filter(kind=PartyUnit.Kind.CELL):
        roll = Membership.objects.filter(Membership.active_on(today), cell=cell)
        assert roll.filter(member__full_member_on__isnull=False).count() >= 3, cell
        assert Position.objects.filter(unit=cell, role=Position.Role.SECRETARY).count() == 1, cell


def test_seed_has_the_special_cases(seeded):
    assert Transfer.objects.filter(state=Transfer.State.ACCEPTED).count() == 3
    assert Transfer.objects.filter(state=Transfer.State.PENDING).count() == 1
    assert Member.objects.filter(end_reason=Member.EndReason.DIED).count() == 1
    assert StatusPeriod.objects.filter(kind=StatusPeriod.Kind.SUSPENDED).count() == 1
    assert StatusPeriod.objects.filter(kind=StatusPeriod.Kind.EXEMPTED).count() >= 2
    assert Member.objects.filter(works_away=True).count() >= 5
    cards = list(Member.objects.exclude(card_number=None).values_list("card_number", flat=True))
    assert all(len(card) == 8 and card.isdigit() for card in cards)
    # Audit history was written for the seeded records too.
    assert Member.history.count() >= Member.objects.count()


def test_demo_logins_authenticate(seeded):
    for username in ["bithu", "dangvien", "capuy", "admin"]:
        user = authenticate(username=username, password=DEMO_PASSWORD)
        assert user is not None and user.username == username
        assert f"  {username} " in seeded


def test_demo_logins_have_their_roles(seeded):
    bithu, dangvien, capuy, admin = (
        User.objects.get(username=name) for name in ["bithu", "dangvien", "capuy", "admin"]
    )
    assert Role.CELL_COMMITTEE in roles_of(bithu)
    assert roles_of(dangvien) == {Role.MEMBER}
    assert Role.HIGHER_COMMITTEE in roles_of(capuy) and Role.MEMBER in roles_of(capuy)
    assert admin.is_staff and admin.is_superuser
    # The ordinary member sits in the secretary's cell, under the committee capuy serves on.
    cell = Membership.objects.get(member__user=bithu, end=None).cell
    assert Membership.objects.get(member__user=dangvien, end=None).cell == cell
    committee = Position.objects.get(member__user=capuy, role=Position.Role.COMMITTEE_MEMBER).unit
    assert committee == cell.parent


def test_if_empty_seeds_an_empty_database_once_and_then_lists_the_logins(demo, db):
    first_output, _, _ = demo
    assert "Seeded in" in first_output and "Created" in first_output
    counts = PartyUnit.objects.count(), Member.objects.count(), User.objects.count()
    output = seed("--if-empty")
    assert (PartyUnit.objects.count(), Member.objects.count(), User.objects.count()) == counts
    assert "nothing seeded" in output and "bithu" in output and DEMO_PASSWORD in output


def test_seeding_a_database_with_units_needs_if_empty(seeded):
    with pytest.raises(CommandError):
        seed()


def test_seed_is_deterministic(demo, db):
    # The same members, names and card numbers as the first seed (rolled back before this one).
    _, first, _ = demo
    assert first and snapshot() == first
