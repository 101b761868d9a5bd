"""URLs of the meetings app (see meetings/urls.py): the minutes PDF, addenda and the signed scan."""

from django.urls import path

from .views import documents

urlpatterns = [
    path("<uuid:uid>/minutes.pdf", documents.minutes_pdf, name="minutes_pdf"),
    path("addenda/<uuid:uid>.pdf", documents.addendum_pdf, name="addendum_pdf"),
    path("<uuid:uid>/signed-scan", documents.scan, name="scan"),
]
