"""URLs in the members namespace (see members/urls.py): importing members from a spreadsheet."""

from django.urls import path

from members.views import imports

urlpatterns: list = [
    path("units/<uuid:unit_uid>/import/", imports.import_upload, name="import_upload"),
    path("units/<uuid:unit_uid>/import/template.xlsx", imports.import_template, name="import_template"),
    path("units/<uuid:unit_uid>/import/<str:token>/mapping/", imports.import_mapping, name="import_mapping"),
    path("units/<uuid:unit_uid>/import/<str:token>/preview/", imports.import_preview, name="import_preview"),
]
