"""The leaderboard's maths on synthetic votes (no database)."""

from __future__ import annotations

import numpy as np
import pytest

from ratings.leaderboard import ModelVotes, fit_strengths, interval_ranks, position_bias, rank_model, win_matrix

TRUE = np.array([1.0, 0.2, -1.2])  # pipeline 0 strongest, then 1, then 2


def simulate(true: np.ndarray, votes: int, *, seed: int, left_boost: float = 0.0, tie_share: float = 0.0):
    """Votes between random pairs, won by Bradley-Terry odds (plus an optional bonus for the left image)."""
    rng = np.random.default_rng(seed)
    table = ModelVotes(pipelines=list(range(len(true))))
    for _ in range(votes):
        left, right = rng.choice(len(true), size=2, replace=False)
        if rng.random() < tie_share:
            table.add(left, right, "tie")
            continue
        p_left = 1 / (1 + np.exp(-(true[left] - true[right] + left_boost)))
        table.add(left, right, "left" if rng.random() < p_left else "right")
    return table


def test_it_recovers_the_true_ordering_from_simulated_votes():
    result = rank_model(simulate(TRUE, 1500, seed=7), rounds=200, seed=1)
    assert list(np.argsort(-result["strength"])) == [0, 1, 2]
    assert list(result["rank"]) == [1, 2, 3]
    centred = TRUE - TRUE.mean()
    # Each true (centred) strength lies inside its 95% interval, and the intervals are ordered.
    assert np.all(result["ci_low"] <= centred) and np.all(centred <= result["ci_high"])
    assert result["ci_low"][0] > result["ci_high"][1] and result["ci_low"][1] > result["ci_high"][2]
    assert np.allclose(result["strength"], centred, atol=0.2)


def test_the_same_votes_and_seed_give_the_same_intervals():
    table = simulate(TRUE, 300, seed=3)
    first = rank_model(table, rounds=50, seed=5)
    again = rank_model(table, rounds=50, seed=5)
    other_seed = rank_model(table, rounds=50, seed=6)
    assert np.array_equal(first["ci_low"], again["ci_low"]) and np.array_equal(first["ci_high"], again["ci_high"])
    assert not np.array_equal(first["ci_low"], other_seed["ci_low"])


def test_a_tie_counts_as_half_a_win_each_way():
    pairs = np.array([[0, 1]])
    with_ties = win_matrix(pairs, np.array([[3, 1, 2]]), 2)
    as_half_wins = win_matrix(pairs, np.array([[4, 2, 0]]), 2)
    assert np.array_equal(with_ties, as_half_wins)
    assert with_ties[0, 1] == 4 and with_ties[1, 0] == 2


def test_both_bad_counts_like_a_tie():
    tied, both_bad = ModelVotes(pipelines=[10, 11]), ModelVotes(pipelines=[10, 11])
    for table, draw in ((tied, "tie"), (both_bad, "both_bad")):
        for _ in range(5):
            table.add(0, 1, "left")
        for _ in range(4):
            table.add(1, 0, draw)
    tied_result = rank_model(tied, rounds=20, seed=1)
    bad_result = rank_model(both_bad, rounds=20, seed=1)
    assert np.array_equal(tied_result["strength"], bad_result["strength"])
    assert list(bad_result["ties"]) == [4, 4] and list(bad_result["both_bad"]) == [4, 4]
    assert list(tied_result["both_bad"]) == [0, 0]


def test_only_ties_give_equal_strengths():
    strengths = fit_strengths(win_matrix(np.array([[0, 1]]), np.array([[0, 0, 10]]), 2))
    assert strengths == pytest.approx([0.0, 0.0], abs=1e-6)


def test_strengths_follow_the_odds_of_the_wins():
    # 3 wins to 1: the log-odds difference is log(3) (the tiny prior shrinks it only slightly).
    strengths = fit_strengths(win_matrix(np.array([[0, 1]]), np.array([[30, 10, 0]]), 2))
    assert strengths[0] - strengths[1] == pytest.approx(np.log(3), rel=1e-3)


def test_a_pipeline_that_never_lost_keeps_a_finite_strength():
    strengths = fit_strengths(win_matrix(np.array([[0, 1]]), np.array([[20, 0, 0]]), 2))
    assert np.all(np.isfinite(strengths)) and strengths[0] > strengths[1]


def test_overlapping_intervals_share_a_rank():
    ci_low = np.array([0.5, 0.3, -1.0, -1.1])
    ci_high = np.array([0.9, 0.6, -0.4, -0.2])
    # 0 and 1 overlap; 2 and 3 overlap each other but both lie below 0 and 1.
    assert list(interval_ranks(ci_low, ci_high)) == [1, 1, 3, 3]


def test_two_equally_good_pipelines_share_the_first_rank():
    result = rank_model(simulate(np.array([0.8, 0.8, -1.5]), 1200, seed=11), rounds=200, seed=2)
    assert list(result["rank"]) == [1, 1, 3]


def test_position_bias_detects_an_injected_left_bias():
    biased = rank_model(simulate(np.zeros(3), 1000, seed=4, left_boost=0.6), rounds=0, seed=1)["position_bias"]
    assert biased["left_share"] > 0.6
    assert biased["ci_low"] > 0.5
    assert biased["p_value"] < 1e-6


def test_position_bias_stays_quiet_without_a_bias():
    fair = rank_model(simulate(TRUE, 1000, seed=4), rounds=0, seed=1)["position_bias"]
    assert fair["ci_low"] < 0.5 < fair["ci_high"]
    assert fair["p_value"] > 0.05


def test_position_bias_ignores_ties_and_handles_no_decisive_votes():
    table = simulate(TRUE, 50, seed=1, tie_share=1.0)
    bias = rank_model(table, rounds=10, seed=1)["position_bias"]
    assert bias["decisive_votes"] == 0 and bias["left_share"] is None and bias["p_value"] is None
    assert position_bias(7, 3)["left_share"] == 0.7
