"""Page URLs of the ratings app."""

from __future__ import annotations

from django.urls import path

from . import views_leaderboard

app_name = "ratings"

urlpatterns: list = [
    # --- leaderboard (leaderboard branch) ---
    path("leaderboard", views_leaderboard.leaderboard_page, name="leaderboard"),
]
