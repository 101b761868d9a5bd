"""Issuing and the issued resolution's page and PDFs (see resolutions/urls.py)."""

from django.urls import path

from .views import issuing

urlpatterns = [
    path("drafts/<uuid:uid>/issue/", issuing.issue, name="issue"),
    path("r/<uuid:uid>/", issuing.resolution_detail, name="resolution"),
    path("r/<uuid:uid>/pdf/", issuing.resolution_pdf, name="resolution_pdf"),
    path("r/<uuid:uid>/consultation.pdf", issuing.consultation_pdf, name="consultation_pdf"),
]
