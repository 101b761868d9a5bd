"""The resolution register and its exports (see resolutions/urls.py)."""

from django.urls import path

from .views import register

urlpatterns = [
    path("register/", register.register_home, name="register_home"),
    path("units/<uuid:unit_uid>/register/", register.unit_register, name="register"),
    path("units/<uuid:unit_uid>/register.pdf", register.register_pdf, name="register_pdf"),
    path("units/<uuid:unit_uid>/register.xlsx", register.register_xlsx, name="register_xlsx"),
    path("units/<uuid:unit_uid>/register/book/", register.register_book_start, name="register_book_start"),
    path("units/<uuid:unit_uid>/register/book/<uuid:job_id>/", register.register_book, name="register_book"),
    path("units/<uuid:unit_uid>/register/book/<uuid:job_id>.pdf", register.register_book_pdf, name="register_book_pdf"),
]
