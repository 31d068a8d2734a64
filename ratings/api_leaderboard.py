"""GET /api/v2/ratings/leaderboard: the pipeline leaderboard as JSON (public, read-only)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .leaderboard import leaderboard_cached
from .schema import LeaderboardSerializer


class LeaderboardApi(APIView):
    """Pipelines of each model ranked by Bradley-Terry strength on the counted votes.

    Served from the cache the periodic task fills (computed on a miss). Counted votes:
    live, raters not excluded, gold/control answers left out, each weighed by its rater's
    weight. Every active pipeline of a comparison model is listed; those without votes
    come last with nulls and "status": "no votes yet". Shape::

        {
          "models": [
            {
              "model": "SDXL_beta::stability.ai#6901",
              "votes": 1234,                      # counted votes comparing two pipelines
              "requests": 700, "raters": 45,      # the clusters the bootstrap resamples
              "effective_clusters": 21.3,         # the fewer of the two, by Kish's effective count
              "position_bias": {                  # decisive votes only (left/right)
                "decisive_votes": 1100, "left_wins": 580, "right_wins": 520,
                "left_share": 0.527, "ci_low": 0.49, "ci_high": 0.56,   # 95%, cluster bootstrap
                "p_value": 0.21,                  # two-sided, against 0.5
                "method": "cluster bootstrap (requests x raters)"
              },
              "pipelines": [                      # by rank, then strength; then those without votes
                {"id": 3, "name": "refiner", "version": "2", "status": "ranked",
                 "strength": 0.41, "ci_low": 0.30, "ci_high": 0.52,       # log-odds, mean 0; 95% bootstrap
                 "rank": 1,                       # 1 + pipelines on higher ranks (see "differences")
                 "votes": 800, "wins": 430, "ties": 90, "both_bad": 40, "losses": 280,
                 "win_rate": 0.59},               # (wins + ties/2) / votes; ties include both_bad
                {"id": 5, "name": "turbo", "version": "1", "status": "no votes yet",
                 "strength": null, "ci_low": null, "ci_high": null, "rank": null,
                 "votes": 0, "wins": 0, "ties": 0, "both_bad": 0, "losses": 0, "win_rate": null}
              ],
              "differences": [                    # every pair of ranked pipelines, higher listed first
                {"higher": 3, "lower": 4, "difference": 0.62,
                 "ci_low": 0.21, "ci_high": 1.05, # 95% bootstrap interval of the difference
                 "separated": true,               # the interval excludes 0
                 "compared": true}                # linked by comparisons (else never separated)
              ]
            }
          ],
          "computed_at": "2026-11-25T21:30:00+00:00",
          "method": {"model": "bradley-terry", "bootstrap_rounds": 200, "seed": ..., ...}
        }

    A new rank starts only where every pipeline above is separated from (surely better
    than) every pipeline below, so different ranks are always told apart by the data.
    """

    authentication_classes: list = []  # public: no apikey needed, and a stale one is not an error here

    @extend_schema(operation_id="ratings_leaderboard", tags=["ratings"], responses={200: LeaderboardSerializer})
    def get(self, request: Request) -> Response:
        return Response(leaderboard_cached())
