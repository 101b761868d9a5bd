"""Meeting accessors: every meeting view fetches through these (404 outside scope, 403 read-only)."""

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

from members.access import Action, can, units_for

from .models import Meeting


def meetings_for(user) -> QuerySet[Meeting]:
    """Meetings the user may see: the cell's meetings for its members; committee meetings only
    for the cell committee and the committees above (those who see the member list)."""
    members_view = Q(unit__in=units_for(user, Action.VIEW_MEETINGS)) & ~Q(kind=Meeting.Kind.COMMITTEE)
    committee_view = Q(unit__in=units_for(user, Action.VIEW_MEMBERS), kind=Meeting.Kind.COMMITTEE)
    return Meeting.objects.filter(members_view | committee_view)


def get_meeting_for_user(user, uid, write: bool = False) -> Meeting:
    meeting = meetings_for(user).filter(uid=uid).select_related("unit", "unit__parent").first()
    if meeting is None:
        raise Http404
    if write and not can(user, Action.MANAGE_MEETINGS, meeting.unit):
        raise PermissionDenied
    return meeting


def can_manage(user, meeting: Meeting) -> bool:
    return can(user, Action.MANAGE_MEETINGS, meeting.unit)
