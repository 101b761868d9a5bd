"""Attendance, guests, dues, QR check-in and members' attendance history (see meetings/urls.py)."""

from django.urls import path

from meetings.views import attendance as views

urlpatterns = [
    path("<uuid:uid>/attendance/", views.attendance, name="attendance"),
    path("<uuid:uid>/attendance/<uuid:member_uid>/", views.attendance_row, name="attendance_row"),
    path("<uuid:uid>/guests/", views.guests, name="guests"),
    path("<uuid:uid>/guests/<int:pk>/remove/", views.guest_remove, name="guest_remove"),
    path("<uuid:uid>/dues/", views.dues, name="dues"),
    path("<uuid:uid>/qr/", views.qr, name="qr"),
    path("<uuid:uid>/qr/code/", views.qr_code, name="qr_code"),
    path("<uuid:uid>/check-in/", views.check_in, name="check_in"),
    path("members/<uuid:uid>/attendance/", views.member_attendance, name="member_attendance"),
]
