"""Scheduling, calendar, a meeting's page, agenda, materials and .ics (see meetings/urls.py)."""

from django.urls import path

from .views import schedule

urlpatterns = [
    path("units/<uuid:unit_uid>/", schedule.calendar, name="calendar"),
    path("units/<uuid:unit_uid>/new/", schedule.meeting_create, name="schedule"),
    path("<uuid:uid>/", schedule.meeting_detail, name="detail"),
    path("<uuid:uid>/edit/", schedule.meeting_edit, name="edit"),
    path("<uuid:uid>/cancel/", schedule.meeting_cancel, name="cancel"),
    path("<uuid:uid>/open/", schedule.meeting_open, name="open"),
    path("<uuid:uid>/finish/", schedule.meeting_finish, name="finish"),
    path("<uuid:uid>/calendar.ics", schedule.meeting_ics_download, name="ics"),
    path("<uuid:uid>/agenda/", schedule.agenda, name="agenda"),
    path("<uuid:uid>/materials/", schedule.material_upload, name="material_upload"),
    path("materials/<uuid:uid>/", schedule.material_download, name="material"),
    path("materials/<uuid:uid>/delete/", schedule.material_delete, name="material_delete"),
]
