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
    "status",
}
BIAS_KEYS = {"decisive_votes", "left_wins", "right_wins", "left_share", "ci_low", "ci_high", "p_value", "method"}
MODEL_KEYS = {"model", "votes", "requests", "raters", "effective_clusters", "position_bias", "pipelines", "differences"}
DIFFERENCE_KEYS = {"higher", "lower", "difference", "ci_low", "ci_high", "separated", "compared"}


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
    assert set(model) == MODEL_KEYS
    assert model["model"] == judged.name and model["votes"] == 7
    assert set(model["position_bias"]) == BIAS_KEYS
    assert model["position_bias"]["decisive_votes"] == 6
    good, bad = model["pipelines"]
    assert set(good) == PIPELINE_KEYS
    assert (good["name"], good["version"], good["wins"], good["ties"], good["losses"]) == ("good", "3", 6, 1, 0)
    assert good["rank"] == 1 and good["strength"] > bad["strength"]
    (difference,) = model["differences"]
    assert set(difference) == DIFFERENCE_KEYS
    assert (difference["higher"], difference["lower"]) == (good["id"], bad["id"])
    assert difference["ci_low"] <= difference["difference"] <= difference["ci_high"]
    # One rater judged every pair: the data cannot tell the two apart beyond that rater's taste.
    assert difference["separated"] is False and bad["rank"] == 1


def test_the_api_lists_active_pipelines_without_votes(client, judged, make_pipeline):
    make_pipeline(judged, "fresh")
    body = client.get("/api/v2/ratings/leaderboard").json()
    fresh = body["models"][0]["pipelines"][-1]
    assert set(fresh) == PIPELINE_KEYS
    assert fresh["name"] == "fresh" and fresh["status"] == "no votes yet"
    assert fresh["strength"] is None and fresh["rank"] is None and fresh["votes"] == 0


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


def test_the_page_lists_pipelines_without_votes_and_what_it_can_tell_apart(client, judged, make_pipeline):
    make_pipeline(judged, "fresh")
    html = " ".join(client.get("/ratings/leaderboard").content.decode().split())
    assert html.count('class="lb-unrated"') == 1 and "no votes yet" in html
    assert html.count('<circle class="point"') == 2  # nothing drawn for the pipeline without votes
    assert "No two pipelines can be told apart yet" in html
    assert "on 7 requests by 1 rater" in html


def test_the_page_names_the_pairs_the_data_tells_apart(
    client, make_model, make_pipeline, make_pair, make_vote, make_user
):
    model = make_model()
    good, bad = make_pipeline(model, "good"), make_pipeline(model, "bad")
    from . import factories

    raters = [factories.calibrated(make_user(f"judge{i}")[0]) for i in range(30)]  # their votes weigh in
    for rater in raters:
        for _ in range(2):
            request, left, right = make_pair(model, good, bad)
            make_vote(request, rater, left, right, "left")
    html = " ".join(client.get("/ratings/leaderboard").content.decode().split())
    assert "Told apart: good v1 over bad v1" in html


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
