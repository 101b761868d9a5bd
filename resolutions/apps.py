from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ResolutionsConfig(AppConfig):
    name = "resolutions"
    verbose_name = _("Resolutions")

    def ready(self):
        # meetings shows the tasks review under the assessment item without importing resolutions.
        from . import agenda

        agenda.register()

        # The home page's "My tasks" card (members.panels registry).
        from members.panels import register_home_panel

        from .views.tasks import home_panel

        register_home_panel(home_panel)

        from .panels import awaiting_comment_panel

        register_home_panel(awaiting_comment_panel)

        # Notification kinds and planners (members.notifications registry).
        from . import notify

        notify.register()

        # The dashboard's resolution and task counts: moved with the tree (cells.hooks), rebuilt and
        # checked with the meetings summaries (rebuild_summaries).
        from cells.hooks import register_unit_changed
        from meetings.summaries import register_summary

        from . import counts

        register_unit_changed(counts.unit_changed)
        register_summary(counts.rebuild, counts.check)
