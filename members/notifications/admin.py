"""Notifications in the admin: searchable, filterable by state and kind; failures show their
error, and an action puts failed rows back in the queue."""

from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import Notification, NotificationPreference
from .registry import KINDS


class KindFilter(admin.SimpleListFilter):
    title = _("kind")
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        return sorted(((key, kind.label) for key, kind in KINDS.items()), key=lambda pair: str(pair[1]))

    def queryset(self, request, queryset):
        return queryset.filter(kind=self.value()) if self.value() else queryset


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["subject", "to", "kind", "channel", "state", "due_at", "attempts", "last_error", "sent_at"]
    list_filter = ["state", KindFilter, "channel", "due_at"]
    search_fields = [
        *("message__subject", "recipient__username", "recipient__email", "member__full_name", "member__email"),
        *("occurrence", "last_error", "kind"),
    ]
    list_select_related = ["recipient", "member", "message"]
    date_hierarchy = "due_at"
    readonly_fields = [f.name for f in Notification._meta.fields if f.name != "id"] + ["subject", "body"]
    actions = ["retry"]

    @admin.display(description=_("recipient"))
    def to(self, row: Notification) -> str:
        # A member without a login is reached by e-mail at the member record's address.
        return str(row.recipient) if row.recipient_id else f"{row.member} ({row.member.email or '—'})"

    def has_add_permission(self, request):
        return False  # rows are planned by the apps, never typed in

    @admin.action(description=_("Send the selected failed notifications again"))
    def retry(self, request, queryset):
        count = queryset.filter(state=Notification.State.FAILED).update(
            state=Notification.State.PENDING, attempts=0, due_at=timezone.now()
        )
        self.message_user(request, _("%(count)s notifications put back in the queue.") % {"count": count})


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    """Who turned which e-mail off (settings page or the link in an e-mail); read-only, since the
    choice is the recipient's own."""

    list_display = ["kind", "user", "member", "email", "updated_at"]
    list_filter = [KindFilter, "email"]
    search_fields = ["user__username", "user__email", "member__full_name", "member__email"]
    list_select_related = ["user", "member"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
