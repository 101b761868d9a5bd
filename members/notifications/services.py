"""Writes a person makes to their own notifications: read marks and e-mail preferences."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from members.models import User

from .models import Notification, NotificationPreference
from .registry import KINDS


def inbox_for(user: User):
    """The one door to the inbox: a person's delivered inbox rows, newest first."""
    return (
        Notification.objects.filter(recipient=user, channel=Notification.Channel.INBOX, state=Notification.State.SENT)
        .select_related("message")
        .order_by("-sent_at", "-pk")
    )


def unread_count(user: User) -> int:
    return inbox_for(user).filter(read_at__isnull=True).count()


def notification_mark_read(*, notification: Notification, by: User) -> Notification:
    if notification.read_at is None:
        # Conditional: two tabs marking the same row keep the first time.
        now = timezone.now()
        Notification.objects.filter(pk=notification.pk, recipient=by, read_at__isnull=True).update(read_at=now)
        notification.read_at = now
    return notification


def notifications_mark_all_read(*, by: User) -> int:
    return inbox_for(by).filter(read_at__isnull=True).update(read_at=timezone.now())


@transaction.atomic
def notification_preferences_save(*, user: User, email_kinds: set[str], by: User) -> None:
    """E-mail on for the kinds in email_kinds, off for every other registered kind."""
    unknown = email_kinds - set(KINDS)
    if unknown:
        raise ValueError(f"unknown kinds: {sorted(unknown)}")
    rows = [NotificationPreference(user=user, kind=key, email=key in email_kinds) for key in KINDS]
    NotificationPreference.objects.bulk_create(
        rows, update_conflicts=True, unique_fields=["user", "kind"], update_fields=["email"]
    )
    # Rows still waiting follow the new choice; the inbox copy always stays.
    off = [key for key in KINDS if key not in email_kinds]
    Notification.objects.filter(
        recipient=user, channel=Notification.Channel.EMAIL, state=Notification.State.PENDING, kind__in=off
    ).update(state=Notification.State.CANCELLED, last_error="e-mail turned off by the recipient")
