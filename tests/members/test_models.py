import datetime

import pytest
from django.core.exceptions import ValidationError

from members import services
from members.models import Member, Membership, StatusPeriod, Transfer
from tests.factories import MemberFactory

D = datetime.date


def test_status_on_a_date_is_derived_from_the_dated_records(cast):
    m = MemberFactory(admitted_on=D(2024, 3, 1), full_member_on=D(2025, 3, 1), cell=cast.cell_a)
    StatusPeriod.objects.create(member=m, kind="exempted", start=D(2025, 6, 1), end=D(2025, 8, 31), reason="Sức khỏe")
    StatusPeriod.objects.create(member=m, kind="suspended", start=D(2026, 1, 1), reason="Kỷ luật")
    assert m.status_on(D(2024, 2, 28)).code == "left"  # not yet admitted
    assert m.status_on(D(2024, 12, 1)).code == "probationary"
    assert m.status_on(D(2025, 3, 1)).code == "full"
    assert m.status_on(D(2025, 7, 1)).code == "exempted"
    assert m.status_on(D(2025, 9, 1)).code == "full"
    assert m.status_on(D(2026, 2, 1)).code == "suspended"


def test_full_membership_needs_12_months_of_probation(db):
    m = Member(
        full_name="A",
        birth_date=D(1990, 1, 1),
        gender="male",
        admitted_on=D(2024, 3, 31),
        full_member_on=D(2025, 3, 30),
    )
    with pytest.raises(ValidationError) as exc:
        m.full_clean()
    assert "full_member_on" in exc.value.error_dict
    m.full_member_on = D(2025, 3, 31)
    m.full_clean()


def test_member_must_be_18_when_admitted(db):
    m = Member(full_name="A", birth_date=D(2000, 6, 2), gender="male", admitted_on=D(2018, 6, 1))
    with pytest.raises(ValidationError) as exc:
        m.full_clean()
    assert "admitted_on" in exc.value.error_dict


def test_names_are_stored_nfc_and_folded_for_search(db):
    m = MemberFactory(full_name="Nguye\u0302\u0303n  Thi\u0323 Ha\u0306\u0300ng")
    assert m.full_name == "Nguyễn Thị Hằng" and m.search_name == "nguyen thi hang"


def test_group_must_belong_to_the_cell(cast):
    with pytest.raises(ValidationError):
        Membership(member=cast.outsider, cell=cast.cell_b, group=cast.group_a, start=D(2026, 1, 1)).full_clean()


def test_a_member_belongs_to_one_cell_at_a_time(cast):
    with pytest.raises(ValidationError):
        Membership(member=cast.member, cell=cast.cell_b, start=D(2024, 1, 1)).full_clean()


def test_transfer_out_then_cancel_restores_the_roll(cast):
    t = services.transfer_out(member=cast.member, to_cell=cast.cell_b, date=D(2026, 3, 1), by=cast.secretary_user)
    assert not cast.member.memberships.filter(Membership.active_on(D(2026, 3, 1))).exists()
    assert cast.member.memberships.filter(Membership.active_on(D(2026, 2, 28)), cell=cast.cell_a).exists()
    services.transfer_cancel(transfer=t, by=cast.secretary_user)
    assert cast.member.memberships.get(end__isnull=True).cell == cast.cell_a
    with pytest.raises(ValidationError):
        services.transfer_cancel(transfer=t, by=cast.secretary_user)


def test_transfer_is_accepted_once(cast):
    t = services.transfer_out(member=cast.member, to_cell=cast.cell_b, date=D(2026, 3, 1), by=cast.secretary_user)
    services.transfer_accept(transfer=t, by=cast.staff_user)
    with pytest.raises(ValidationError):
        services.transfer_accept(transfer=t, by=cast.staff_user)
    assert cast.member.memberships.filter(end__isnull=True).count() == 1


def test_transfer_outside_the_system_is_complete_at_once(cast):
    t = services.transfer_out(
        member=cast.member,
        to_cell=None,
        destination_text="Đảng bộ tỉnh Phú Thọ",
        date=D(2026, 3, 1),
        by=cast.secretary_user,
    )
    assert t.state == Transfer.State.ACCEPTED
    assert not cast.member.memberships.filter(end__isnull=True).exists()


def test_second_pending_transfer_is_refused(cast):
    services.transfer_out(member=cast.member, to_cell=cast.cell_b, date=D(2026, 3, 1), by=cast.secretary_user)
    with pytest.raises(ValidationError):
        services.transfer_out(member=cast.member, to_cell=cast.cell_b, date=D(2026, 4, 1), by=cast.secretary_user)


def test_staff_move_is_a_transfer_accepted_at_once(cast):
    services.member_move(member=cast.member, to_cell=cast.cell_b, date=D(2026, 3, 1), by=cast.staff_user)
    cast.member.refresh_from_db()
    assert cast.member.home_unit == cast.cell_b
    assert cast.member.transfers.get().state == Transfer.State.ACCEPTED


def test_member_end_closes_roll_positions_and_login(cast):
    services.member_end(member=cast.secretary, on=D(2026, 3, 1), reason="died", by=cast.staff_user)
    cast.secretary_user.refresh_from_db()
    assert not cast.secretary_user.is_active
    assert not cast.secretary.memberships.filter(end__isnull=True).exists()
    assert not cast.secretary.positions.filter(end__isnull=True).exists()
    cast.secretary.refresh_from_db()
    assert cast.secretary.status_on(D(2026, 3, 1)).code == "left"
    assert cast.secretary.status_on(D(2026, 2, 28)).code == "full"


def test_changing_a_members_email_updates_the_login(cast):
    services.member_update(member=cast.member, email="duc.le@example.org", by=cast.secretary_user)
    cast.member_user.refresh_from_db()
    assert cast.member_user.email == "duc.le@example.org"


def test_a_secretary_period_may_not_overlap_another(cast):
    # The cast's secretary holds the post from 2020 with no end: an earlier open start overlaps too.
    with pytest.raises(ValidationError):
        services.position_add(
            unit=cast.cell_a, role="secretary", member=cast.member, start=D(2019, 1, 1), by=cast.staff_user
        )
    services.position_add(
        unit=cast.cell_a,
        role="secretary",
        member=cast.member,
        start=D(2018, 1, 1),
        end=D(2019, 12, 31),
        by=cast.staff_user,
    )


def test_transfers_and_leaving_keep_audit_history(cast):
    t = services.transfer_out(member=cast.member, to_cell=cast.cell_b, date=D(2026, 3, 1), by=cast.secretary_user)
    services.transfer_accept(transfer=t, by=cast.staff_user)
    assert [h.state for h in t.history.order_by("history_date")] == ["pending", "accepted"]
    assert cast.member.history.latest().home_unit_id == cast.cell_b.pk
    services.member_end(member=cast.secretary, on=D(2026, 4, 1), reason="died", by=cast.staff_user)
    closed = cast.secretary.memberships.get()
    assert closed.history.latest().end == D(2026, 4, 1)
    assert cast.secretary.positions.get().history.latest().end == D(2026, 4, 1)
