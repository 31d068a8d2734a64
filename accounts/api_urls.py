"""API URLs (/api/v2/...) of the accounts app; no trailing slashes, as on the AI Horde."""

from __future__ import annotations

from django.urls import path

from . import api, api_sharedkeys

urlpatterns = [
    path("find_user", api.FindUserApi.as_view(), name="api-find-user"),
    path("users", api.UsersListApi.as_view(), name="api-users"),
    path("users/<str:user_id>", api.UserDetailApi.as_view(), name="api-user-detail"),
    path("sharedkeys", api_sharedkeys.SharedKeyCreateApi.as_view(), name="api-sharedkeys"),
    path("sharedkeys/<str:sharedkey_id>", api_sharedkeys.SharedKeySingleApi.as_view(), name="api-sharedkey"),
]
