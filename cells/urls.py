from django.urls import path

from cells import views

app_name = "cells"
urlpatterns = [
    path("", views.tree, name="tree"),
    path("<uuid:uid>/", views.unit_detail, name="detail"),
    path("<uuid:uid>/new/", views.unit_create, name="create"),
    path("<uuid:uid>/edit/", views.unit_edit, name="edit"),
]
