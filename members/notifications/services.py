"""Writes a person makes to their own notifications: read marks and e-mail preferences."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from members.models import Member, User

from .models import Notification, NotificationPreference
from .registry import KINDS

# The reason on e-mail rows cancelled by the recipient's choice (kept cancelled by replanning).
TURNED_OFF = "e-mail turned off by the recipient"


def inbox_for(user: User):
    """The one door to the inbox: a person's delivered inbox rows, newest first."""
    return (
        Notification.objects.filter(recipient=user, channel=Notification.Channel.INBOX, state=Notification.State.SENT)
        .select_related("message")
        .order_by("-sent_at", "-pk")
    )


# The header badge on every page: with a cache shared by all processes (CHIBO_INBOX_COUNT_CACHED),
# the count is kept per person and forgotten when they read (forget_unread_counts) or when the sweep
# delivers rows (a new generation for everyone). The lifetime bounds a count left by any other change.
_GENERATION_KEY = "inbox-unread:generation"
UNREAD_COUNT_SECONDS = 300


def _count_key(user_id: int) -> str:
    return f"inbox-unread:{user_id}"


def unread_count_keys(user: User) -> list[str]:
    """The cache keys unread_count reads, for a caller that fetches them with its own (one round trip)."""
    return [_GENERATION_KEY, _count_key(user.pk)] if settings.CHIBO_INBOX_COUNT_CACHED else []


def unread_count(user: User, found: dict | None = None) -> int:
    """found: what cache.get_many(unread_count_keys(user)) gave, when the caller already read it."""
    if not settings.CHIBO_INBOX_COUNT_CACHED:
        return inbox_for(user).filter(read_at__isnull=True).count()
    if found is None:
        found = cache.get_many(unread_count_keys(user))
    generation = found.get(_GENERATION_KEY, 0)
    stored = found.get(_count_key(user.pk))
    if stored is not None and stored[0] == generation:
        return stored[1]
    count = inbox_for(user).filter(read_at__isnull=True).count()
    cache.set(_count_key(user.pk), (generation, count), UNREAD_COUNT_SECONDS)
    return count


def forget_unread_counts(user_ids: list[int] | None = None) -> None:
    """After commit: these people's cached badge counts, or everyone's (None)."""

    def forget():
        if user_ids is not None:
            cache.delete_many([_count_key(pk) for pk in user_ids])
            return
        try:
            cache.incr(_GENERATION_KEY)
        except ValueError:  # no generation yet, or evicted: any new value differs from the stored ones
            cache.set(_GENERATION_KEY, int(timezone.now().timestamp() * 1000), None)

    if settings.CHIBO_INBOX_COUNT_CACHED:
        forget()  # now, and again once committed: a page counting in between may have stored the old count
        transaction.on_commit(forget)


def notification_mark_read(*, notification: Notification, by: User) -> Notification:
    if notification.read_at is None:
        # Conditional: two tabs marking the same row keep the first time.
        now = timezone.now()
        Notification.objects.filter(pk=notification.pk, recipient=by, read_at__isnull=True).update(read_at=now)
        notification.read_at = now
        forget_unread_counts([by.pk])
    return notification


def notifications_mark_all_read(*, by: User) -> int:
    marked = inbox_for(by).filter(read_at__isnull=True).update(read_at=timezone.now())
    forget_unread_counts([by.pk])
    return marked


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
    ).update(state=Notification.State.CANCELLED, last_error=TURNED_OFF)


@transaction.atomic
def notification_email_set(*, kind: str, email: bool, user: User | None = None, member: Member | None = None) -> None:
    """One kind's e-mail on or off for a login or a member without one, from the link in an e-mail
    (nobody is signed in: the signed token is the authority, read by unsubscribe.read_token).

    Turning off cancels the person's e-mail rows of that kind still waiting, with the reason;
    turning on again (the undo) holds for what is planned from now on: a cancelled row may belong
    to a meeting since moved, and reviving it would send a stale reminder."""
    if kind not in KINDS or (user is None) == (member is None):
        raise ValueError("one kind and exactly one of user or member")
    person = {"user": user} if user is not None else {"member": member}
    NotificationPreference.objects.update_or_create(**person, kind=kind, defaults={"email": email})
    if not email:
        rows = (
            Notification.objects.filter(recipient=user)
            if user is not None
            else Notification.objects.filter(recipient__isnull=True, member=member)
        )
        rows.filter(kind=kind, channel=Notification.Channel.EMAIL, state=Notification.State.PENDING).update(
            state=Notification.State.CANCELLED, last_error=TURNED_OFF
        )


def preferences_follow_login(*, member: Member, user: User) -> None:
    """A member who turned e-mail kinds off by the link before having a login keeps those choices
    once the login exists (planning and the settings page read the login's). Where the login
    already chose for a kind, its own choice stands."""
    chosen = NotificationPreference.objects.filter(user=user).values("kind")
    rows = NotificationPreference.objects.filter(member=member)
    rows.exclude(kind__in=chosen).update(user=user, member=None)
    rows.delete()  # what is left: kinds the login had already decided
