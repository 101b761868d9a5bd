"""Operations URLs: health checks and the status panel."""

from django.urls import path

from config import views_ops

app_name = "ops"

urlpatterns = [
    path("healthz", views_ops.healthz, name="healthz"),
    path("ops/status/", views_ops.status_panel, name="status"),
]
