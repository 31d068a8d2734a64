"""The leaderboard from the database: which votes count, how pipelines are told apart, the cache and the task."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from ratings.leaderboard import CACHE_KEY, leaderboard_cached, leaderboard_compute

pytestmark = pytest.mark.django_db


@pytest.fixture
def sdxl(make_model, make_pipeline):
    model = make_model()
    return model, make_pipeline(model, "base"), make_pipeline(model, "refiner"), make_pipeline(model, "turbo")


def cast(make_pair, make_vote, model, winner, loser, rater, times, *, choice="left", **fields):
    """`times` votes, each on a fresh pair showing `winner` left and `loser` right."""
    votes = []
    for _ in range(times):
        request, left, right = make_pair(model, winner, loser)
        votes.append(make_vote(request, rater, left, right, choice, **fields))
    return votes


@pytest.fixture
def base_votes(sdxl, make_pair, make_vote, raters):
    """base > refiner > turbo, with a few upsets and ties."""
    model, base, refiner, turbo = sdxl
    rater = raters[0]
    cast(make_pair, make_vote, model, base, refiner, rater, 8)
    cast(make_pair, make_vote, model, refiner, base, rater, 2)
    cast(make_pair, make_vote, model, refiner, turbo, rater, 8)
    cast(make_pair, make_vote, model, base, turbo, rater, 9)
    cast(make_pair, make_vote, model, turbo, base, rater, 1, choice="right")
    cast(make_pair, make_vote, model, turbo, refiner, rater, 2, choice="tie")
    return sdxl


def names(board, model_index=0, *, voted_only=True):
    rows = board["models"][model_index]["pipelines"]
    return [(row["name"], row["version"]) for row in rows if row["votes"] or not voted_only]


def test_pipelines_are_ranked_by_strength_with_counts(base_votes):
    board = leaderboard_compute(rounds=100)
    (model,) = board["models"]
    assert model["model"] == "SDXL_beta::stability.ai#6901"
    assert model["votes"] == 30
    assert names(board) == [("base", "1"), ("refiner", "1"), ("turbo", "1")]
    base, refiner, turbo = model["pipelines"]
    assert base["strength"] > refiner["strength"] > turbo["strength"]
    assert base["ci_low"] <= base["strength"] <= base["ci_high"]
    assert base["rank"] == 1
    # base: 8 + 9 + 1 (turbo shown left, right won) wins, 2 losses, no ties.
    assert (base["votes"], base["wins"], base["losses"], base["ties"]) == (20, 18, 2, 0)
    assert base["win_rate"] == 0.9
    # turbo: 2 ties count half in the win rate.
    assert (turbo["votes"], turbo["wins"], turbo["ties"], turbo["losses"]) == (20, 0, 2, 18)
    assert turbo["win_rate"] == pytest.approx(0.05)


def test_excluded_raters_and_retracted_votes_change_nothing(base_votes, make_pair, make_vote, make_user, raters):
    from ratings.models import RaterTrust

    from .factories import calibrated

    model, base, refiner, turbo = base_votes
    before = leaderboard_compute(rounds=50)
    spammer = calibrated(make_user("spammer")[0], excluded=True, score=0.1)
    # The excluded rater and a retracted streak both say turbo beats everyone, many times.
    cast(make_pair, make_vote, model, turbo, base, spammer, 15)
    cast(make_pair, make_vote, model, turbo, refiner, spammer, 15)
    cast(make_pair, make_vote, model, turbo, base, raters[1], 15, retracted_at=timezone.now())
    after = leaderboard_compute(rounds=50)
    assert after["models"] == before["models"]

    # The guard is what kept them out: lifting the exclusion moves turbo up.
    RaterTrust.objects.filter(user=spammer).update(excluded=False, score=1.0)
    lifted = leaderboard_compute(rounds=50)
    assert lifted["models"][0]["votes"] == 60
    assert lifted["models"][0]["pipelines"][0]["name"] == "turbo"


def test_versions_of_one_pipeline_are_ranked_apart(sdxl, make_pipeline, make_pair, make_vote, raters):
    model, base, _, _ = sdxl
    base_v2 = make_pipeline(model, "base", "2")
    cast(make_pair, make_vote, model, base_v2, base, raters[0], 6)
    board = leaderboard_compute(rounds=20)
    assert names(board) == [("base", "2"), ("base", "1")]


def test_each_model_has_its_own_board(sdxl, make_model, make_pipeline, make_pair, make_vote, raters):
    model, base, refiner, _ = sdxl
    other = make_model("Another_model")
    fast, slow = make_pipeline(other, "fast"), make_pipeline(other, "slow")
    cast(make_pair, make_vote, model, base, refiner, raters[0], 3)
    cast(make_pair, make_vote, other, slow, fast, raters[0], 4, choice="right")
    board = leaderboard_compute(rounds=20)
    assert [m["model"] for m in board["models"]] == ["Another_model", "SDXL_beta::stability.ai#6901"]
    assert names(board, 0) == [("fast", "1"), ("slow", "1")] and board["models"][0]["votes"] == 4
    assert names(board, 1) == [("base", "1"), ("refiner", "1")] and board["models"][1]["votes"] == 3
    assert names(board, 1, voted_only=False) == [("base", "1"), ("refiner", "1"), ("turbo", "1")]


def test_votes_between_images_of_one_pipeline_are_not_comparisons(sdxl, make_pair, make_vote, raters):
    model, base, refiner, _ = sdxl
    cast(make_pair, make_vote, model, base, base, raters[0], 5)
    cast(make_pair, make_vote, model, base, refiner, raters[0], 1)
    assert leaderboard_compute(rounds=10)["models"][0]["votes"] == 1


def test_the_position_bias_comes_from_the_shown_order(sdxl, make_pair, make_vote, raters):
    model, base, refiner, _ = sdxl
    # Equal pipelines, but whichever is shown left wins 9 times in 10.
    cast(make_pair, make_vote, model, base, refiner, raters[0], 9)
    cast(make_pair, make_vote, model, refiner, base, raters[0], 9)
    cast(make_pair, make_vote, model, base, refiner, raters[0], 1, choice="right")
    cast(make_pair, make_vote, model, refiner, base, raters[0], 1, choice="right")
    model_board = leaderboard_compute(rounds=50)["models"][0]
    bias = model_board["position_bias"]
    assert (bias["left_wins"], bias["right_wins"], bias["left_share"]) == (18, 2, 0.9)
    assert bias["p_value"] < 0.001 and bias["ci_low"] > 0.5
    assert [row["rank"] for row in model_board["pipelines"]] == [1, 1, None]  # turbo: no votes yet


def test_no_votes_gives_an_empty_board(db):
    board = leaderboard_compute()
    assert board["models"] == [] and board["computed_at"]


def test_the_task_fills_the_cache(base_votes):
    from ratings.tasks import leaderboard_refresh

    assert cache.get(CACHE_KEY) is None
    assert leaderboard_refresh() == 1
    cached = cache.get(CACHE_KEY)
    assert names(cached) == [("base", "1"), ("refiner", "1"), ("turbo", "1")]
    assert cached["method"]["bootstrap_rounds"] == settings.LEADERBOARD_BOOTSTRAP_ROUNDS


def test_readers_use_the_cache_and_compute_on_a_miss(base_votes):
    assert leaderboard_cached()["models"][0]["votes"] == 30  # a miss: computed and stored
    assert cache.get(CACHE_KEY)["models"][0]["votes"] == 30
    cache.set(CACHE_KEY, {"models": [], "computed_at": "2026-01-01T00:00:00+00:00", "method": {}})
    assert leaderboard_cached()["models"] == []  # a hit: served as stored


def test_celery_beat_recomputes_the_leaderboard_on_the_housekeeping_queue():
    from horde_site.celery import app
    from ratings.tasks import leaderboard_refresh

    entry = settings.CELERY_BEAT_SCHEDULE["ratings-leaderboard-refresh"]
    assert entry["task"] == leaderboard_refresh.name
    assert entry["task"] in app.tasks
    assert entry["options"]["queue"] == "housekeeping" and leaderboard_refresh.queue == "housekeeping"


def test_computing_reads_a_fixed_number_of_queries_however_many_votes(
    base_votes, make_pair, make_vote, raters, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    model, base, _, turbo = base_votes

    with CaptureQueriesContext(connection) as before:
        leaderboard_compute(rounds=5)
    cast(make_pair, make_vote, model, turbo, base, raters[1], 10)
    with django_assert_num_queries(len(before.captured_queries)):
        assert leaderboard_compute(rounds=5)["models"][0]["votes"] == 40


def test_every_active_pipeline_is_listed_and_those_without_votes_say_so(
    sdxl, make_pipeline, make_pair, make_vote, raters
):
    model, base, refiner, _ = sdxl
    retired = make_pipeline(model, "retired")
    retired.active = False
    retired.save()
    cast(make_pair, make_vote, model, base, refiner, raters[0], 3)
    (board,) = leaderboard_compute(rounds=20)["models"]
    rows = {row["name"]: row for row in board["pipelines"]}
    assert set(rows) == {"base", "refiner", "turbo"}  # an inactive pipeline without votes is not listed
    assert rows["turbo"]["status"] == "no votes yet" and rows["turbo"]["votes"] == 0
    assert rows["turbo"]["strength"] is None and rows["turbo"]["ci_low"] is None and rows["turbo"]["rank"] is None
    assert rows["base"]["status"] == "ranked" and rows["base"]["strength"] is not None
    assert [row["name"] for row in board["pipelines"]][-1] == "turbo"  # after the ranked ones
    # Only pipelines with votes are centred and compared.
    assert rows["base"]["strength"] + rows["refiner"]["strength"] == pytest.approx(0, abs=1e-3)
    assert [(d["higher"], d["lower"]) for d in board["differences"]] == [(base.pk, refiner.pk)]


def test_a_comparison_model_without_any_votes_lists_its_pipelines(sdxl):
    (board,) = leaderboard_compute(rounds=20)["models"]
    assert board["votes"] == 0 and board["differences"] == []
    assert {row["status"] for row in board["pipelines"]} == {"no votes yet"}
    assert board["position_bias"]["decisive_votes"] == 0


def test_an_inactive_pipeline_with_votes_stays_on_the_board(sdxl, make_pair, make_vote, raters):
    model, base, refiner, _ = sdxl
    cast(make_pair, make_vote, model, base, refiner, raters[0], 3)
    refiner.active = False
    refiner.save()
    (board,) = leaderboard_compute(rounds=20)["models"]
    assert {row["name"]: row["votes"] for row in board["pipelines"]} == {"base": 3, "refiner": 3, "turbo": 0}


def test_gold_and_control_answers_never_count_as_preferences(base_votes, make_pair, make_vote, raters):
    model, base, _, turbo = base_votes
    before = leaderboard_compute(rounds=50)
    # Check answers all saying turbo is best: flagged, so they change nothing.
    cast(make_pair, make_vote, model, turbo, base, raters[1], 15, is_check=True)
    assert leaderboard_compute(rounds=50)["models"] == before["models"]
    # Without the flag the same votes would move turbo to the top.
    from ratings.models import Vote

    Vote.objects.filter(is_check=True).update(is_check=False)
    assert leaderboard_compute(rounds=50)["models"][0]["votes"] == 45


def test_each_vote_weighs_its_raters_weight(base_votes, make_pair, make_vote, raters, monkeypatch):
    from ratings import leaderboard

    model, base, _, turbo = base_votes
    cast(make_pair, make_vote, model, turbo, base, raters[1], 20)
    counted = leaderboard_compute(rounds=20)["models"][0]
    asked = []

    def weights(*, rater_ids):
        asked.append(rater_ids)
        return {raters[0].pk: 1.0, raters[1].pk: 0.0}

    monkeypatch.setattr(leaderboard, "vote_weights", weights)
    muted = leaderboard_compute(rounds=20)["models"][0]
    assert asked == [None]  # every rater's weight, read once
    monkeypatch.undo()
    # Weight 0: as if rater 1 had never voted (counts included).
    from ratings.models import Vote

    Vote.objects.filter(rater=raters[1]).update(retracted_at=timezone.now())
    without = leaderboard_compute(rounds=20)["models"][0]
    assert muted == without and muted["votes"] == 30 and counted["votes"] == 50

    monkeypatch.setattr(
        leaderboard, "vote_weights", lambda *, rater_ids: dict.fromkeys([raters[0].pk, raters[1].pk], 3.0)
    )
    scaled = leaderboard_compute(rounds=20)["models"][0]
    # Weighing every vote alike changes no strength (only the prior's tiny pull).
    for row, plain in zip(scaled["pipelines"], without["pipelines"], strict=True):
        assert row["strength"] == pytest.approx(plain["strength"], abs=5e-3)


def test_the_board_says_how_many_requests_and_raters_stand_behind_it(base_votes):
    (board,) = leaderboard_compute(rounds=20)["models"]
    assert (board["votes"], board["requests"], board["raters"]) == (30, 30, 1)
    assert board["effective_clusters"] == 1.0
    # One rater: nothing can be told apart beyond that rater's own taste.
    assert {row["rank"] for row in board["pipelines"]} == {1}
    assert all(not d["separated"] for d in board["differences"])
