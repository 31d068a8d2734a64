"""API URLs (/api/v2/...) of the moderation app; no trailing slashes, as on the AI Horde."""

from __future__ import annotations

from django.urls import path

from . import api_filters, api_reports

urlpatterns = [
    path("images/<str:image_id>/report", api_reports.ImageReportApi.as_view(), name="api-image-report"),
    path("filters", api_filters.FiltersApi.as_view(), name="filters"),
    path("filters/<str:filter_id>", api_filters.FilterSingleApi.as_view(), name="filter-single"),
]
