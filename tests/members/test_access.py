import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from members import access, services
from members.access import Action, Role


def test_secretary_manages_her_cell_only(cast):
    assert access.can(cast.secretary_user, Action.MANAGE_MEMBERS, cast.cell_a)
    assert access.can(cast.secretary_user, Action.MANAGE_MEMBERS, cast.group_a)
    assert not access.can(cast.secretary_user, Action.VIEW_UNIT, cast.cell_b)
    assert not access.can(cast.secretary_user, Action.VIEW_UNIT, cast.ward)


def test_member_sees_his_cell_but_not_the_member_list(cast):
    assert access.can(cast.member_user, Action.VIEW_UNIT, cast.cell_a)
    assert not access.can(cast.member_user, Action.VIEW_MEMBERS, cast.cell_a)
    assert set(access.units_for(cast.member_user, Action.VIEW_UNIT)) == {cast.cell_a}


def test_ward_committee_member_reads_the_whole_ward_and_writes_nothing(cast):
    units = set(access.units_for(cast.ward_user, Action.VIEW_MEMBERS))
    assert units == {cast.ward, cast.cell_a, cast.cell_b, cast.group_a}
    assert not access.can(cast.ward_user, Action.MANAGE_MEMBERS, cast.cell_a)
    assert access.roles_of(cast.ward_user) == {Role.HIGHER_COMMITTEE, Role.MEMBER}


def test_member_of_other_cell_gets_404_for_a_member_record(cast):
    with pytest.raises(Http404):
        access.get_member_for_user(cast.outsider_user, cast.member.uid)


def test_read_only_role_gets_403_on_write(cast):
    assert access.get_member_for_user(cast.ward_user, cast.member.uid) == cast.member
    with pytest.raises(PermissionDenied):
        access.get_member_for_user(cast.ward_user, cast.member.uid, write=True)


def test_member_sees_own_record_only(cast):
    assert access.get_member_for_user(cast.member_user, cast.member.uid) == cast.member
    with pytest.raises(Http404):
        access.get_member_for_user(cast.member_user, cast.secretary.uid)


def test_access_follows_a_transfer_the_same_day(cast):
    transfer = services.transfer_out(
        member=cast.member, to_cell=cast.cell_b, date=datetime.date.today(), by=cast.secretary_user
    )
    assert not access.can(_fresh(cast.member_user), Action.VIEW_UNIT, cast.cell_a)
    services.transfer_accept(transfer=transfer, by=cast.staff_user)
    user = _fresh(cast.member_user)
    assert access.can(user, Action.VIEW_UNIT, cast.cell_b)
    assert not access.can(user, Action.VIEW_UNIT, cast.cell_a)


def _fresh(user):
    return type(user).objects.get(pk=user.pk)
