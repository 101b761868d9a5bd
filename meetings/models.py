import uuid

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from cells.models import PartyUnit
from members.models import Member, User


class Meeting(models.Model):
    """A cell meeting: regular (monthly), thematic, committee or extraordinary."""

    class Kind(models.TextChoices):
        REGULAR = "regular", _("Regular monthly meeting")
        THEMATIC = "thematic", _("Thematic meeting")
        COMMITTEE = "committee", _("Committee meeting")
        EXTRAORDINARY = "extraordinary", _("Extraordinary meeting")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SCHEDULED = "scheduled", _("Scheduled")
        IN_PROGRESS = "in_progress", _("In progress")
        HELD = "held", _("Held")
        CLOSED = "closed", _("Minutes closed")
        CANCELLED = "cancelled", _("Cancelled")

    # A meeting counts as held once held or closed (DOMAIN.md "Dashboard metrics").
    HELD_STATUSES = (Status.HELD, Status.CLOSED)

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    unit = models.ForeignKey(PartyUnit, on_delete=models.PROTECT, related_name="meetings", verbose_name=_("cell"))
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    combined_thematic = models.BooleanField(
        _("combined with a thematic meeting"),
        default=False,
        help_text=_("A regular meeting that also holds a thematic session (at least 120 minutes)."),
    )
    period_year = models.PositiveSmallIntegerField(_("year"), null=True, blank=True)
    period_month = models.PositiveSmallIntegerField(_("month"), null=True, blank=True)
    topic = models.CharField(_("topic"), max_length=300, blank=True)
    presenters = models.ManyToManyField(
        Member, blank=True, related_name="presented_meetings", verbose_name=_("presenters")
    )
    scheduled_start = models.DateTimeField(_("scheduled start"))
    planned_minutes = models.PositiveSmallIntegerField(_("planned duration (minutes)"), default=120)
    place = models.CharField(_("place"), max_length=200)
    online_link = models.URLField(
        _("online link"), blank=True, help_text=_("Members who work away may attend online; it counts as present.")
    )
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.SCHEDULED)
    cancel_reason = models.CharField(_("reason for cancelling"), max_length=300, blank=True)
    # Increases on every change of time or place: reminders and calendar SEQUENCE follow it.
    revision = models.PositiveIntegerField(default=0, editable=False)
    # Minutes (biên bản)
    actual_start = models.DateTimeField(_("actual start"), null=True, blank=True)
    actual_end = models.DateTimeField(_("actual end"), null=True, blank=True)
    chair = models.ForeignKey(
        Member, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("chair")
    )
    minutes_secretary = models.ForeignKey(
        Member, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("minutes secretary")
    )
    minutes_version = models.PositiveIntegerField(default=0, editable=False)
    closed_at = models.DateTimeField(null=True, blank=True, editable=False)
    closed_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False
    )
    minutes_pdf = models.FileField(upload_to="minutes/", blank=True, editable=False)
    minutes_sha256 = models.CharField(max_length=64, blank=True, editable=False)
    signed_scan = models.FileField(_("signed paper copy (scan)"), upload_to="scans/", blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, related_name="+", editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    # Touched by every write to the meeting or its rows: the key of cached fragments.
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")
        ordering = ["-scheduled_start"]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_month__isnull=True) | Q(period_month__gte=1, period_month__lte=12),
                name="meeting_month_valid",
            ),
            models.CheckConstraint(
                condition=~Q(kind="regular") | Q(period_year__isnull=False, period_month__isnull=False),
                name="regular_meeting_has_period",
            ),
            models.CheckConstraint(
                condition=Q(actual_end__isnull=True)
                | Q(actual_start__isnull=True)
                | Q(actual_end__gt=F("actual_start")),
                name="meeting_ends_after_start",
            ),
        ]
        indexes = [
            models.Index(fields=["unit", "kind", "scheduled_start"], name="meeting_unit_kind_start"),
            models.Index(fields=["unit", "period_year", "period_month"], name="meeting_unit_period"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} — {self.unit} — {self.scheduled_start:%d/%m/%Y}"

    def clean(self):
        errors = {}
        if self.unit_id and self.unit.kind != PartyUnit.Kind.CELL:
            errors["unit"] = _("Meetings are held by party cells.")
        if self.kind == self.Kind.REGULAR and not (self.period_year and self.period_month):
            errors["period_month"] = _("A regular meeting needs the month it is for.")
        if self.kind == self.Kind.THEMATIC and not self.topic.strip():
            errors["topic"] = _("A thematic meeting needs a topic.")
        if self.combined_thematic and self.kind != self.Kind.REGULAR:
            errors["combined_thematic"] = _("Only a regular meeting can be combined with a thematic one.")
        if self.combined_thematic and not self.topic.strip():
            errors["topic"] = _("Give the topic of the thematic session.")
        if self.actual_start and self.actual_end and self.actual_end <= self.actual_start:
            errors["actual_end"] = _("The meeting must end after it starts.")
        if errors:
            raise ValidationError(errors)

    @property
    def is_closed(self) -> bool:
        return self.status == self.Status.CLOSED

    @property
    def is_held(self) -> bool:
        return self.status in self.HELD_STATUSES

    @property
    def duration_minutes(self) -> int | None:
        if self.actual_start and self.actual_end:
            return int((self.actual_end - self.actual_start).total_seconds() // 60)
        return None

    @property
    def required_minutes(self) -> int:
        # HD 42: at least 90 minutes, 120 when regular and thematic are combined.
        return 120 if self.combined_thematic else 90


class AgendaItem(models.Model):
    """One item of the order of business; its minutes (content, conclusion) are written in it."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="agenda")
    order = models.PositiveSmallIntegerField(_("order"))
    key = models.CharField(max_length=32, blank=True, help_text="standard item key, empty for added items")
    title = models.CharField(_("title"), max_length=300)
    content = models.TextField(_("content"), blank=True)
    conclusion = models.TextField(_("chair's conclusion"), blank=True)
    # Optimistic concurrency: a save must name the version it edited.
    version = models.PositiveIntegerField(default=0)
    updated_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("agenda item")
        verbose_name_plural = _("agenda items")
        ordering = ["meeting", "order"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "order"], name="agenda_order_unique", deferrable=models.Deferrable.DEFERRED
            )
        ]

    def __str__(self) -> str:
        return f"{self.order}. {self.title}"


class Speech(models.Model):
    """A speaker's opinion on an agenda item."""

    item = models.ForeignKey(AgendaItem, on_delete=models.CASCADE, related_name="speeches")
    member = models.ForeignKey(
        Member, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("speaker")
    )
    speaker_name = models.CharField(_("speaker (guest)"), max_length=120, blank=True)
    summary = models.TextField(_("opinion"))
    order = models.PositiveSmallIntegerField(default=0)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("speech")
        verbose_name_plural = _("speeches")
        ordering = ["item", "order", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(member__isnull=False) | ~Q(speaker_name=""), name="speech_has_speaker"),
        ]

    def __str__(self) -> str:
        return self.member.full_name if self.member_id else self.speaker_name


class Attendance(models.Model):
    """One member's attendance at one meeting, with the member's standing on the meeting date."""

    class Status(models.TextChoices):
        PRESENT = "present", _("Present")
        ONLINE = "online", _("Online")
        ABSENT_EXCUSED = "excused", _("Absent with reason")
        ABSENT_UNEXCUSED = "unexcused", _("Absent without reason")

    PRESENT_STATUSES = (Status.PRESENT, Status.ONLINE)

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendance")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="attendance")
    status = models.CharField(_("attendance"), max_length=10, choices=Status.choices, blank=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    reason_approved = models.BooleanField(_("reason approved by the committee"), default=False)
    arrived_late = models.BooleanField(_("arrived late"), default=False)
    checked_in_at = models.DateTimeField(_("checked in at"), null=True, blank=True)
    # Standing on the meeting date (DOMAIN.md "Counting"), written when the roll is taken.
    is_full = models.BooleanField(default=False)
    is_exempted = models.BooleanField(default=False)
    is_suspended = models.BooleanField(default=False)
    is_attached_here = models.BooleanField(default=False)  # temporarily attached to this cell
    is_attached_elsewhere = models.BooleanField(default=False)  # this cell's member attending another
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("attendance")
        verbose_name_plural = _("attendance")
        ordering = ["meeting", "member__search_name"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "member"], name="attendance_once_per_meeting"),
            models.CheckConstraint(condition=~Q(status="excused") | ~Q(reason=""), name="excused_absence_has_reason"),
        ]
        indexes = [
            models.Index(fields=["member", "meeting"], name="attendance_member"),
            models.Index(fields=["meeting"], condition=Q(status="unexcused"), name="attendance_unexcused"),
        ]

    def __str__(self) -> str:
        return f"{self.member} @ {self.meeting_id}: {self.status or '—'}"

    def clean(self):
        if self.status == self.Status.ABSENT_EXCUSED and not self.reason.strip():
            raise ValidationError({"reason": _("Give the reason for the absence.")})

    @property
    def is_present(self) -> bool:
        return self.status in self.PRESENT_STATUSES


