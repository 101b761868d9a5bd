from django.conf import settings
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    # First: the pages read many times a minute during a meeting are matched before the ~45 patterns
    # of the "" includes below (no other app has paths under meetings/).
    path("meetings/", include("meetings.urls")),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("config.urls_ops")),
    path("", include("members.urls")),
    path("units/", include("cells.urls")),
    path("dashboard/", include("cells.urls_dashboard")),
    path("resolutions/", include("resolutions.urls")),
]

if settings.DEBUG:
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns += staticfiles_urlpatterns()
