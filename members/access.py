"""The one door: who may do what on which units.

Every view fetches through the accessors here. A role on a unit covers its whole subtree.
Outside a user's scope an object does not exist (404); inside it, a read-only role that tries
to write gets 403.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from enum import StrEnum
from functools import reduce
from operator import or_

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.functional import LazyObject, empty

from cells.models import PartyUnit
from config.precompiled import prepared_cursor
from members.models import Member, Position, Transfer, User


class Role(StrEnum):
    MEMBER = "member"  # đảng viên: own cell
    CELL_COMMITTEE = "cell_committee"  # bí thư, phó bí thư, chi ủy viên: own cell
    HIGHER_COMMITTEE = "higher_committee"  # cấp ủy viên above the cell: subtree, read-only
    STAFF = "staff"  # ban tổ chức, văn phòng: subtree, read + units + moves


class Action(StrEnum):
    VIEW_UNIT = "view_unit"
    VIEW_MEMBERS = "view_members"  # the member list and every member record of the unit
    MANAGE_MEMBERS = "manage_members"  # records, logins, transfers, positions of a cell
    MANAGE_UNITS = "manage_units"
    MOVE_MEMBERS = "move_members"  # direct moves between cells of the subtree
    VIEW_MEETINGS = "view_meetings"
    MANAGE_MEETINGS = "manage_meetings"
    VIEW_RESOLUTIONS = "view_resolutions"
    MANAGE_RESOLUTIONS = "manage_resolutions"
    COMMENT = "comment"
    VOTE = "vote"
    CHECK_IN = "check_in"
    VIEW_DASHBOARD = "view_dashboard"
    VIEW_AUDIT = "view_audit"


_MEMBER = {
    Action.VIEW_UNIT,
    Action.VIEW_MEETINGS,
    Action.VIEW_RESOLUTIONS,
    Action.COMMENT,
    Action.VOTE,
    Action.CHECK_IN,
}
_READ_SUBTREE = {
    Action.VIEW_UNIT,
    Action.VIEW_MEMBERS,
    Action.VIEW_MEETINGS,
    Action.VIEW_RESOLUTIONS,
    Action.VIEW_DASHBOARD,
}

# The explicit action × role table (DOMAIN.md "Roles and what they may do").
GRANTS: dict[Role, frozenset[Action]] = {
    Role.MEMBER: frozenset(_MEMBER),
    Role.CELL_COMMITTEE: frozenset(
        _MEMBER
        | {
            Action.VIEW_MEMBERS,
            Action.MANAGE_MEMBERS,
            Action.MANAGE_MEETINGS,
            Action.MANAGE_RESOLUTIONS,
            Action.VIEW_DASHBOARD,
            Action.VIEW_AUDIT,
        }
    ),
    Role.HIGHER_COMMITTEE: frozenset(_READ_SUBTREE | {Action.VIEW_AUDIT}),
    Role.STAFF: frozenset(_READ_SUBTREE | {Action.VIEW_AUDIT, Action.MANAGE_UNITS, Action.MOVE_MEMBERS}),
}

CELL_KINDS = {PartyUnit.Kind.CELL, PartyUnit.Kind.GROUP}
CELL_COMMITTEE_ROLES = {Position.Role.SECRETARY, Position.Role.DEPUTY_SECRETARY, Position.Role.COMMITTEE_MEMBER}


@dataclass(frozen=True)
class Grant:
    role: Role
    unit_id: int
    path: str
    # A member's role covers the cell itself; committee roles cover the subtree.
    subtree: bool


def _role(position_role: str, unit_kind: str) -> Role:
    if position_role == Position.Role.STAFF:
        return Role.STAFF
    if unit_kind in CELL_KINDS and position_role in CELL_COMMITTEE_ROLES:
        return Role.CELL_COMMITTEE
    if unit_kind in CELL_KINDS:
        return Role.MEMBER
    return Role.HIGHER_COMMITTEE


def role_for_position(position: Position) -> Role:
    return _role(position.role, position.unit.kind)


# The user's positions (with their unit) and the cells of their current membership or temporary
# attachment, active on a day, in one statement. Every signed-in request reads it: written out in
# SQL because the ORM spent ~6 ms of CPU building the equivalent five queries, the SQL 0.4 ms
# (bench/meeting_page.py). Active periods as Position.active_on, Membership.active_on and
# PartyUnit.is_active_on; the unit's check is done here so SQLite need not return dates.
def _grants_sql(member: str) -> str:
    # member: "%s" or _MEMBER_OF_USER, both constants here; every value is a parameter.
    return """
