import uuid

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Concat, Substr
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

PATH_STEP = 12  # hex digits per level of the materialised path: "3f2a9c01d4e7.8b10c2aa5f31."


class PartyUnit(models.Model):
    """A node of the party tree: committees of any depth, grassroots committees, cells, groups."""

    class Kind(models.TextChoices):
        COMMITTEE = "committee", _("Party committee")
        GRASSROOTS_COMMITTEE = "grassroots", _("Grassroots party committee")
        CELL = "cell", _("Party cell")
        GROUP = "group", _("Party group")

    class UnitType(models.TextChoices):
        STATE_ENTERPRISE = "state_enterprise", _("State enterprise")
        PRIVATE_ENTERPRISE = "private_enterprise", _("Non-state enterprise")
        STATE_AGENCY = "state_agency", _("State administrative agency")
        PUBLIC_SERVICE = "public_service", _("Public service unit")
        RESIDENTIAL = "residential", _("Village / residential group")
        POLICE = "police", _("Police")
        ARMY = "army", _("Army")
        OTHER = "other", _("Other")

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    unit_type = models.CharField(_("type"), max_length=24, choices=UnitType.choices, default=UnitType.OTHER)
    is_grassroots = models.BooleanField(
        _("grassroots cell"), default=False, help_text=_("A cell directly under a higher committee (chi bộ cơ sở).")
    )
    name = models.CharField(_("name"), max_length=200)
    short_name = models.CharField(_("short name"), max_length=80, blank=True)
    document_symbol = models.CharField(_("document symbol"), max_length=20, blank=True)
    place_name = models.CharField(_("place name for documents"), max_length=80, blank=True)
    founded_on = models.DateField(_("founded on"), null=True, blank=True)
    dissolved_on = models.DateField(_("dissolved on"), null=True, blank=True)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children", verbose_name=_("parent unit")
    )
    # Materialised path of zero-padded ids; a subtree is one indexed prefix query.
    path = models.CharField(max_length=255, unique=True, editable=False, default="")
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    search_name = models.CharField(max_length=200, editable=False, default="")
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("party unit")
        verbose_name_plural = _("party units")
        ordering = ["path"]
        constraints = [
            models.CheckConstraint(
                condition=Q(dissolved_on__isnull=True)
                | Q(founded_on__isnull=True)
                | Q(dissolved_on__gte=F("founded_on")),
                name="unit_dissolved_after_founded",
            ),
        ]
        indexes = [models.Index(fields=["path"], name="unit_path_prefix", opclasses=["varchar_pattern_ops"])]

    def __str__(self) -> str:
        return self.name

    @property
    def display_name(self) -> str:
        return self.short_name or self.name

    def is_active_on(self, day) -> bool:
        return (self.founded_on is None or self.founded_on <= day) and (
            self.dissolved_on is None or day <= self.dissolved_on
        )

    # Which kinds of unit may sit under which (a group only under a cell; nothing under a group).
    ALLOWED_PARENTS = {
        Kind.COMMITTEE: {None, Kind.COMMITTEE},
        Kind.GRASSROOTS_COMMITTEE: {None, Kind.COMMITTEE},
        Kind.CELL: {None, Kind.COMMITTEE, Kind.GRASSROOTS_COMMITTEE},
        Kind.GROUP: {Kind.CELL},
    }

    def clean(self):
        super().clean()
        errors = {}
        parent_kind = self.parent.kind if self.parent_id else None
        if self.kind and parent_kind not in self.ALLOWED_PARENTS[self.kind]:
            if parent_kind is None:
                errors["parent"] = _("This kind of unit needs a parent unit.")
            else:
                errors["parent"] = _("A %(kind)s cannot be placed under a %(parent)s.") % {
                    "kind": self.Kind(self.kind).label.lower(),
                    "parent": self.Kind(parent_kind).label.lower(),
                }
        if self.parent_id and self.pk:
            if self.parent_id == self.pk or (self.path and self.parent.path.startswith(self.path)):
                errors["parent"] = _("A unit cannot be placed under itself or one of its own sub-units.")
        if self.founded_on and self.dissolved_on and self.dissolved_on < self.founded_on:
            errors["dissolved_on"] = _("The dissolution date cannot be before the founding date.")
        if self.kind == self.Kind.CELL and self.parent_id and parent_kind == self.Kind.COMMITTEE:
            self.is_grassroots = True
        if errors:
            raise ValidationError(errors)

    def save(self, *args, **kwargs):
        # path is derived: set here so every write path (service, admin, seed) keeps it right,
        # before the insert, so a new unit gets exactly one history row.
        from cells.text import fold

        self.search_name = fold(self.name)
        old_path, old_depth = self.path, self.depth
        new_path = self._compute_path()
        self.path, self.depth = new_path, new_path.count(".") - 1
        if old_path and new_path != old_path and "update_fields" in kwargs:
            kwargs["update_fields"] = {*kwargs["update_fields"], "path", "depth"}
        super().save(*args, **kwargs)
        if old_path and new_path != old_path:
            # Move the whole subtree in one UPDATE: swap the old prefix for the new one.
            PartyUnit.objects.filter(path__startswith=old_path).exclude(pk=self.pk).update(
                path=Concat(Value(new_path), Substr("path", len(old_path) + 1)),
                depth=F("depth") + (self.depth - old_depth),
            )

    def _compute_path(self) -> str:
        # A segment from the random uid: known before the insert, and leaks no count of units.
        segment = f"{self.uid.hex[:PATH_STEP]}."
        if self.parent_id is None:
            return segment
        parent_path = PartyUnit.objects.values_list("path", flat=True).get(pk=self.parent_id)
        return parent_path + segment

    def subtree(self):
        return PartyUnit.objects.filter(path__startswith=self.path)

    def ancestors(self):
        prefixes = [self.path[: i + PATH_STEP + 1] for i in range(0, len(self.path), PATH_STEP + 1)]
        return PartyUnit.objects.filter(path__in=prefixes).order_by("depth")

    def current_term(self, day=None):
        from django.utils import timezone

        day = day or timezone.localdate()
        return (
            self.terms.filter(start__lte=day).filter(Q(end__isnull=True) | Q(end__gte=day)).order_by("-start").first()
        )


