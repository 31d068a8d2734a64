"""The leaderboard page describes the defence against rigging, with this site's figures."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from ratings.leaderboard import CACHE_KEY

pytestmark = pytest.mark.django_db


def test_the_page_says_what_is_weighed_calibration_caps_flagging_and_the_limits(client, settings):
    settings.RATINGS_CALIBRATION_CHECKS = 4
    settings.RATINGS_CALIBRATION_PAIRS = 12
    settings.RATINGS_RATER_FULL_VOTES_PER_MODEL = 40
    settings.RATINGS_ARENA_MAX_VOTES_PER_MINUTE = 9
    cache.delete(CACHE_KEY)
    html = client.get("/ratings/leaderboard").content.decode()
    for text in (
        "How votes are weighed",
        "What is weighed.",
        "first 12",
        "at least 4 check items",
        "beyond 40",
        "at most 9 a minute",
        "Flagging.",
        "binomial test",
        "What it cannot stop.",
        "Patient sybils",
    ):
        assert text in html, text


def test_the_page_says_so_when_calibration_is_off(client, settings):
    settings.RATINGS_CALIBRATION_CHECKS = 0
    cache.delete(CACHE_KEY)
    assert "Off on this site" in client.get("/ratings/leaderboard").content.decode()
