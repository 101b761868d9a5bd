"""Meeting accessors: every meeting view fetches through these (404 outside scope, 403 read-only)."""

import uuid

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

from config.precompiled import PrecompiledGet
from members.access import Action, can, units_for

from .models import Meeting


def _visibility(meeting_kind: str) -> Action:
    # Committee meetings only for those who see the member list; the others for the cell's members.
    return Action.VIEW_MEMBERS if meeting_kind == Meeting.Kind.COMMITTEE else Action.VIEW_MEETINGS


def meetings_for(user) -> QuerySet[Meeting]:
    """Meetings the user may see: the cell's meetings for its members; committee meetings only
    for the cell committee and the committees above (those who see the member list)."""
    members_view = Q(unit__in=units_for(user, Action.VIEW_MEETINGS)) & ~Q(kind=Meeting.Kind.COMMITTEE)
    committee_view = Q(unit__in=units_for(user, Action.VIEW_MEMBERS), kind=Meeting.Kind.COMMITTEE)
    return Meeting.objects.filter(members_view | committee_view)


def may_view(user, meeting: Meeting) -> bool:
    """The rule of meetings_for, for one meeting already fetched (no query once the user's grants
    are loaded)."""
    return can(user, _visibility(meeting.kind), meeting.unit)


# Compiled once per process (config/precompiled.py): the meeting pages are read many times a
# minute during a meeting.
_MEETING_BY_UID = PrecompiledGet(
    lambda uid: Meeting.objects.select_related("unit", "unit__parent").filter(uid=uid),
    field="uid",
    sample=uuid.UUID("00000000-0000-4000-8000-00000000c0de"),
)


def get_meeting_for_user(user, uid, write: bool = False) -> Meeting:
    # Fetched by its uid, then checked against the user's grants in Python: one plain query
    # instead of the scope subqueries.
    meeting = _MEETING_BY_UID.get(uid)
    if meeting is None or not may_view(user, meeting):
        raise Http404
    if write and not can(user, Action.MANAGE_MEETINGS, meeting.unit):
        raise PermissionDenied
    return meeting


def can_manage(user, meeting: Meeting) -> bool:
    return can(user, Action.MANAGE_MEETINGS, meeting.unit)
