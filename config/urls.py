from django.conf import settings
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("config.urls_ops")),
    path("", include("members.urls")),
    path("units/", include("cells.urls")),
    path("meetings/", include("meetings.urls")),
    path("dashboard/", include("cells.urls_dashboard")),
    path("resolutions/", include("resolutions.urls")),
]

if settings.DEBUG:
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns += staticfiles_urlpatterns()
