"""API URLs (/api/v2/...) of the moderation app; no trailing slashes, as on the AI Horde."""

from __future__ import annotations

from django.urls import path

from . import api

urlpatterns = [
    path("filters", api.FiltersApi.as_view(), name="filters"),
    path("filters/<str:filter_id>", api.FilterSingleApi.as_view(), name="filter-single"),
]
