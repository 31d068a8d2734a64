"""API URLs (/api/v2/...) of the ratings app; no trailing slashes, as on the AI Horde."""

from __future__ import annotations

from django.urls import path

from . import api_leaderboard

urlpatterns: list = [
    # --- leaderboard (leaderboard branch) ---
    path("ratings/leaderboard", api_leaderboard.LeaderboardApi.as_view(), name="ratings-leaderboard"),
]
