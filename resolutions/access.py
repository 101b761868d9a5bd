"""Resolution accessors, built on members.access: 404 outside scope, 403 for a read-only role.

Members of a cell see its drafts once they are sent for comments, and its issued resolutions; the
cell committee and the committees above (those who see the member list) also see drafts still being
written. Others' comments are shown to members only when the draft says so.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

from members.access import Action, can, units_for
from members.models import Member

from .models import Comment, Draft, Resolution, Task


def drafts_for(user) -> QuerySet[Draft]:
    sent = Q(unit__in=units_for(user, Action.VIEW_RESOLUTIONS)) & ~Q(status=Draft.Status.DRAFT)
    everything = Q(unit__in=units_for(user, Action.VIEW_MEMBERS)) | Q(
        unit__in=units_for(user, Action.MANAGE_RESOLUTIONS)
    )
    return Draft.objects.filter(sent | everything)


def get_draft_for_user(user, uid, write: bool = False) -> Draft:
    draft = (
        drafts_for(user)
        .filter(uid=uid)
        .select_related("unit", "unit__parent", "current_version", "meeting", "meeting_vote")
        .first()
    )
    if draft is None:
        raise Http404
    if write and not can(user, Action.MANAGE_RESOLUTIONS, draft.unit):
        raise PermissionDenied
    return draft


def can_manage(user, draft: Draft) -> bool:
    return can(user, Action.MANAGE_RESOLUTIONS, draft.unit)


def member_of(user) -> Member | None:
    """The signed-in person's member record (None for staff without one)."""
    if not user.is_authenticated:
        return None
    cached = getattr(user, "_chibo_member", False)
    if cached is False:
        cached = Member.objects.filter(user=user, ended_on__isnull=True).first()
        user._chibo_member = cached
    return cached


def sees_all_comments(user, draft: Draft) -> bool:
    if draft.comment_visibility == Draft.Visibility.ALL_MEMBERS:
        return True
    return can(user, Action.MANAGE_RESOLUTIONS, draft.unit) or can(user, Action.VIEW_MEMBERS, draft.unit)


def visible_comments(user, draft: Draft) -> Q:
    """A filter on Comment: every comment, or only the user's own when the committee keeps them."""
    if sees_all_comments(user, draft):
        return Q()
    member = member_of(user)
    return Q(author=member) if member else Q(pk__in=[])


def get_comment_for_user(user, uid, write: bool = False) -> Comment:
    """write=True: the committee answering it. Authors change their own through the services."""
    comment = (
        Comment.objects.filter(uid=uid, draft__in=drafts_for(user))
        .select_related("draft", "draft__unit", "draft__current_version", "author", "version")
        .first()
    )
    if comment is None or not Comment.objects.filter(visible_comments(user, comment.draft), pk=comment.pk).exists():
        raise Http404
    if write and not can(user, Action.MANAGE_RESOLUTIONS, comment.draft.unit):
        raise PermissionDenied
    return comment


def resolutions_for(user) -> QuerySet[Resolution]:
    return Resolution.objects.filter(unit__in=units_for(user, Action.VIEW_RESOLUTIONS))


def get_resolution_for_user(user, uid) -> Resolution:
    resolution = (
        resolutions_for(user).filter(uid=uid).select_related("unit", "term", "draft", "meeting", "amends").first()
    )
    if resolution is None:
        raise Http404
    return resolution


# --- Tasks (resolutions/services/tasks.py) -----------------------------------------------------------


def tasks_for(user) -> QuerySet[Task]:
    """Tasks of the units whose resolutions the user reads (members of the cell, committees above)."""
    return Task.objects.filter(unit__in=units_for(user, Action.VIEW_RESOLUTIONS))


def get_task_for_user(user, uid, write: bool = False) -> Task:
    """write=True: the committee editing or reviewing it. Assignees report through the services."""
    task = tasks_for(user).filter(uid=uid).select_related("unit", "resolution", "created_by").first()
    if task is None:
        raise Http404
    if write and not can(user, Action.MANAGE_RESOLUTIONS, task.unit):
        raise PermissionDenied
    return task
