"""GET /api/v2/ratings/leaderboard: the pipeline leaderboard as JSON (public, read-only)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .leaderboard import leaderboard_cached


class LeaderboardApi(APIView):
    """Pipelines of each model ranked by Bradley-Terry strength on the counted votes.

    Served from the cache the periodic task fills (computed on a miss). Shape::

        {
          "models": [
            {
              "model": "SDXL_beta::stability.ai#6901",
              "votes": 1234,                      # counted votes comparing two pipelines
              "position_bias": {                  # decisive votes only (left/right)
                "decisive_votes": 1100, "left_wins": 580, "right_wins": 520,
                "left_share": 0.527, "ci_low": 0.498, "ci_high": 0.556,   # Wilson 95%
                "p_value": 0.075                  # exact binomial test against 0.5
              },
              "pipelines": [                      # by rank, then strength
                {"id": 3, "name": "refiner", "version": "2",
                 "strength": 0.41, "ci_low": 0.30, "ci_high": 0.52,       # log-odds, mean 0; 95% bootstrap
                 "rank": 1,                       # 1 + pipelines surely better (non-overlapping CIs)
                 "votes": 800, "wins": 430, "ties": 90, "both_bad": 40, "losses": 280,
                 "win_rate": 0.59}                # (wins + ties/2) / votes; ties include both_bad
              ]
            }
          ],
          "computed_at": "2026-11-25T21:30:00+00:00",
          "method": {"model": "bradley-terry", "bootstrap_rounds": 200, "seed": ..., ...}
        }
    """

    authentication_classes: list = []  # public: no apikey needed, and a stale one is not an error here

    @extend_schema(operation_id="ratings_leaderboard", responses={200: dict})
    def get(self, request: Request) -> Response:
        return Response(leaderboard_cached())
