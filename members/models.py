import datetime
import uuid
from dataclasses import dataclass

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from cells.models import PartyUnit
from cells.text import fold, nfc


class User(AbstractUser):
    """A login. Members sign in with e-mail, phone or party card number (members.auth)."""

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")


def add_months(day: datetime.date, months: int) -> datetime.date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    import calendar

    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


class Member(models.Model):
    """A party member (đảng viên). Status on any date is derived from the dated records."""

    class Gender(models.TextChoices):
        MALE = "male", _("Male")
        FEMALE = "female", _("Female")

    class EndReason(models.TextChoices):
        LEFT = "left", _("Left the party")
        DIED = "died", _("Died")
        REMOVED = "removed", _("Removed from the party rolls")
        EXPELLED = "expelled", _("Expelled")

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    full_name = models.CharField(_("full name"), max_length=120)
    search_name = models.CharField(max_length=120, editable=False, db_index=True, default="")
    birth_date = models.DateField(_("date of birth"))
    gender = models.CharField(_("gender"), max_length=8, choices=Gender.choices)
    card_number = models.CharField(_("party card number"), max_length=20, unique=True, null=True, blank=True)
    admitted_on = models.DateField(_("date admitted"))
    full_member_on = models.DateField(_("date made full member"), null=True, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True, db_index=True)
    email = models.EmailField(_("e-mail"), blank=True, db_index=True)
    works_away = models.BooleanField(
        _("works away"),
        default=False,
        help_text=_("Shift or mobile work: may attend online and gets materials by e-mail."),
    )
    # The cell that holds this record: the current cell, or the last one for a departed member.
    home_unit = models.ForeignKey(
        PartyUnit, on_delete=models.PROTECT, null=True, blank=True, related_name="home_members", editable=False
    )
    ended_on = models.DateField(_("left the rolls on"), null=True, blank=True)
    end_reason = models.CharField(_("reason"), max_length=12, choices=EndReason.choices, blank=True)
    user = models.OneToOneField(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="member", verbose_name=_("login")
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        ordering = ["search_name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(full_member_on__isnull=True) | Q(full_member_on__gte=F("admitted_on")),
                name="member_full_after_admitted",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

    def save(self, *args, **kwargs):
        self.full_name = nfc(self.full_name)
        self.search_name = fold(self.full_name)
        self.card_number = (self.card_number or "").strip().upper() or None
        self.phone = "".join(ch for ch in self.phone if ch.isdigit())
        super().save(*args, **kwargs)

    def clean(self):
        super().clean()
        self.full_name = nfc(self.full_name)
        errors = {}
        today = timezone.localdate()
        if self.birth_date and self.birth_date > today:
            errors["birth_date"] = _("The date of birth cannot be in the future.")
        if self.birth_date and self.admitted_on and add_months(self.birth_date, 18 * 12) > self.admitted_on:
            errors["admitted_on"] = _("A member must be at least 18 years old when admitted to the party.")
        if self.admitted_on and self.admitted_on > today:
            errors["admitted_on"] = _("The admission date cannot be in the future.")
        if self.full_member_on and self.admitted_on:
            if self.full_member_on < add_months(self.admitted_on, 12):
                errors["full_member_on"] = _(
                    "Full membership cannot come before 12 months of probation (earliest %(date)s)."
                ) % {"date": add_months(self.admitted_on, 12).strftime("%d/%m/%Y")}
        if self.ended_on and not self.end_reason:
            errors["end_reason"] = _("Give the reason the member left the rolls.")
        if errors:
            raise ValidationError(errors)

    def status_on(self, day: datetime.date) -> "MemberStatus":
        """Derived from dates (DOMAIN.md): uses prefetched periods when present."""
        periods = list(self.status_periods.all())
        return MemberStatus.compute(self, periods, day)

    @property
    def status_today(self) -> "MemberStatus":
        return self.status_on(timezone.localdate())


class StatusPeriod(models.Model):
    """A dated exemption (miễn công tác và sinh hoạt) or suspension (đình chỉ sinh hoạt)."""

    class Kind(models.TextChoices):
        EXEMPTED = "exempted", _("Exempted from activities")
        SUSPENDED = "suspended", _("Suspended")

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="status_periods")
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    start = models.DateField(_("from"))
    end = models.DateField(_("until"), null=True, blank=True, help_text=_("Last day; empty while it lasts."))
    reason = models.CharField(_("reason"), max_length=200)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("exemption or suspension")
        verbose_name_plural = _("exemptions and suspensions")
        ordering = ["-start"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__isnull=True) | Q(end__gte=F("start")), name="period_end_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.start:%d/%m/%Y}"

    def clean(self):
        if self.end and self.start and self.end < self.start:
            raise ValidationError({"end": _("The end date cannot be before the start date.")})

    def covers(self, day: datetime.date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


@dataclass(frozen=True)
class MemberStatus:
    """A member's standing on one date."""

    on_rolls: bool
    full: bool
    exempted: bool
    suspended: bool

    @classmethod
    def compute(cls, member: Member, periods, day: datetime.date) -> "MemberStatus":
        on_rolls = member.admitted_on <= day and (member.ended_on is None or day < member.ended_on)
        return cls(
            on_rolls=on_rolls,
            full=bool(member.full_member_on and member.full_member_on <= day),
            exempted=any(p.kind == StatusPeriod.Kind.EXEMPTED and p.covers(day) for p in periods),
            suspended=any(p.kind == StatusPeriod.Kind.SUSPENDED and p.covers(day) for p in periods),
        )

    @property
    def code(self) -> str:
        if not self.on_rolls:
            return "left"
        if self.suspended:
            return "suspended"
        if self.exempted:
            return "exempted"
        return "full" if self.full else "probationary"

    @property
    def label(self) -> str:
        return {
            "left": _("Not on the rolls"),
            "suspended": _("Suspended"),
            "exempted": _("Exempted"),
            "full": _("Full member"),
            "probationary": _("Probationary member"),
        }[self.code]


class Membership(models.Model):
    """Membership of one cell over a period: on the roll from start up to, not including, end."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="memberships")
    cell = models.ForeignKey(PartyUnit, on_delete=models.PROTECT, related_name="memberships", verbose_name=_("cell"))
    group = models.ForeignKey(
        PartyUnit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="group_memberships",
        verbose_name=_("party group"),
    )
    start = models.DateField(_("from"))
    end = models.DateField(_("until"), null=True, blank=True, help_text=_("The day the member left this roll."))
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        ordering = ["-start"]
        constraints = [
            models.UniqueConstraint(fields=["member"], condition=Q(end__isnull=True), name="one_open_membership"),
            models.CheckConstraint(
                condition=Q(end__isnull=True) | Q(end__gt=F("start")), name="membership_end_after_start"
            ),
        ]
        indexes = [models.Index(fields=["cell", "start", "end"], name="membership_roll")]

    def __str__(self) -> str:
        return f"{self.member} @ {self.cell}"

    def clean(self):
        errors = {}
        if self.cell_id and self.cell.kind != PartyUnit.Kind.CELL:
            errors["cell"] = _("A membership must point at a party cell.")
        if self.group_id and self.group.parent_id != self.cell_id:
            errors["group"] = _("The party group must belong to the chosen cell.")
        if self.end and self.start and self.end <= self.start:
            errors["end"] = _("The end date must be after the start date.")
        if self.member_id and self.start:
            overlap = Membership.objects.filter(member_id=self.member_id).exclude(pk=self.pk)
            overlap = overlap.filter(Q(end__isnull=True) | Q(end__gt=self.start))
            if self.end:
                overlap = overlap.filter(start__lt=self.end)
            if overlap.exists():
                errors["start"] = _("The member already belongs to a cell in this period.")
        if errors:
            raise ValidationError(errors)

    @staticmethod
    def active_on(day: datetime.date) -> Q:
        return Q(start__lte=day) & (Q(end__isnull=True) | Q(end__gt=day))


class TemporaryAttachment(models.Model):
    """Sinh hoạt tạm thời: a member of another cell attending this one for a period."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="attachments")
    cell = models.ForeignKey(PartyUnit, on_delete=models.PROTECT, related_name="attachments", verbose_name=_("cell"))
    start = models.DateField(_("from"))
    end = models.DateField(_("until"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("temporary attachment")
        verbose_name_plural = _("temporary attachments")
        constraints = [
            models.CheckConstraint(
                condition=Q(end__isnull=True) | Q(end__gt=F("start")), name="attachment_end_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member} ⇢ {self.cell}"

    def clean(self):
        if self.cell_id and self.cell.kind != PartyUnit.Kind.CELL:
            raise ValidationError({"cell": _("A temporary attachment must point at a party cell.")})
        if self.end and self.start and self.end <= self.start:
            raise ValidationError({"end": _("The end date must be after the start date.")})


class Transfer(models.Model):
    """Chuyển sinh hoạt: recorded by the sending cell, accepted by the receiving cell or staff."""

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting for acceptance")
        ACCEPTED = "accepted", _("Accepted")
        CANCELLED = "cancelled", _("Cancelled")

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="transfers")
    from_cell = models.ForeignKey(PartyUnit, on_delete=models.PROTECT, related_name="transfers_out")
    to_cell = models.ForeignKey(
        PartyUnit,
        on_delete=models.PROTECT,
        related_name="transfers_in",
        null=True,
        blank=True,
        verbose_name=_("receiving cell"),
    )
    destination_text = models.CharField(
        _("destination outside the system"),
        max_length=200,
        blank=True,
        help_text=_("When the receiving party organisation does not use Chi bộ."),
    )
    date = models.DateField(_("transfer date"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    state = models.CharField(max_length=12, choices=State.choices, default=State.PENDING)
    requested_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", null=True)
    decided_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")
        ordering = ["-date", "-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["member"], condition=Q(state="pending"), name="one_pending_transfer"),
            models.CheckConstraint(
                condition=Q(to_cell__isnull=False) | ~Q(destination_text=""), name="transfer_has_destination"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member}: {self.from_cell} → {self.to_cell or self.destination_text}"


class Position(models.Model):
    """A role held on a unit for a period; a role on a unit covers its whole subtree."""

    class Role(models.TextChoices):
        SECRETARY = "secretary", _("Secretary")
        DEPUTY_SECRETARY = "deputy", _("Deputy secretary")
        COMMITTEE_MEMBER = "committee", _("Committee member")
        STANDING_MEMBER = "standing", _("Standing committee member")
        STAFF = "staff", _("Staff (organisation, office)")

    # Order of precedence on a committee's list.
    RANK = (Role.SECRETARY, Role.DEPUTY_SECRETARY, Role.STANDING_MEMBER, Role.COMMITTEE_MEMBER, Role.STAFF)

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    unit = models.ForeignKey(PartyUnit, on_delete=models.CASCADE, related_name="positions", verbose_name=_("unit"))
    role = models.CharField(_("role"), max_length=12, choices=Role.choices)
    start = models.DateField(_("from"))
    end = models.DateField(_("until"), null=True, blank=True, help_text=_("Last day; empty while it lasts."))
    member = models.ForeignKey(
        Member, on_delete=models.CASCADE, null=True, blank=True, related_name="positions", verbose_name=_("member")
    )
    user = models.ForeignKey(
        User,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="positions",
        verbose_name=_("login (staff without a member record)"),
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("position")
        verbose_name_plural = _("positions")
        ordering = ["unit", "role", "-start"]
        constraints = [
            models.CheckConstraint(
                condition=Q(member__isnull=False, user__isnull=True) | Q(member__isnull=True, user__isnull=False),
                name="position_member_or_user",
            ),
            models.CheckConstraint(
                condition=Q(end__isnull=True) | Q(end__gte=F("start")), name="position_end_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()} — {self.unit}"

    @property
    def role_label(self) -> str:
        """Chi ủy viên on a cell, cấp ủy viên on a committee."""
        if self.role == self.Role.COMMITTEE_MEMBER and self.unit.kind == PartyUnit.Kind.CELL:
            return _("Cell committee member")
        return self.get_role_display()

    @property
    def holder_name(self) -> str:
        if self.member_id:
            return self.member.full_name
        return self.user.get_full_name() or self.user.username

    def clean(self):
        errors = {}
        if bool(self.member_id) == bool(self.user_id):
            errors["member"] = _("Choose either a member or a login, not both.")
        if self.end and self.start and self.end < self.start:
            errors["end"] = _("The end date cannot be before the start date.")
        if self.unit_id and self.unit.kind == PartyUnit.Kind.GROUP:
            errors["unit"] = _("Positions are held on cells and committees, not on party groups.")
        if self.unit_id and self.start and self.role in (self.Role.SECRETARY, self.Role.DEPUTY_SECRETARY):
            # One secretary (and one deputy) at a time: no two periods of the role may overlap.
            clash = Position.objects.filter(unit_id=self.unit_id, role=self.role).exclude(pk=self.pk)
            clash = clash.filter(Q(end__isnull=True) | Q(end__gte=self.start))
            if self.end:
                clash = clash.filter(start__lte=self.end)
            if clash.exists():
                errors["role"] = _("This unit already has a %(role)s in that period; end that position first.") % {
                    "role": self.Role(self.role).label.lower()
                }
        if errors:
            raise ValidationError(errors)

    @staticmethod
    def active_on(day: datetime.date) -> Q:
        return Q(start__lte=day) & (Q(end__isnull=True) | Q(end__gte=day))


class AccountActivation(models.Model):
    """A one-time code (printed slip or e-mailed link) with which a member sets a password."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("E-mail invitation")
        SLIP = "slip", _("Printed slip")

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="activations")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    code_hash = models.CharField(max_length=128)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    failed_attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("account activation")
        verbose_name_plural = _("account activations")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.member} ({self.get_channel_display()})"

    @property
    def is_usable(self) -> bool:
        return (
            self.used_at is None
            and self.revoked_at is None
            and self.expires_at > timezone.now()
            and self.failed_attempts < 5
        )


class MemberReadLog(models.Model):
    """Who opened which member record, when: party membership is sensitive personal data (NĐ 13/2023)."""

    # PROTECT: a login that has read records is deactivated, not deleted, so the log keeps its reader.
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", verbose_name=_("read by"))
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="read_logs", verbose_name=_("member"))
    opened_at = models.DateTimeField(_("opened at"), default=timezone.now)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    class Meta:
        verbose_name = _("member record read")
        verbose_name_plural = _("member record reads")
        ordering = ["-opened_at"]
        indexes = [models.Index(fields=["member", "opened_at"], name="member_read_log")]

    def __str__(self) -> str:
        return f"{self.member_id} @ {self.opened_at:%d/%m/%Y %H:%M}"


class DuesPayment(models.Model):
    """Đảng phí: one record per member and month (paid on, amount)."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="dues")
    year = models.PositiveSmallIntegerField(_("year"))
    month = models.PositiveSmallIntegerField(_("month"))
    amount = models.PositiveIntegerField(_("amount (VND)"))
    paid_on = models.DateField(_("paid on"))
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", null=True)
    recorded_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("dues payment")
        verbose_name_plural = _("dues payments")
        ordering = ["member", "-year", "-month"]
        constraints = [
            models.UniqueConstraint(fields=["member", "year", "month"], name="dues_once_per_month"),
            models.CheckConstraint(condition=Q(month__gte=1, month__lte=12), name="dues_month_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.member} {self.month:02d}/{self.year}"


# The notification inbox lives in members (STYLE.md layout); its models sit in their own module.
from members.notifications.models import Notification, NotificationPreference  # noqa: E402, F401
