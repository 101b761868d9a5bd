"""The system administrator's view of meetings and their rows, with audit history.

Closed minutes are an official record (DOMAIN.md "Documents"): once a meeting is closed, neither it
nor its agenda items, speeches, attendance, votes or guests can be changed or deleted here either;
corrections are addenda, which are added (never changed) through the same service as in the app.
State changes (open, finish, close, cancel) and materials (checked by content) stay in the app.
"""

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from cells.admin import FoldedSearchMixin

from . import services
from .models import Addendum, AgendaItem, Attendance, Guest, Material, Meeting, Speech, Vote

MEETING_SEARCH = ["meeting__unit__name", "meeting__topic", "meeting__place"]


def _closed(meeting: Meeting | None) -> bool:
    return meeting is not None and meeting.status == Meeting.Status.CLOSED


class RevertGuard:
    """simple_history's "revert to this version" page saves an old version without asking
    has_change_permission about the current row (an old version of a closed meeting is "held"):
    ask it here, about the row as it is now."""

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST":
            current = self.get_object(request, object_id)
            if current is None or not self.has_change_permission(request, current):
                raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)

    def revert_disabled(self, request, obj=None):
        current = self.model._default_manager.filter(pk=obj.pk).first() if obj is not None else None
        return super().revert_disabled(request, obj) or not self.has_change_permission(request, current)


