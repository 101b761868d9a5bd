"""URLs of the minutes (see meetings/urls.py): the page, its autosaved parts, closing, addenda."""

from django.urls import path

from .views import minutes

urlpatterns = [
    path("<uuid:uid>/minutes/", minutes.minutes, name="minutes"),
    path("<uuid:uid>/minutes/header/", minutes.minutes_header, name="minutes_header"),
    path("<uuid:uid>/items/<int:pk>/", minutes.item_save, name="item_save"),
    path("<uuid:uid>/items/<int:pk>/speeches/", minutes.speech_add, name="speech_add"),
    path("<uuid:uid>/speeches/<int:pk>/delete/", minutes.speech_remove, name="speech_remove"),
    path("<uuid:uid>/votes/", minutes.vote_add, name="vote_add"),
    path("<uuid:uid>/votes/<int:pk>/delete/", minutes.vote_remove, name="vote_remove"),
    path("<uuid:uid>/close/", minutes.close, name="close"),
    path("<uuid:uid>/addenda/new/", minutes.addendum_add, name="addendum_add"),
    path("<uuid:uid>/signed-scan/upload/", minutes.scan_upload, name="scan_upload"),
]
