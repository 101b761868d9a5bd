"""Unsubscribe links from e-mails, in the members namespace (see members/urls.py); no login."""

from django.urls import path

from members.notifications import views

urlpatterns = [
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("unsubscribe/<str:token>/done/", views.unsubscribe_done, name="unsubscribe_done"),
    path("unsubscribe/<str:token>/undo/", views.unsubscribe_undo, name="unsubscribe_undo"),
    path("unsubscribe/<str:token>/one-click/", views.unsubscribe_one_click, name="unsubscribe_one_click"),
]
