"""GET /api/v2/ratings/leaderboard and the /ratings/leaderboard page."""

from __future__ import annotations

import pytest

from ratings.leaderboard import CACHE_KEY

pytestmark = pytest.mark.django_db

PIPELINE_KEYS = {
    "id",
    "name",
    "version",
    "strength",
    "ci_low",
    "ci_high",
    "rank",
    "votes",
    "wins",
    "ties",
    "both_bad",
    "losses",
    "win_rate",
}
BIAS_KEYS = {"decisive_votes", "left_wins", "right_wins", "left_share", "ci_low", "ci_high", "p_value"}


@pytest.fixture
def judged(make_model, make_pipeline, make_pair, make_vote, raters):
    model = make_model()
    good, bad = make_pipeline(model, "good", "3"), make_pipeline(model, "bad")
    for i in range(6):
        request, left, right = make_pair(model, good, bad)
        make_vote(request, raters[0], left, right, "left" if i else "tie")
    request, left, right = make_pair(model, bad, good)
    make_vote(request, raters[0], left, right, "right")
    return model


def test_the_api_answers_the_documented_shape(client, judged):
    response = client.get("/api/v2/ratings/leaderboard")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"models", "computed_at", "method"}
    (model,) = body["models"]
    assert set(model) == {"model", "votes", "position_bias", "pipelines"}
    assert model["model"] == judged.name and model["votes"] == 7
    assert set(model["position_bias"]) == BIAS_KEYS
    assert model["position_bias"]["decisive_votes"] == 6
    good, bad = model["pipelines"]
    assert set(good) == PIPELINE_KEYS
    assert (good["name"], good["version"], good["wins"], good["ties"], good["losses"]) == ("good", "3", 6, 1, 0)
    assert good["rank"] == 1 and good["strength"] > bad["strength"]


def test_the_api_is_public_and_empty_without_votes(client, db):
    response = client.get("/api/v2/ratings/leaderboard")
    assert response.status_code == 200
    assert response.json()["models"] == []


def test_the_api_serves_the_cached_board(client, judged):
    from django.core.cache import cache

    cache.set(CACHE_KEY, {"models": [], "computed_at": "2026-01-01T00:00:00+00:00", "method": {}})
    assert client.get("/api/v2/ratings/leaderboard").json()["computed_at"] == "2026-01-01T00:00:00+00:00"


def test_the_page_draws_a_chart_and_a_table(client, judged):
    response = client.get("/ratings/leaderboard")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('<svg class="lb-chart"') == 1
    assert html.count('<line class="ci"') == 2 and html.count('<circle class="point"') == 2
    assert "#1 good v3" in html and "bad" in html
    assert "Position bias" in html and "decisive" in html
    assert "<table" in html


def test_the_page_says_so_when_there_are_no_votes(client, db):
    response = client.get("/ratings/leaderboard")
    assert response.status_code == 200
    assert "No votes yet" in response.content.decode()


def test_the_chart_puts_stronger_pipelines_further_right(judged):
    from ratings.leaderboard import leaderboard_compute
    from ratings.views_leaderboard import chart_geometry

    chart = chart_geometry(leaderboard_compute(rounds=20)["models"][0])
    good, bad = chart["bars"]
    assert good["x"] > bad["x"]
    for bar in chart["bars"]:
        assert chart["label_width"] <= bar["x_low"] <= bar["x"] <= bar["x_high"] <= chart["plot_right"]
