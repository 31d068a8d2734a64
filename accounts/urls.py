"""Page URLs of the accounts app (mounted at /profile/)."""

from __future__ import annotations

from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("", views.profile, name="profile"),
    path("rotate-key", views.apikey_rotate_view, name="rotate_key"),
    path("sharedkeys/create", views.shared_key_create_view, name="sharedkey_create"),
    path("sharedkeys/<uuid:handle>/edit", views.shared_key_edit_view, name="sharedkey_edit"),
    path("sharedkeys/<uuid:handle>/delete", views.shared_key_delete_view, name="sharedkey_delete"),
    path("nsfw", views.nsfw_preference_view, name="nsfw"),
]
