"""Audit: the read log of member records, and the history pages' selector (who, when, old → new)."""

from __future__ import annotations

from django.conf import settings

from members.models import Member, MemberReadLog, User


def read_log_record(*, user: User, member: Member, ip: str | None = None) -> MemberReadLog | None:
    """Log that a user opened a member record; a member reading his own record is not logged."""
    if not user.is_authenticated or member.user_id == user.pk:
        return None
    return MemberReadLog.objects.create(user=user, member=member, ip=ip or None)


def client_address(request) -> str | None:
    """The client's IP address for logs and lock-outs.

    Behind the reverse proxy (Caddy) every request comes from the proxy; the client is then the
    entry that the last CHIBO_PROXY_COUNT trusted proxies appended to X-Forwarded-For. Entries
    further left are whatever the client sent, so they are never trusted.
    """
    proxies = getattr(settings, "CHIBO_PROXY_COUNT", 0)
    if proxies:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR") or None
