from django.urls import include, path

app_name = "resolutions"
urlpatterns = [
    path("", include("resolutions.urls_drafts")),
    path("", include("resolutions.urls_issuing")),
    path("", include("resolutions.urls_register")),
    path("", include("resolutions.urls_tasks")),
]
