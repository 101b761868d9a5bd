"""Audit: the read log of member records, and the history pages' selector (who, when, old → new)."""

from __future__ import annotations

from members.models import Member, MemberReadLog, User


def read_log_record(*, user: User, member: Member, ip: str | None = None) -> MemberReadLog | None:
    """Log that a user opened a member record; a member reading his own record is not logged."""
    if not user.is_authenticated or member.user_id == user.pk:
        return None
    return MemberReadLog.objects.create(user=user, member=member, ip=ip or None)
