"""Page URLs of the accounts app (mounted at /profile/)."""

from __future__ import annotations

from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("", views.profile, name="profile"),
    path("rotate-key", views.apikey_rotate_view, name="rotate_key"),
    path("nsfw", views.nsfw_preference_view, name="nsfw"),
]