class ClosedMeetingGuard(RevertGuard):
    """Rows of a closed meeting are read-only; new rows may not be attached to one."""

    meeting_path = "meeting"

    def meeting_of(self, obj) -> Meeting | None:
        for part in self.meeting_path.split("__"):
            obj = getattr(obj, part, None) if obj is not None else None
        return obj

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not _closed(self.meeting_of(obj))

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not _closed(self.meeting_of(obj))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "meeting":
            kwargs["queryset"] = Meeting.objects.exclude(status=Meeting.Status.CLOSED).select_related("unit")
        elif db_field.name == "item":
            kwargs["queryset"] = AgendaItem.objects.exclude(meeting__status=Meeting.Status.CLOSED).select_related(
                "meeting__unit"
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ClosedParentInline:
    """An inline on a meeting's page: read-only once the meeting is closed (obj is the meeting)."""

    extra = 0

    def has_add_permission(self, request, obj=None):
        return super().has_add_permission(request, obj) and not _closed(obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not _closed(obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not _closed(obj)


class AgendaItemInline(ClosedParentInline, admin.TabularInline):
    model = AgendaItem
    fields = ["order", "title"]


class GuestInline(ClosedParentInline, admin.TabularInline):
    model = Guest
    fields = ["name", "title", "is_higher_delegate"]


class VoteInline(ClosedParentInline, admin.TabularInline):
    model = Vote
    fields = ["subject", "votes_for", "votes_against", "votes_other", "voting_base"]
    readonly_fields = ["voting_base"]


class MaterialInline(admin.TabularInline):
    model = Material
    fields = ["original_name", "content_type", "size", "sha256", "uploaded_by", "uploaded_at"]
    readonly_fields = fields
    extra = 0

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Meeting)
class MeetingAdmin(RevertGuard, SimpleHistoryAdmin):
    list_display = ["scheduled_start", "unit", "kind", "status", "period_month", "period_year", "place"]
    list_filter = ["status", "kind", "combined_thematic", "period_year"]
    search_fields = ["unit__name", "unit__short_name", "topic", "place"]
    date_hierarchy = "scheduled_start"
    list_select_related = ["unit"]
    filter_horizontal = ["presenters"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    raw_id_fields = ["chair", "minutes_secretary"]
    readonly_fields = [
        "uid",
        "status",
        "revision",
        "cancel_reason",
        "minutes_version",
        "closed_at",
        "closed_by",
        "minutes_sha256",
        "created_by",
        "created_at",
        "updated_at",
    ]
    inlines = [AgendaItemInline, GuestInline, VoteInline, MaterialInline]

    def has_add_permission(self, request):
        return False  # meeting_schedule writes the standard agenda with it: schedule in the app

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not _closed(obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not _closed(obj)

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        return [*readonly, "unit", "kind"] if obj else readonly

    def save_model(self, request, obj, form, change):
        # As meeting_update: reminders and the calendar SEQUENCE follow a change of time or place.
        if change and {"scheduled_start", "place"} & set(form.changed_data):
            obj.revision += 1
        super().save_model(request, obj, form, change)


@admin.register(AgendaItem)
class AgendaItemAdmin(ClosedMeetingGuard, SimpleHistoryAdmin):
    list_display = ["title", "order", "meeting", "version"]
    list_filter = ["meeting__status", "meeting__kind"]
    search_fields = ["title", "content", "conclusion", *MEETING_SEARCH]
    list_select_related = ["meeting__unit"]
    raw_id_fields = ["meeting", "updated_by"]
    readonly_fields = ["version"]


@admin.register(Speech)
class SpeechAdmin(ClosedMeetingGuard, SimpleHistoryAdmin):
    meeting_path = "item__meeting"
    list_display = ["__str__", "item", "order"]
    list_filter = ["item__meeting__status"]
    search_fields = ["summary", "speaker_name", "member__full_name", "member__search_name", "item__title"]
    list_select_related = ["member", "item"]
    raw_id_fields = ["item", "member"]


@admin.register(Attendance)
class AttendanceAdmin(FoldedSearchMixin, ClosedMeetingGuard, SimpleHistoryAdmin):
    folded_search_field = "member__search_name"
    list_display = ["member", "meeting", "status", "reason_approved", "arrived_late", "checked_in_at"]
    list_filter = ["status", "reason_approved", "is_full", "is_exempted", "meeting__status"]
    search_fields = ["member__full_name", "member__card_number", "reason", *MEETING_SEARCH]
    list_select_related = ["member", "meeting__unit"]
    raw_id_fields = ["meeting", "member"]


@admin.register(Guest)
class GuestAdmin(ClosedMeetingGuard, SimpleHistoryAdmin):
    list_display = ["name", "title", "is_higher_delegate", "meeting"]
    list_filter = ["is_higher_delegate", "meeting__status"]
    search_fields = ["name", "title", *MEETING_SEARCH]
    list_select_related = ["meeting__unit"]
    raw_id_fields = ["meeting"]


@admin.register(Vote)
class VoteAdmin(ClosedMeetingGuard, SimpleHistoryAdmin):
    list_display = ["subject", "votes_for", "votes_against", "votes_other", "voting_base", "meeting"]
    list_filter = ["meeting__status"]
    search_fields = ["subject", *MEETING_SEARCH]
    list_select_related = ["meeting__unit"]
    raw_id_fields = ["meeting"]
    readonly_fields = ["voting_base"]  # measured by vote_record when the vote was taken


@admin.register(Material)
class MaterialAdmin(ClosedMeetingGuard, admin.ModelAdmin):
    """Materials keep no history; they are added in the app, where the content is checked."""

    list_display = ["original_name", "content_type", "size", "meeting", "uploaded_by", "uploaded_at"]
    list_filter = ["content_type", "meeting__status"]
    search_fields = ["original_name", "sha256", *MEETING_SEARCH]
    list_select_related = ["meeting__unit", "uploaded_by"]
    readonly_fields = ["uid", "meeting", "file", "content_type", "size", "sha256", "uploaded_by", "uploaded_at"]

    def has_add_permission(self, request):
        return False


class AddendumForm(forms.ModelForm):
    class Meta:
        model = Addendum
        fields = ["meeting", "text"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "meeting" in self.fields:  # the add form; on an existing addendum every field is read-only
            self.fields["meeting"].queryset = Meeting.objects.filter(status=Meeting.Status.CLOSED).select_related(
                "unit"
            )
            self.fields["meeting"].help_text = _("Only meetings whose minutes are closed take addenda.")

    def clean_text(self):
        text = self.cleaned_data["text"].strip()
        if not text:
            raise forms.ValidationError(_("Write the correction."))
        return text


@admin.register(Addendum)
class AddendumAdmin(RevertGuard, SimpleHistoryAdmin):
    """Add-only: an addendum is itself part of the record, rendered and hashed on creation."""

    form = AddendumForm
    list_display = ["meeting", "created_at", "created_by", "sha256"]
    list_filter = ["meeting__unit"]
    search_fields = ["text", *MEETING_SEARCH]
    list_select_related = ["meeting__unit", "created_by"]
    readonly_fields = ["uid", "created_by", "created_at", "pdf", "sha256"]

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "meeting", "text"] if obj else self.readonly_fields

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        # The same path as the app: addendum_add renders the PDF and stores its SHA-256.
        created = services.addendum_add(meeting=obj.meeting, text=obj.text, by=request.user)
        obj.pk, obj.uid, obj.created_by, obj.created_at = (
            created.pk,
            created.uid,
            created.created_by,
            created.created_at,
        )
