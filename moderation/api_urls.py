"""API URLs (/api/v2/...) of the moderation app; no trailing slashes, as on the AI Horde."""

from __future__ import annotations

from django.urls import path

from . import api

urlpatterns = [
    path("images/<str:image_id>/report", api.ImageReportApi.as_view(), name="api-image-report"),
]
