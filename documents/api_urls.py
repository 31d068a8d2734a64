"""API URLs (/api/v2/...) of the documents app."""

from __future__ import annotations

from django.urls import path

from . import api

urlpatterns = [
    path("documents/terms", api.TermsApi.as_view(), name="api-documents-terms"),
    path("documents/privacy", api.PrivacyApi.as_view(), name="api-documents-privacy"),
]
