"""API URLs (/api/v2/...) of the accounts app; no trailing slashes, as on the AI Horde."""

from __future__ import annotations

from django.urls import path

from . import api

urlpatterns = [
    path("find_user", api.FindUserApi.as_view(), name="api-find-user"),
    path("users/<str:user_id>", api.UserDetailApi.as_view(), name="api-user-detail"),
]