class Guest(models.Model):
    """A higher-level delegate or an invited guest."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="guests")
    name = models.CharField(_("full name"), max_length=120)
    title = models.CharField(_("title and unit"), max_length=200, blank=True)
    is_higher_delegate = models.BooleanField(_("delegate of a higher committee"), default=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("guest")
        verbose_name_plural = _("guests")
        ordering = ["meeting", "pk"]

    def __str__(self) -> str:
        return self.name


class Vote(models.Model):
    """A vote on one subject (a combined meeting may vote on several texts)."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="votes")
    subject = models.CharField(_("subject"), max_length=300)
    order = models.PositiveSmallIntegerField(default=0)
    votes_for = models.PositiveSmallIntegerField(_("for"))
    votes_against = models.PositiveSmallIntegerField(_("against"), default=0)
    votes_other = models.PositiveSmallIntegerField(_("other opinion"), default=0)
    # The base the result was measured against when recorded (DOMAIN.md "Voting base").
    voting_base = models.PositiveSmallIntegerField(_("voting base"))
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("vote")
        verbose_name_plural = _("votes")
        ordering = ["meeting", "order", "pk"]

    def __str__(self) -> str:
        return f"{self.subject}: {self.votes_for}/{self.votes_against}/{self.votes_other}"

    @property
    def passed(self) -> bool:
        from meetings.counting import passes

        return passes(self.votes_for, self.voting_base)


class Material(models.Model):
    """A document for a meeting; served only through a scope-checked view."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="materials")
    file = models.FileField(upload_to="materials/%Y/%m/")
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("material")
        verbose_name_plural = _("materials")
        ordering = ["meeting", "uploaded_at"]

    def __str__(self) -> str:
        return self.original_name


class Addendum(models.Model):
    """A dated correction to closed minutes; rendered and hashed like the minutes."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, related_name="addenda")
    text = models.TextField(_("correction"))
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    pdf = models.FileField(upload_to="minutes/addenda/", blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("addendum")
        verbose_name_plural = _("addenda")
        ordering = ["meeting", "created_at"]

    def __str__(self) -> str:
        return f"{self.meeting_id} {self.created_at:%d/%m/%Y}"


# The dashboard summary tables live in their own module (meetings/summaries.py).
from .summaries import CellMonth, MeetingCount, MemberYear, SummaryStamp, UnitMonth  # noqa: E402, F401