SELECT p.role, u.id, u.path, u.kind
  FROM members_position p JOIN cells_partyunit u ON u.id = p.unit_id
 WHERE (p.user_id = %s OR p.member_id = {member})
   AND p.start <= %s AND (p."end" IS NULL OR p."end" >= %s)
   AND (u.founded_on IS NULL OR u.founded_on <= %s) AND (u.dissolved_on IS NULL OR u.dissolved_on >= %s)
UNION ALL
SELECT NULL, u.id, u.path, u.kind
  FROM cells_partyunit u
 WHERE u.id IN (SELECT cell_id FROM members_membership
                 WHERE member_id = {member} AND start <= %s AND ("end" IS NULL OR "end" > %s)
                UNION
                SELECT cell_id FROM members_temporaryattachment
                 WHERE member_id = {member} AND start <= %s AND ("end" IS NULL OR "end" > %s))
""".replace("{member}", member)


# Parameters: user id, member id (None without a current member record), the day (x4), then
# (member id, day, day) twice.
_GRANTS_SQL = _grants_sql("%s")

# The same with the member found from the user id (a member record not ended), for reading the
# grants inside the user's own query on PostgreSQL (members.auth): one round trip per request
# instead of two. Parameters: grants_of_user_params().
_MEMBER_OF_USER = "(SELECT m.id FROM members_member m WHERE m.user_id = %s AND m.ended_on IS NULL)"
_GRANTS_AS_JSON = "(SELECT CAST(COALESCE(json_agg(json_build_array(g.role, g.id, g.path, g.kind)), '[]') AS text)"
GRANTS_OF_USER_JSON_SQL = _GRANTS_AS_JSON + " FROM (" + _grants_sql(_MEMBER_OF_USER) + ") g)"


def grants_of_user_params(user_id, day) -> list:
    return [user_id, user_id, *[day] * 4, *[user_id, day, day] * 2]


def _unwrapped(user):
    """request.user is a lazy object (twice: auth's and django-otp's); every attribute read through
    it costs a few Python calls, and a page checks rights a dozen times. The user itself, once."""
    while isinstance(user, LazyObject):
        if user._wrapped is empty:
            user._setup()
        user = user._wrapped
    return user


def grants_for(user, day: datetime.date | None = None) -> list[Grant]:
    """The user's roles today, from positions and current membership (cached on the user)."""
    user = _unwrapped(user)
    if not user.is_authenticated or not user.is_active:
        return []
    day = day or timezone.localdate()
    cache_key = f"_chibo_grants_{day.isoformat()}"
    if hasattr(user, cache_key):
        return getattr(user, cache_key)
    # One query, once per request: the grants. The member record (user.member, which base.html
    # reads on every page) came with the user (members.auth.MemberLoadingMixin); fetched here
    # only for a user loaded otherwise.
    if User.member.related.is_cached(user):
        member = user.member if hasattr(user, "member") else None
    else:
        member = next(iter(Member.objects.raw("SELECT * FROM members_member WHERE user_id = %s", [user.pk])), None)
        User.member.related.set_cached_value(user, member)
    member_id = member.pk if member is not None and member.ended_on is None else None
    with prepared_cursor() as cursor:  # planned once per connection on PostgreSQL
        cursor.execute(_GRANTS_SQL, [user.pk, member_id, *[day] * 4, *[member_id, day, day] * 2])
        rows = cursor.fetchall()
    return remember_grants(user, day, rows)


def remember_grants(user, day: datetime.date, rows) -> list[Grant]:
    """The grants of the (role, unit id, path, kind) rows of the grants SQL, kept on the user for
    that day (members.auth passes those read with the user)."""
    grants = []
    for position_role, unit_id, path, kind in rows:
        if position_role is None:
            grants.append(Grant(Role.MEMBER, unit_id, path, False))
        else:
            grants.append(Grant(_role(position_role, kind), unit_id, path, True))
    setattr(user, f"_chibo_grants_{day.isoformat()}", grants)
    return grants


