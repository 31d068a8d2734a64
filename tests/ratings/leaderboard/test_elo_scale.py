"""The leaderboard's Elo-like arena score: the same fit in other units (1000 at the mean,
400 points per factor 10 in the odds), intervals carried over, nothing for a pipeline without votes."""

from __future__ import annotations

import math
import re

import pytest
from django.core.cache import cache
from django.test import Client

from ratings.leaderboard import CACHE_KEY
from ratings.views_leaderboard import elo, with_elo
from tests.ratings.leaderboard import factories


def test_the_scale_puts_the_mean_at_1000_and_400_points_at_ten_to_one_odds():
    assert elo(0.0) == 1000
    assert elo(math.log(10)) == 1400 and elo(-math.log(10)) == 600
    assert elo(None) is None
    # The odds the fit gives and the odds the score gives agree: 100 points is about 64%.
    for strength in (0.25, 0.5756, 1.3):
        fit = 1 / (1 + math.exp(-strength))
        score = 1 / (1 + 10 ** (-(elo(strength) - 1000) / 400))
        assert abs(fit - score) < 0.002
    assert elo(0.5756) == 1100 and round(1 / (1 + math.exp(-0.5756)), 2) == 0.64


def test_each_row_gets_its_score_and_interval_and_an_unrated_one_gets_none():
    board = {
        "pipelines": [
            {"strength": 0.5, "ci_low": 0.1, "ci_high": 0.9},
            {"strength": None, "ci_low": None, "ci_high": None},
        ]
    }
    rated, unrated = with_elo(board)
    assert (rated["elo"], rated["elo_low"], rated["elo_high"]) == (1087, 1017, 1156)
    assert rated["elo_low"] <= rated["elo"] <= rated["elo_high"]
    assert unrated["elo"] is None


@pytest.mark.django_db
def test_the_page_shows_the_arena_score_beside_the_strength(make_user):
    cache.delete(CACHE_KEY)
    owner, rater = make_user("owner")[0], factories.calibrated(make_user("rater")[0])
    model = factories.make_model()
    strong, weak = factories.make_pipeline(model, "strong", "2"), factories.make_pipeline(model, "weak")
    for i in range(12):
        request, a, b = factories.make_pair(model, strong, weak, owner=owner)
        factories.make_vote(request, rater, a, b, "left" if i % 4 else "right")
    try:
        html = Client().get("/ratings/leaderboard").content.decode()
        assert "Arena score" in html and "10-to-1 odds" in html
        scores = [int(x) for x in re.findall(r'class="num lb-elo"[^>]*><strong>(-?\d+)</strong>', html)]
        assert len(scores) == 2 and scores[0] > 1000 > scores[1]
        assert abs((scores[0] + scores[1]) / 2 - 1000) <= 1  # two pipelines around their mean
    finally:
        cache.delete(CACHE_KEY)
