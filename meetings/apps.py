from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MeetingsConfig(AppConfig):
    name = "meetings"
    verbose_name = _("Meetings")

    def ready(self):
        # members shows the panels without importing meetings (STYLE.md: registries).
        from members.panels import register_home_panel, register_member_panel

        from .panels_attendance import member_attendance_panel
        from .views.schedule import home_panel

        register_home_panel(home_panel)
        register_member_panel(member_attendance_panel)

        # Notification kinds and planners (members.notifications registry).
        from . import notify

        notify.register()

        # Dashboard summaries follow writes to the tree and to rolls (cells/hooks, members/hooks).
        from cells.hooks import register_unit_changed
        from members.hooks import register_member_changed, register_roll_changed

        from .summaries import member_changed, roll_changed, unit_changed

        register_unit_changed(unit_changed)
        register_roll_changed(roll_changed)
        register_member_changed(member_changed)
