from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ResolutionsConfig(AppConfig):
    name = "resolutions"
    verbose_name = _("Resolutions")

    def ready(self):
        # meetings shows the tasks review under the assessment item without importing resolutions.
        from . import agenda

        agenda.register()