class Term(models.Model):
    """A committee term (nhiệm kỳ), from congress to congress; documents are numbered per term."""

    unit = models.ForeignKey(PartyUnit, on_delete=models.CASCADE, related_name="terms", verbose_name=_("unit"))
    name = models.CharField(_("name"), max_length=80, help_text=_("e.g. 2025–2030"))
    start = models.DateField(_("start"))
    end = models.DateField(_("end"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("term")
        verbose_name_plural = _("terms")
        ordering = ["unit", "-start"]
        constraints = [
            models.CheckConstraint(condition=Q(end__isnull=True) | Q(end__gte=F("start")), name="term_end_after_start"),
        ]

    def __str__(self) -> str:
        return f"{self.unit} — {self.name}"

    def clean(self):
        if self.end and self.start and self.end < self.start:
            raise ValidationError({"end": _("The end of the term cannot be before its start.")})
        if self.unit_id and self.start:
            overlapping = Term.objects.filter(unit_id=self.unit_id).exclude(pk=self.pk)
            overlapping = overlapping.filter(Q(end__isnull=True) | Q(end__gte=self.start))
            if self.end:
                overlapping = overlapping.filter(start__lte=self.end)
            if overlapping.exists():
                raise ValidationError(_("Terms of one unit cannot overlap."))


class UnitSetting(models.Model):
    """A setting on a unit; it overrides its ancestors' and applies to the whole subtree."""

    unit = models.ForeignKey(PartyUnit, on_delete=models.CASCADE, related_name="settings", verbose_name=_("unit"))
    key = models.CharField(_("setting"), max_length=64)
    value = models.JSONField(_("value"))
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("unit setting")
        verbose_name_plural = _("unit settings")
        constraints = [models.UniqueConstraint(fields=["unit", "key"], name="unit_setting_unique_key")]

    def __str__(self) -> str:
        return f"{self.unit}: {self.key}={self.value!r}"

    def clean(self):
        from cells.tree_settings import DEFAULTS

        if self.key not in DEFAULTS:
            raise ValidationError({"key": _("Unknown setting.")})
        expected = type(DEFAULTS[self.key])
        if expected is int and isinstance(self.value, bool) or not isinstance(self.value, expected):
            raise ValidationError(
                {"value": _("This setting takes a value of type %(type)s.") % {"type": expected.__name__}}
            )


class Heartbeat(models.Model):
    """The last time a periodic job ran; /healthz reads its age (one row per name, upserted)."""

    name = models.CharField(max_length=64, unique=True)
    at = models.DateTimeField()

    class Meta:
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")

    def __str__(self) -> str:
        return f"{self.name} @ {self.at:%Y-%m-%d %H:%M:%S}"
