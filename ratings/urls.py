"""Page URLs of the ratings app."""

from __future__ import annotations

from django.urls import path

from . import views

app_name = "ratings"

urlpatterns = [
    path("judge/<uuid:request_id>", views.judge, name="judge"),
    path("arena", views.arena, name="arena"),
]
