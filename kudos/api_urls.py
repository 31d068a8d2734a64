"""API URLs (/api/v2/...) of the kudos app; no trailing slashes, as on the AI Horde."""

from __future__ import annotations

from django.urls import path

from . import api

urlpatterns = [
    path("kudos/transfer", api.KudosTransferApi.as_view(), name="api-kudos-transfer"),
    path("kudos/award", api.KudosAwardApi.as_view(), name="api-kudos-award"),
]
