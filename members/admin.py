"""The system administrator's view of people and their records, with audit history.

Writes that have side effects in members.services stay out of the admin: members are added and
ended, memberships opened and transfers decided in the app, where the service keeps the rolls,
home cell, positions and logins consistent. Here those records are read-only or limited to
corrections of plain fields, which the models' own clean() still validates.
"""

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from cells.admin import FoldedSearchMixin
from members import hooks
from members.models import (
    AccountActivation,
    Member,
    Membership,
    Position,
    StatusPeriod,
    TemporaryAttachment,
    Transfer,
    User,
)

MEMBER_SEARCH = ["member__full_name", "member__search_name", "member__card_number"]


class ReadOnlyMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "first_name", "email", "is_active", "is_staff", "is_superuser", "last_login"]
    search_fields = ["username", "first_name", "last_name", "email"]


class PositionForm(forms.ModelForm):
    class Meta:
        model = Position
        fields = ["unit", "role", "start", "end", "member", "user"]

    def clean(self):
        cleaned = super().clean()
        # The same guard as services.position_add: one secretary (and one deputy) at a time.
        unit, role, start, end = (cleaned.get(name) for name in ("unit", "role", "start", "end"))
        if unit and start and role in (Position.Role.SECRETARY, Position.Role.DEPUTY_SECRETARY):
            others = Position.objects.filter(unit=unit, role=role).exclude(pk=self.instance.pk)
            others = others.filter(Q(end__isnull=True) | Q(end__gte=start))
            if end:
                others = others.filter(start__lte=end)
            if others.exists():
                raise forms.ValidationError(
                    _("This unit already has a %(role)s on that date; end that position first.")
                    % {"role": Position.Role(role).label.lower()}
                )
        return cleaned


def _summaries_follow(member: Member, rolls: bool) -> None:
    """An edit in the admin bypasses the services: tell the summaries what the services would
    (members/hooks.py, inside the admin's transaction). A roll or standing corrected: the member's
    cells take the roll again from the earliest date it can touch, and the members-at-risk rows of
    everyone on them follow; a name or a date corrected: the member's rows and lists follow."""
    if rolls:
        memberships = list(Membership.objects.filter(member=member).values_list("cell_id", "start"))
        since = min([member.admitted_on, *(start for _cell, start in memberships)])
        hooks.roll_changed(cell_ids=sorted({cell for cell, _start in memberships}), since=since)
    hooks.member_changed(member_ids=[member.pk])


class MembershipInline(ReadOnlyMixin, admin.TabularInline):
    model = Membership
    fields = ["cell", "group", "start", "end"]
    show_change_link = True
    extra = 0


class StatusPeriodInline(admin.TabularInline):
    model = StatusPeriod
    fields = ["kind", "start", "end", "reason"]
    extra = 0


class PositionInline(admin.TabularInline):
    model = Position
    fk_name = "member"
    form = PositionForm
    fields = ["unit", "role", "start", "end"]
    autocomplete_fields = ["unit"]
    extra = 0


@admin.register(Member)
class MemberAdmin(FoldedSearchMixin, SimpleHistoryAdmin):
    list_display = [
        "full_name",
        "card_number",
        "home_unit",
        "gender",
        "birth_date",
        "admitted_on",
        "full_member_on",
        "works_away",
        "ended_on",
    ]
    list_filter = [
        "gender",
        "works_away",
        ("full_member_on", admin.EmptyFieldListFilter),
        ("ended_on", admin.EmptyFieldListFilter),
        "end_reason",
        "home_unit__unit_type",
    ]
    list_select_related = ["home_unit"]
    search_fields = ["full_name", "search_name", "card_number", "phone", "email"]
    autocomplete_fields = ["user"]
    # Leaving the rolls closes the membership and the login (services.member_end): not a field edit.
    readonly_fields = ["uid", "home_unit", "ended_on", "end_reason", "created_at"]
    inlines = [MembershipInline, StatusPeriodInline, PositionInline]

    def has_add_permission(self, request):
        # A new member goes on a cell's roll (services.member_create), which the admin form cannot do.
        return False

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        rolls = any(f.model in (Membership, StatusPeriod) and f.has_changed() for f in formsets)
        if rolls or form.has_changed():
            _summaries_follow(form.instance, rolls)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(StatusPeriod)
class StatusPeriodAdmin(SimpleHistoryAdmin):
    list_display = ["member", "kind", "start", "end", "reason"]
    list_filter = ["kind", ("end", admin.EmptyFieldListFilter)]
    list_select_related = ["member"]
    search_fields = [*MEMBER_SEARCH, "reason"]
    autocomplete_fields = ["member"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        _summaries_follow(obj.member, rolls=True)


@admin.register(Membership)
class MembershipAdmin(SimpleHistoryAdmin):
    list_display = ["member", "cell", "group", "start", "end"]
    list_filter = [("end", admin.EmptyFieldListFilter), "cell__unit_type"]
    list_select_related = ["member", "cell", "group"]
    search_fields = [*MEMBER_SEARCH, "cell__name", "cell__search_name"]
    autocomplete_fields = ["group"]
    # Moving someone to another cell is a transfer; the admin corrects dates and the party group.
    readonly_fields = ["member", "cell"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        _summaries_follow(obj.member, rolls=True)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(TemporaryAttachment)
class TemporaryAttachmentAdmin(SimpleHistoryAdmin):
    list_display = ["member", "cell", "start", "end", "note"]
    list_filter = [("end", admin.EmptyFieldListFilter)]
    list_select_related = ["member", "cell"]
    search_fields = [*MEMBER_SEARCH, "cell__name", "cell__search_name"]
    autocomplete_fields = ["member", "cell"]


@admin.register(Transfer)
class TransferAdmin(ReadOnlyMixin, SimpleHistoryAdmin):
    # Recording, accepting and cancelling move the member between rolls: services only.
    list_display = ["member", "from_cell", "to_cell", "destination_text", "date", "state", "decided_at"]
    list_filter = ["state"]
    list_select_related = ["member", "from_cell", "to_cell"]
    search_fields = [*MEMBER_SEARCH, "from_cell__name", "to_cell__name", "destination_text"]


@admin.register(Position)
class PositionAdmin(SimpleHistoryAdmin):
    form = PositionForm
    list_display = ["role", "unit", "holder", "start", "end"]
    list_filter = ["role", "unit__kind", ("end", admin.EmptyFieldListFilter)]
    list_select_related = ["unit", "member", "user"]
    search_fields = [*MEMBER_SEARCH, "user__username", "user__first_name", "unit__name", "unit__search_name"]
    autocomplete_fields = ["unit", "member", "user"]
    readonly_fields = ["uid"]

    @admin.display(description=_("holder"))
    def holder(self, position: Position) -> str:
        return position.holder_name


@admin.register(AccountActivation)
class AccountActivationAdmin(ReadOnlyMixin, admin.ModelAdmin):
    # code_hash is never shown: not even a hash of a one-time code leaves the database.
    fields = [
        "uid",
        "member",
        "channel",
        "created_by",
        "created_at",
        "expires_at",
        "used_at",
        "revoked_at",
        "failed_attempts",
    ]
    readonly_fields = fields
    list_display = ["member", "channel", "created_by", "created_at", "expires_at", "used_at", "revoked_at"]
    list_filter = ["channel", ("used_at", admin.EmptyFieldListFilter), ("revoked_at", admin.EmptyFieldListFilter)]
    list_select_related = ["member", "created_by"]
    search_fields = MEMBER_SEARCH


# Notifications have their admin next to their models.
from members.notifications import admin as notifications_admin  # noqa: E402, F401
