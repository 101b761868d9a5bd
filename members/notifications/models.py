"""Notification rows (STYLE.md "Tasks": reminders are rows) and per-user e-mail preferences.

A row is one message to one person on one channel for one occurrence of one object. The unique
constraint is what makes sending exactly-once: planning twice, a retried task or a second worker
all meet the same row. A moved meeting gets a new occurrence, so its reminders are planned anew.
"""

import uuid

from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from members.models import Member, User


class NotificationMessage(models.Model):
    """The text of one kind for one occurrence of one object, rendered once and shared by every
    recipient's rows (a reminder to a cell of 100 is one message and 200 rows)."""

    kind = models.CharField(_("kind"), max_length=64)
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    object_id = models.PositiveBigIntegerField()
    occurrence = models.CharField(_("occurrence"), max_length=64)
    subject = models.CharField(_("subject"), max_length=300)
    body = models.TextField(_("text"))
    url = models.CharField(_("link"), max_length=300, blank=True)
    # The calendar method for meetings (REQUEST / CANCEL), or empty.
    calendar = models.CharField(max_length=8, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("notification message")
        verbose_name_plural = _("notification messages")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "content_type", "object_id", "occurrence"], name="notification_message_once"
            )
        ]

    def __str__(self) -> str:
        return self.subject


class Notification(models.Model):
    class Channel(models.TextChoices):
        EMAIL = "email", _("E-mail")
        INBOX = "inbox", _("Inbox")

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        # Claimed by a worker and being sent; a lease that runs out puts it back to pending.
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    recipient = models.ForeignKey(
        User,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name=_("recipient"),
    )
    # A member without a login is reached by e-mail only, at the member record's address; rows that
    # go to a login leave this empty (the login's member, if any, is found through the login).
    member = models.ForeignKey(
        Member,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name=_("member without a login"),
    )
    kind = models.CharField(_("kind"), max_length=64)
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    object_id = models.PositiveBigIntegerField()
    target = GenericForeignKey("content_type", "object_id")
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    # Names the instance: "r2" (revision 2 of a meeting), "r2:3d" (3 days before it), "2026-03"…
    occurrence = models.CharField(_("occurrence"), max_length=64)
    due_at = models.DateTimeField(_("due at"))
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    claim = models.UUIDField(null=True, blank=True, editable=False)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    message = models.ForeignKey(NotificationMessage, on_delete=models.CASCADE, related_name="notifications")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-due_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "kind", "content_type", "object_id", "channel", "occurrence"],
                name="notification_once",
            ),
            models.UniqueConstraint(
                fields=["member", "kind", "content_type", "object_id", "channel", "occurrence"],
                condition=Q(recipient__isnull=True),
                name="notification_once_member",
            ),
            # The inbox needs a login; a member without one is reached by e-mail.
            models.CheckConstraint(
                condition=Q(recipient__isnull=False) | (Q(member__isnull=False) & Q(channel="email")),
                name="notification_has_recipient",
            ),
        ]
        indexes = [
            # The sweep: due rows still waiting, oldest first.
            models.Index(fields=["due_at"], condition=Q(state="pending"), name="notification_due"),
            models.Index(fields=["content_type", "object_id", "state"], name="notification_object"),
            # The inbox and its unread badge.
            models.Index(fields=["recipient", "channel", "state", "read_at"], name="notification_inbox"),
        ]

    # The shared text, read through the row (select_related("message") where many are read).
    subject = property(lambda self: self.message.subject)
    body = property(lambda self: self.message.body)
    url = property(lambda self: self.message.url)
    calendar = property(lambda self: self.message.calendar)

    def __str__(self) -> str:
        to = self.recipient_id if self.recipient_id else f"member {self.member_id}"
        return f"{self.kind} → {to} ({self.channel}, {self.occurrence}): {self.state}"


class NotificationPreference(models.Model):
    """E-mail on or off for one kind (no row: the kind's default). The inbox always receives.

    A login's choice (settings page, or the link in an e-mail) is keyed on the user; a member
    without a login, who can only use the link in an e-mail, on the member record. Exactly one is
    set, as for Position: one table for one rule, which planning reads in one join."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, null=True, blank=True, related_name="notification_preferences"
    )
    member = models.ForeignKey(
        Member, on_delete=models.CASCADE, null=True, blank=True, related_name="notification_preferences"
    )
    kind = models.CharField(max_length=64)
    email = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True, null=True)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="notification_preference_once"),
            models.UniqueConstraint(fields=["member", "kind"], name="notification_preference_member_once"),
            models.CheckConstraint(
                condition=Q(user__isnull=False, member__isnull=True) | Q(user__isnull=True, member__isnull=False),
                name="notification_preference_one_person",
            ),
        ]

    def __str__(self) -> str:
        who = f"user {self.user_id}" if self.user_id else f"member {self.member_id}"
        return f"{who} {self.kind}: {'on' if self.email else 'off'}"
