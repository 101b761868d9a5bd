"""Settings per unit tree (DOMAIN.md "Settings per tree"): defaults in code, a row on a unit
overrides its ancestors' rows for the whole subtree."""

from cells.models import PartyUnit, UnitSetting

DEFAULTS: dict[str, object] = {
    # Days a regular meeting's committee pre-meeting may precede it (one window everywhere).
    "committee_premeeting_days": 14,
    # Materials must be available this many days before a meeting (HD 42).
    "materials_lead_days": 1,
    "meeting_min_minutes": 90,
    "combined_meeting_min_minutes": 120,
    "attendance_warning_percent": 85,
    # Whether absences approved by the committee reduce the voting base (Điều lệ 9.5).
    "approved_absence_reduces_voting_base": True,
    "discipline_warning_months": 2,
    "discipline_alert_months": 3,
    "probation_months": 12,
    "document_symbol_cell": "CB",
    "document_symbol_committee": "ĐU",
    "reminder_days_before_meeting": 3,
    "reminder_hours_before_meeting": 2,
    "regular_meeting_schedule_by_day": 5,
    # Reminders (members.notifications): warn this many days before a regular meeting that has no
    # committee pre-meeting yet; drafts and tasks (resolutions).
    "committee_premeeting_reminder_days": 7,
    "draft_comment_reminder_hours": 24,
    "task_due_soon_days": 3,
    "require_two_factor_for_committee": False,
}


def get_setting(unit: PartyUnit, key: str):
    """The value in force for a unit: the nearest row on the unit or an ancestor, else the default."""
    if key not in DEFAULTS:
        raise KeyError(key)
    row = (
        UnitSetting.objects.filter(unit__in=unit.ancestors(), key=key)
        .order_by("-unit__depth")
        .values_list("value", flat=True)
        .first()
    )
    return DEFAULTS[key] if row is None else row


def settings_for(unit: PartyUnit) -> dict[str, object]:
    """Every setting in force for a unit, in one query."""
    values = dict(DEFAULTS)
    rows = UnitSetting.objects.filter(unit__in=unit.ancestors()).order_by("unit__depth")
    for key, value in rows.values_list("key", "value"):
        values[key] = value
    return values
