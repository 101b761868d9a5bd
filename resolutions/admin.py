"""The system administrator's view of drafts, comments, votes and issued resolutions, with history.

Issued resolutions are official records (DOMAIN.md "Draft resolutions": never edited, amended by a
new one), so they are read-only here, like the number sequences that make their numbers gapless.
Drafts and what hangs off them (versions, comments, responses, written votes) are records of the
deliberation: every change goes through the app's services, which check deadlines and states, so
the admin shows them read-only too, including simple_history's "revert" page.
"""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from cells.admin import FoldedSearchMixin

from .models import (
    Comment,
    ConsultationVote,
    Draft,
    DraftVersion,
    NumberSequence,
    Resolution,
    Response,
    Task,
    TaskProgressNote,
    TaskReview,
)


class ReadOnlyAdmin(SimpleHistoryAdmin):
    """Viewable, searchable, with history; never added, changed, deleted or reverted here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def revert_disabled(self, request, obj=None):
        return True

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]


class VersionInline(admin.TabularInline):
    model = DraftVersion
    fields = ("number", "title", "change_note", "created_by", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Draft)
class DraftAdmin(ReadOnlyAdmin):
    list_display = ("title", "unit", "kind", "status", "comment_deadline", "is_written_consultation", "created_at")
    list_filter = ("status", "kind", "is_written_consultation")
    search_fields = ("title", "unit__name")
    list_select_related = ("unit",)
    inlines = [VersionInline]


@admin.register(DraftVersion)
class DraftVersionAdmin(ReadOnlyAdmin):
    list_display = ("draft", "number", "created_at")
    list_select_related = ("draft",)
    search_fields = ("draft__title",)


@admin.register(Comment)
class CommentAdmin(ReadOnlyAdmin):
    list_display = ("author", "draft", "section_key", "withdrawn", "created_at")
    list_filter = ("withdrawn",)
    list_select_related = ("author", "draft")
    search_fields = ("text", "author__full_name", "draft__title")


@admin.register(Response)
class ResponseAdmin(ReadOnlyAdmin):
    list_display = ("comment", "decision", "responded_by", "responded_at")
    list_filter = ("decision",)
    list_select_related = ("comment__author", "responded_by")


@admin.register(ConsultationVote)
class ConsultationVoteAdmin(ReadOnlyAdmin):
    list_display = ("member", "draft", "choice", "changed_at")
    list_filter = ("choice",)
    list_select_related = ("member", "draft")


@admin.register(Resolution)
class ResolutionAdmin(FoldedSearchMixin, ReadOnlyAdmin):
    folded_search_field = "search_text"
    list_display = ("number_label", "title", "unit", "term", "issued_on")
    list_filter = ("kind",)
    search_fields = ("number_label", "title", "unit__name")
    list_select_related = ("unit", "term")


@admin.register(NumberSequence)
class NumberSequenceAdmin(ReadOnlyAdmin):
    list_display = ("unit", "kind", "term", "last_number")
    list_select_related = ("unit", "term")


@admin.register(Task)
class TaskAdmin(SimpleHistoryAdmin):
    list_display = ("__str__", "unit", "due_on", "status", "assigned_to_committee")
    list_filter = ("status", "assigned_to_committee")
    list_select_related = ("unit",)
    search_fields = ("text",)
    raw_id_fields = ("resolution", "assignees")


@admin.register(TaskProgressNote)
class TaskProgressNoteAdmin(SimpleHistoryAdmin):
    list_display = ("task", "author", "at")
    list_select_related = ("task", "author")
    raw_id_fields = ("task", "author")


@admin.register(TaskReview)
class TaskReviewAdmin(SimpleHistoryAdmin):
    list_display = ("task", "meeting", "status_at_review", "reviewed_at")
    list_select_related = ("task", "meeting")
    raw_id_fields = ("task", "meeting")
