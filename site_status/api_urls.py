"""API URLs (/api/v2/...) of the site status; no trailing slashes, as on the AI Horde."""

from __future__ import annotations

from django.urls import path

from . import api

urlpatterns = [
    path("status/news", api.NewsApi.as_view(), name="status-news"),
    path("status/modes", api.ModesApi.as_view(), name="status-modes"),
]
