"""API URLs (/api/v2/...) of the ratings app; no trailing slashes, as on the AI Horde."""

from __future__ import annotations

from django.urls import path

from . import api, api_leaderboard

urlpatterns = [
    path("generate/rate/<str:request_id>", api.RateOwnPairApi.as_view(), name="api-rate-own-pair"),
    path("generate/rate/<str:request_id>/reveal", api.PairRevealApi.as_view(), name="api-rate-own-pair-reveal"),
    path("ratings/arena/next", api.ArenaNextApi.as_view(), name="api-arena-next"),
    path("ratings/arena/<uuid:assignment_id>", api.ArenaVoteApi.as_view(), name="api-arena-vote"),
    path("ratings/arena/<uuid:assignment_id>/skip", api.ArenaSkipApi.as_view(), name="api-arena-skip"),
    path("ratings/arena/<uuid:assignment_id>/undo", api.ArenaUndoApi.as_view(), name="api-arena-undo"),
    path("ratings/leaderboard", api_leaderboard.LeaderboardApi.as_view(), name="ratings-leaderboard"),
]
