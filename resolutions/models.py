"""Draft resolutions, comments, responses, written consultations, issued resolutions and tasks.

Sections keep their identity across versions through an explicit anchor on each Markdown heading:
`## II. Nhiệm vụ và giải pháp {#nhiem-vu}`. The drafting service adds the anchor to a heading that
has none (a slug of the heading, unique in the draft) and writes it back into the stored body, so
the author edits the same text and a renamed heading keeps its key. Each version's sections are
also stored as `VersionSection` rows (derived, never edited) for comments, counts and the diff.
"""

import uuid

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from cells.models import PartyUnit, Term
from meetings.models import Meeting, Vote
from members.models import Member, User


class DocumentKind(models.TextChoices):
    """Numbered documents (DOMAIN.md "Documents": NQ and KL are numbered per unit, kind and term)."""

    RESOLUTION = "NQ", _("Resolution")
    CONCLUSION = "KL", _("Conclusion")


class Draft(models.Model):
    """A draft resolution or conclusion, from drafting through comments and the vote to issuing."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Being drafted")
        OPEN = "open", _("Open for comments")
        CLOSED = "closed", _("Comments closed")
        VOTING = "voting", _("Voting")
        PASSED = "passed", _("Passed")
        REJECTED = "rejected", _("Rejected")
        ISSUED = "issued", _("Issued")

    class Visibility(models.TextChoices):
        ALL_MEMBERS = "all", _("All members of the cell")
        COMMITTEE = "committee", _("The committee only")

    class PassedBy(models.TextChoices):
        MEETING = "meeting", _("Meeting vote")
        WRITTEN = "written", _("Written consultation")

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    unit = models.ForeignKey(PartyUnit, on_delete=models.PROTECT, related_name="drafts", verbose_name=_("cell"))
    meeting = models.ForeignKey(
        Meeting,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="drafts",
        verbose_name=_("meeting"),
        help_text=_("The meeting that discusses and votes on it; empty for a written consultation."),
    )
    kind = models.CharField(_("kind"), max_length=2, choices=DocumentKind.choices, default=DocumentKind.RESOLUTION)
    title = models.CharField(_("title"), max_length=300)
    summary = models.CharField(_("summary line"), max_length=500, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    comment_deadline = models.DateTimeField(_("comments close at"), null=True, blank=True)
    comment_visibility = models.CharField(
        _("who sees others' comments"), max_length=10, choices=Visibility.choices, default=Visibility.ALL_MEMBERS
    )
    is_written_consultation = models.BooleanField(
        _("written consultation"),
        default=False,
        help_text=_("Members vote in writing because the cell cannot meet."),
    )
    vote_deadline = models.DateTimeField(_("votes close at"), null=True, blank=True)
    # The latest version, kept here so lists and pages need no subquery.
    current_version = models.ForeignKey(
        "DraftVersion", on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False
    )
    # How it passed: a meeting's vote record (meetings.Vote) or the written consultation's count.
    passed_by = models.CharField(max_length=8, choices=PassedBy.choices, blank=True, editable=False)
    meeting_vote = models.OneToOneField(
        Vote,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="draft",
        verbose_name=_("meeting vote"),
    )
    # The count the decision was taken on, frozen when voting ends (meeting vote or written).
    votes_for = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    votes_against = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    votes_other = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    voting_base = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    decided_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, related_name="+", editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    EDITABLE_STATUSES = (Status.DRAFT, Status.OPEN, Status.CLOSED)
    DECIDED_STATUSES = (Status.PASSED, Status.REJECTED, Status.ISSUED)

    class Meta:
        verbose_name = _("draft resolution")
        verbose_name_plural = _("draft resolutions")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="open") | Q(comment_deadline__isnull=False),
                name="open_draft_has_comment_deadline",
            ),
            models.CheckConstraint(
                condition=Q(is_written_consultation=False) | ~Q(status="voting") | Q(vote_deadline__isnull=False),
                name="written_vote_has_deadline",
            ),
        ]
        indexes = [models.Index(fields=["unit", "status"], name="draft_unit_status")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.title}"

    def clean(self):
        errors = {}
        if self.unit_id and self.unit.kind not in (PartyUnit.Kind.CELL, PartyUnit.Kind.GRASSROOTS_COMMITTEE):
            errors["unit"] = _("Resolutions are drafted by a party cell or a grassroots committee.")
        if self.meeting_id and self.unit_id and self.meeting.unit_id != self.unit_id:
            errors["meeting"] = _("The meeting must be one of this unit's meetings.")
        if self.is_written_consultation and self.vote_deadline and self.comment_deadline:
            if self.vote_deadline < self.comment_deadline:
                errors["vote_deadline"] = _("Voting cannot close before comments close.")
        if errors:
            raise ValidationError(errors)


class DraftVersion(models.Model):
    """One version of a draft's text; versions are never edited, a change makes a new one."""

    draft = models.ForeignKey(Draft, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveSmallIntegerField(_("version"))
    title = models.CharField(_("title"), max_length=300)
    summary = models.CharField(_("summary line"), max_length=500, blank=True)
    body = models.TextField(_("text (Markdown)"))
    change_note = models.CharField(_("what changed"), max_length=500, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("draft version")
        verbose_name_plural = _("draft versions")
        ordering = ["draft", "number"]
        constraints = [models.UniqueConstraint(fields=["draft", "number"], name="draft_version_number_unique")]

    def __str__(self) -> str:
        return f"{self.draft_id} v{self.number}"


class VersionSection(models.Model):
    """A section of one version (a heading and the text under it), keyed by the stable anchor."""

    version = models.ForeignKey(DraftVersion, on_delete=models.CASCADE, related_name="sections")
    key = models.SlugField(max_length=64)
    order = models.PositiveSmallIntegerField()
    heading = models.CharField(max_length=300)
    body = models.TextField(blank=True)

    class Meta:
        verbose_name = _("section")
        verbose_name_plural = _("sections")
        ordering = ["version", "order"]
        constraints = [models.UniqueConstraint(fields=["version", "key"], name="version_section_key_unique")]

    def __str__(self) -> str:
        return self.heading


class Comment(models.Model):
    """A member's comment (góp ý) on a draft or one of its sections, on the version they read."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    draft = models.ForeignKey(Draft, on_delete=models.CASCADE, related_name="comments")
    version = models.ForeignKey(DraftVersion, on_delete=models.PROTECT, related_name="comments")
    section_key = models.SlugField(_("section"), max_length=64, blank=True)
    author = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="draft_comments")
    text = models.TextField(_("comment"))
    withdrawn = models.BooleanField(_("withdrawn"), default=False)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("comment")
        verbose_name_plural = _("comments")
        ordering = ["draft", "created_at", "pk"]
        indexes = [models.Index(fields=["draft", "author"], name="comment_draft_author")]

    def __str__(self) -> str:
        return f"{self.author} — {self.text[:40]}"


class Response(models.Model):
    """The committee's answer to one comment (tiếp thu, giải trình)."""

    class Decision(models.TextChoices):
        ACCEPTED = "accepted", pgettext_lazy("comment response", "Accepted")
        PARTLY = "partly", _("Partly accepted")
        NOT_ACCEPTED = "not_accepted", _("Not accepted")

    comment = models.OneToOneField(Comment, on_delete=models.CASCADE, related_name="response")
    decision = models.CharField(_("decision"), max_length=12, choices=Decision.choices)
    explanation = models.TextField(_("explanation"), blank=True)
    responded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    responded_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("response")
        verbose_name_plural = _("responses")
        constraints = [
            models.CheckConstraint(
                condition=Q(decision="accepted") | ~Q(explanation=""), name="response_explains_unless_accepted"
            )
        ]

    def __str__(self) -> str:
        return f"{self.comment_id}: {self.decision}"

    def clean(self):
        if self.decision != self.Decision.ACCEPTED and not self.explanation.strip():
            raise ValidationError({"explanation": _("Explain why the comment is not (fully) accepted.")})


class ConsultationVote(models.Model):
    """A full member's written vote; may be changed until the vote deadline (history keeps each)."""

    class Choice(models.TextChoices):
        FOR = "for", pgettext_lazy("vote", "For")
        AGAINST = "against", _("Against")
        OTHER = "other", _("Other opinion")

    draft = models.ForeignKey(Draft, on_delete=models.CASCADE, related_name="consultation_votes")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="consultation_votes")
    choice = models.CharField(_("vote"), max_length=8, choices=Choice.choices)
    text = models.TextField(_("opinion"), blank=True)
    cast_at = models.DateTimeField(auto_now_add=True)
    changed_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("written vote")
        verbose_name_plural = _("written votes")
        ordering = ["draft", "member__search_name"]
        constraints = [models.UniqueConstraint(fields=["draft", "member"], name="consultation_vote_once")]

    def __str__(self) -> str:
        return f"{self.member} — {self.choice}"


class Resolution(models.Model):
    """An issued, numbered resolution or conclusion. Never edited: an amendment is a new one."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    draft = models.OneToOneField(Draft, on_delete=models.PROTECT, related_name="resolution", editable=False)
    unit = models.ForeignKey(PartyUnit, on_delete=models.PROTECT, related_name="resolutions", editable=False)
    kind = models.CharField(_("kind"), max_length=2, choices=DocumentKind.choices, editable=False)
    term = models.ForeignKey(Term, on_delete=models.PROTECT, related_name="resolutions", editable=False)
    number = models.PositiveIntegerField(_("number"), editable=False)
    number_label = models.CharField(_("number and symbol"), max_length=40, editable=False)
    issued_on = models.DateField(_("issued on"), editable=False)
    place_name = models.CharField(_("place"), max_length=80, editable=False)
    title = models.CharField(_("title"), max_length=300, editable=False)
    summary = models.CharField(_("summary line"), max_length=500, blank=True, editable=False)
    body = models.TextField(_("text (Markdown)"), editable=False)
    # Title, summary and body folded (cells.text.fold) for accent-insensitive search; set at issue.
    search_text = models.TextField(editable=False, default="")
    signer_title = models.CharField(max_length=40, editable=False)
    signer_name = models.CharField(max_length=120, editable=False)
    recipients = models.TextField(_("recipients (Nơi nhận)"), blank=True, editable=False)
    meeting = models.ForeignKey(
        Meeting, on_delete=models.PROTECT, null=True, blank=True, related_name="resolutions", editable=False
    )
    passed_by = models.CharField(max_length=8, choices=Draft.PassedBy.choices, editable=False)
    votes_for = models.PositiveSmallIntegerField(editable=False)
    votes_against = models.PositiveSmallIntegerField(editable=False)
    votes_other = models.PositiveSmallIntegerField(editable=False)
    voting_base = models.PositiveSmallIntegerField(editable=False)
    amends = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="amendments",
        verbose_name=_("amends"),
        editable=False,
    )
    supersedes = models.BooleanField(_("replaces the amended resolution"), default=False, editable=False)
    pdf = models.FileField(upload_to="resolutions/", editable=False)
    pdf_sha256 = models.CharField(max_length=64, editable=False)
    consultation_pdf = models.FileField(upload_to="resolutions/consultations/", blank=True, editable=False)
    consultation_sha256 = models.CharField(max_length=64, blank=True, editable=False)
    issued_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", editable=False)
    issued_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("resolution")
        verbose_name_plural = _("resolutions")
        ordering = ["unit", "term", "kind", "number"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "kind", "term", "number"], name="resolution_number_unique"),
            models.CheckConstraint(condition=Q(number__gte=1), name="resolution_number_positive"),
            models.CheckConstraint(
                condition=Q(supersedes=False) | Q(amends__isnull=False), name="supersedes_needs_amends"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number_label} — {self.title}"

    def save(self, *args, **kwargs):
        adding = self._state.adding
        super().save(*args, **kwargs)
        if adding:
            counts.resolution_issued(self)  # the dashboard's counts (resolutions/counts.py)


class NumberSequence(models.Model):
    """The last number given per unit, kind and term; locked with select_for_update when issuing."""

    unit = models.ForeignKey(PartyUnit, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=2, choices=DocumentKind.choices)
    term = models.ForeignKey(Term, on_delete=models.PROTECT, related_name="+")
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("number sequence")
        verbose_name_plural = _("number sequences")
        constraints = [models.UniqueConstraint(fields=["unit", "kind", "term"], name="number_sequence_unique")]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.kind} {self.term_id}: {self.last_number}"


class Task(models.Model):
    """An implementation task: from a resolution's tasks section or added by hand."""

    class Status(models.TextChoices):
        NOT_STARTED = "not_started", _("Not started")
        IN_PROGRESS = "in_progress", _("In progress")
        DONE = "done", _("Done")

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    unit = models.ForeignKey(PartyUnit, on_delete=models.PROTECT, related_name="tasks", verbose_name=_("cell"))
    resolution = models.ForeignKey(
        Resolution, on_delete=models.PROTECT, null=True, blank=True, related_name="tasks", verbose_name=_("resolution")
    )
    text = models.TextField(_("task"))
    due_on = models.DateField(_("due date"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.NOT_STARTED)
    assignees = models.ManyToManyField(Member, blank=True, related_name="tasks", verbose_name=_("assignees"))
    assigned_to_committee = models.BooleanField(_("assigned to the committee"), default=False)
    completed_on = models.DateField(_("completed on"), null=True, blank=True)
    order = models.PositiveSmallIntegerField(default=0)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, related_name="+", editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"], m2m_fields=[assignees])

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ["unit", "due_on", "order", "pk"]
        indexes = [
            models.Index(fields=["unit", "status", "due_on"], name="task_unit_status_due"),
            models.Index(fields=["resolution", "order"], name="task_resolution_order"),
        ]

    def __str__(self) -> str:
        return self.text[:60]

    def save(self, *args, **kwargs):
        # The dashboard's counts (resolutions/counts.py) follow every save - services, admin, history
        # revert - from the state stored before it to the state saved.
        before = None
        if not self._state.adding:
            row = Task.objects.filter(pk=self.pk).values_list("unit_id", "due_on", "status").first()
            before = (row[0], row[1], row[2] == Task.Status.DONE) if row else None
        super().save(*args, **kwargs)
        after = counts.task_state(self)
        fields = kwargs.get("update_fields")
        if before is not None and fields is not None:
            # Only what was written changed: fields left out keep their stored values.
            written = {name.removesuffix("_id") for name in fields}
            after = tuple(
                a if name in written else b for name, a, b in zip(counts.TASK_FIELDS, after, before, strict=True)
            )
        counts.task_changed(before, after)

    def is_overdue_on(self, day) -> bool:
        return self.status != self.Status.DONE and self.due_on is not None and self.due_on < day


class TaskProgressNote(models.Model):
    """An assignee's report of progress on a task."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="progress_notes")
    author = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="task_notes")
    text = models.TextField(_("progress"))
    at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("progress note")
        verbose_name_plural = _("progress notes")
        ordering = ["task", "at", "pk"]

    def __str__(self) -> str:
        return f"{self.author} — {self.text[:40]}"


class TaskReview(models.Model):
    """The review of one task at one meeting (shown in that meeting's minutes and PDF)."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="reviews")
    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, related_name="task_reviews")
    status_at_review = models.CharField(max_length=12, choices=Task.Status.choices)
    assessment = models.TextField(_("assessment"))
    reviewed_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, related_name="+")
    reviewed_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("task review")
        verbose_name_plural = _("task reviews")
        ordering = ["meeting", "task"]
        constraints = [models.UniqueConstraint(fields=["task", "meeting"], name="task_review_once_per_meeting")]

    def __str__(self) -> str:
        return f"{self.task_id} @ {self.meeting_id}"


# The dashboard's resolution and task counts live in their own module (resolutions/counts.py).
from . import counts  # noqa: E402
from .counts import ResolutionMonth  # noqa: E402, F401


@receiver(post_delete, sender=Task, dispatch_uid="resolutions.task_counts")
def _task_deleted(sender, instance: Task, **kwargs) -> None:
    counts.task_changed(counts.task_state(instance), None)
