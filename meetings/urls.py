from django.urls import include, path

app_name = "meetings"
urlpatterns = [
    path("", include("meetings.urls_schedule")),
    path("", include("meetings.urls_attendance")),
    path("", include("meetings.urls_minutes")),
    path("", include("meetings.urls_documents")),
]
