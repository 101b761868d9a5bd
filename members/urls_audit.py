"""Audit pages in the members namespace (see members/urls.py)."""

from django.urls import path

from members.views import audit

urlpatterns = [
    path("members/<uuid:uid>/history/", audit.member_history, name="member_history"),
    path("members/<uuid:uid>/reads/", audit.member_reads, name="member_reads"),
    path("units/<uuid:unit_uid>/history/", audit.unit_history, name="unit_history"),
]