def _units_q(grants: list[Grant], action: Action) -> Q | None:
    parts = [Q(path__startswith=g.path) if g.subtree else Q(pk=g.unit_id) for g in grants if action in GRANTS[g.role]]
    return reduce(or_, parts) if parts else None


def units_for(user, action: Action) -> QuerySet[PartyUnit]:
    """Units on which the user may perform the action; filter other models with unit__in=."""
    if getattr(user, "is_superuser", False) and user.is_active:
        return PartyUnit.objects.all()
    q = _units_q(grants_for(user), action)
    return PartyUnit.objects.filter(q) if q is not None else PartyUnit.objects.none()


def can(user, action: Action, unit: PartyUnit) -> bool:
    user = _unwrapped(user)
    if getattr(user, "is_superuser", False) and user.is_active:
        return True
    for g in grants_for(user):
        if action in GRANTS[g.role] and (unit.path.startswith(g.path) if g.subtree else unit.pk == g.unit_id):
            return True
    return False


def roles_of(user) -> set[Role]:
    return {g.role for g in grants_for(user)}


def root_units_for(user, action: Action = Action.VIEW_UNIT) -> QuerySet[PartyUnit]:
    """The top units of the user's scope (for the home page and the tree browser)."""
    if getattr(user, "is_superuser", False) and user.is_active:
        return PartyUnit.objects.filter(parent__isnull=True)
    grants = [g for g in grants_for(user) if action in GRANTS[g.role]]
    paths = {g.path for g in grants}
    tops = {p for p in paths if not any(p != other and p.startswith(other) for other in paths)}
    return PartyUnit.objects.filter(path__in=tops)


# --- Accessors: one per kind of object ------------------------------------------------------


def get_unit_for_user(user, uid, write: bool = False) -> PartyUnit:
    unit = units_for(user, Action.VIEW_UNIT).filter(uid=uid).select_related("parent").first()
    if unit is None:
        raise Http404
    if write and not can(user, Action.MANAGE_UNITS, unit) and not can(user, Action.MANAGE_MEMBERS, unit):
        raise PermissionDenied
    return unit


def members_in_scope(user, action: Action = Action.VIEW_MEMBERS) -> QuerySet[Member]:
    """Members whose record the user may open: held by a unit in scope, or arriving by transfer."""
    units = units_for(user, action)
    incoming = Transfer.objects.filter(state=Transfer.State.PENDING, to_cell__in=units).values("member_id")
    return Member.objects.filter(Q(home_unit__in=units) | Q(pk__in=incoming))


def get_member_for_user(user, uid, write: bool = False) -> Member:
    """A member record: the user's own, or one in scope. write=True needs MANAGE_MEMBERS."""
    visible = members_in_scope(user) | Member.objects.filter(user=user) if user.is_authenticated else None
    member = visible.filter(uid=uid).select_related("home_unit", "user").first() if visible is not None else None
    if member is None:
        raise Http404
    if write and not (member.home_unit and can(user, Action.MANAGE_MEMBERS, member.home_unit)):
        raise PermissionDenied
    return member


def get_transfer_for_user(user, uid, write: bool = False) -> Transfer:
    units = units_for(user, Action.VIEW_MEMBERS)
    transfer = (
        Transfer.objects.filter(Q(from_cell__in=units) | Q(to_cell__in=units), uid=uid)
        .select_related("member", "from_cell", "to_cell")
        .first()
    )
    if transfer is None:
        raise Http404
    if write:
        may_accept = transfer.to_cell and can(user, Action.MANAGE_MEMBERS, transfer.to_cell)
        may_cancel = can(user, Action.MANAGE_MEMBERS, transfer.from_cell)
        staff_above_both = can(user, Action.MOVE_MEMBERS, transfer.from_cell) and (
            transfer.to_cell is None or can(user, Action.MOVE_MEMBERS, transfer.to_cell)
        )
        if not (may_accept or may_cancel or staff_above_both):
            raise PermissionDenied
    return transfer


def get_position_for_user(user, uid, write: bool = False) -> Position:
    units = units_for(user, Action.VIEW_MEMBERS)
    position = Position.objects.filter(unit__in=units, uid=uid).select_related("unit", "member", "user").first()
    if position is None:
        raise Http404
    if write and not (can(user, Action.MANAGE_MEMBERS, position.unit) or can(user, Action.MANAGE_UNITS, position.unit)):
        raise PermissionDenied
    return position
