"""The inbox and notification settings in the members namespace (see members/urls.py)."""

from django.urls import path

from members.views import inbox

urlpatterns = [
    path("inbox/", inbox.inbox, name="inbox"),
    path("inbox/read-all/", inbox.inbox_read_all, name="inbox_read_all"),
    path("inbox/<uuid:uid>/", inbox.inbox_open, name="inbox_open"),
    path("inbox/<uuid:uid>/read/", inbox.inbox_read, name="inbox_read"),
    path("inbox/settings/", inbox.preferences, name="notification_preferences"),
]
