"""Page URLs of the ratings app."""

from __future__ import annotations

from django.urls import path

from . import views, views_exports, views_leaderboard

app_name = "ratings"

urlpatterns = [
    path("judge/<uuid:request_id>", views.judge, name="judge"),
    path("judge/<uuid:request_id>/panel", views.judge_panel, name="judge_panel"),
    path("arena", views.arena, name="arena"),
    path("leaderboard", views_leaderboard.leaderboard_page, name="leaderboard"),
    path("exports/<int:export_id>/download", views_exports.export_download, name="export_download"),
]
