"""The leaderboard's maths on synthetic votes (no database)."""

from __future__ import annotations

import numpy as np
import pytest

from ratings.leaderboard_stats import (
    BOOTSTRAP_CHUNK,
    CHOICE_CODES,
    LEFT,
    RIGHT,
    TIE,
    _draw_with_replacement,
    bootstrap,
    effective_clusters,
    few_cluster_factor,
    fit_strengths,
    position_bias,
    rank_model,
    tier_ranks,
    vote_arrays,
    win_matrix,
)

TRUE = np.array([1.0, 0.2, -1.2])  # pipeline 0 strongest, then 1, then 2


def simulate(true: np.ndarray, votes: int, *, seed: int, left_boost: float = 0.0, tie_share: float = 0.0, raters=200):
    """Independent votes between random pairs, won by Bradley-Terry odds (plus an optional
    bonus for the left image); each vote on its own request, spread over many raters."""
    rng = np.random.default_rng(seed)
    left, right, choice = [], [], []
    for _ in range(votes):
        a, b = rng.choice(len(true), size=2, replace=False)
        left.append(a)
        right.append(b)
        if rng.random() < tie_share:
            choice.append(TIE)
            continue
        p_left = 1 / (1 + np.exp(-(true[a] - true[b] + left_boost)))
        choice.append(LEFT if rng.random() < p_left else RIGHT)
    return vote_arrays(
        size=len(true),
        left=left,
        right=right,
        choice=choice,
        request=np.arange(votes),
        rater=rng.integers(0, raters, votes),
    )


def pairwise(counts: dict[tuple[int, int, str], int], size: int = 2, **extra):
    """Votes from {(left, right, choice): how many}, each on its own request and by its own rater."""
    left, right, choice = [], [], []
    for (a, b, c), n in counts.items():
        left += [a] * n
        right += [b] * n
        choice += [c] * n
    total = len(choice)
    return vote_arrays(
        size=size, left=left, right=right, choice=choice, request=range(total), rater=range(total), **extra
    )


def test_it_recovers_the_true_ordering_from_simulated_votes():
    result = rank_model(simulate(TRUE, 1500, seed=7), rounds=200, seed=1)
    assert list(np.argsort(-result["strength"])) == [0, 1, 2]
    assert list(result["rank"]) == [1, 2, 3]
    centred = TRUE - TRUE.mean()
    # Each true (centred) strength lies inside its 95% interval, and every difference is separated.
    assert np.all(result["ci_low"] <= centred) and np.all(centred <= result["ci_high"])
    assert result["better"][0, 1] and result["better"][1, 2] and result["better"][0, 2]
    assert result["diff_low"][0, 1] > 0 and result["diff_high"][1, 0] < 0
    assert np.allclose(result["strength"], centred, atol=0.2)


def test_the_same_votes_and_seed_give_the_same_intervals():
    table = simulate(TRUE, 300, seed=3)
    first = rank_model(table, rounds=50, seed=5)
    again = rank_model(table, rounds=50, seed=5)
    other_seed = rank_model(table, rounds=50, seed=6)
    assert np.array_equal(first["ci_low"], again["ci_low"]) and np.array_equal(first["ci_high"], again["ci_high"])
    assert not np.array_equal(first["ci_low"], other_seed["ci_low"])


def test_the_order_the_votes_arrive_in_changes_nothing():
    table = simulate(TRUE, 300, seed=3)
    flip = np.random.default_rng(0).permutation(table.votes)
    shuffled = vote_arrays(
        size=3,
        left=table.left[flip],
        right=table.right[flip],
        choice=table.choice[flip],
        request=table.request[flip],
        rater=table.rater[flip],
    )
    assert np.array_equal(
        rank_model(table, rounds=30, seed=2)["ci_low"], rank_model(shuffled, rounds=30, seed=2)["ci_low"]
    )


def test_a_bootstrap_round_counts_each_vote_request_times_rater_multiplicity_times_its_weight():
    """The bootstrap sums the votes as bilinear forms over the requests x raters table; the same
    draws counted vote by vote (the pigeonhole definition) give the same rounds."""
    rng = np.random.default_rng(11)
    count = 3000
    left = rng.integers(0, 3, count)
    votes = vote_arrays(
        size=3,
        left=left,
        right=(left + rng.integers(1, 3, count)) % 3,
        choice=rng.integers(0, 4, count),
        request=rng.integers(0, 400, count),
        rater=rng.integers(0, 60, count),
        weight=rng.random(count) + 0.1,
    )
    rounds = BOOTSTRAP_CHUNK + 10  # two chunks, the second one short
    strengths, shares = bootstrap(votes, rounds=rounds, rng=np.random.default_rng(5))
    draws = np.random.default_rng(5)
    expected_strengths, expected_shares = [], []
    for start in range(0, rounds, BOOTSTRAP_CHUNK):
        size = min(BOOTSTRAP_CHUNK, rounds - start)
        requests = _draw_with_replacement(votes.requests, rounds=size, rng=draws)
        raters = _draw_with_replacement(votes.raters, rounds=size, rng=draws)
        times = requests[:, votes.request] * raters[:, votes.rater]
        expected_strengths.append(fit_strengths(win_matrix(votes, times * votes.weight)))
        expected_shares.append((times @ (votes.choice == LEFT)) / (times @ (votes.choice <= RIGHT)))
    np.testing.assert_allclose(strengths, np.concatenate(expected_strengths), atol=1e-9)
    np.testing.assert_allclose(shares, np.concatenate(expected_shares), atol=1e-12)
    assert strengths.shape == (rounds, 3) and np.ptp(strengths[:, 0]) > 0  # the rounds do differ


def test_a_tie_counts_as_half_a_win_each_way():
    with_ties = win_matrix(pairwise({(0, 1, "left"): 3, (0, 1, "right"): 1, (0, 1, "tie"): 2}))
    as_half_wins = win_matrix(pairwise({(0, 1, "left"): 4, (0, 1, "right"): 2}))
    assert np.array_equal(with_ties, as_half_wins)
    assert with_ties[0, 1] == 4 and with_ties[1, 0] == 2


def test_both_bad_counts_like_a_tie():
    tied = pairwise({(0, 1, "left"): 5, (1, 0, "tie"): 4})
    both_bad = pairwise({(0, 1, "left"): 5, (1, 0, "both_bad"): 4})
    tied_result = rank_model(tied, rounds=20, seed=1)
    bad_result = rank_model(both_bad, rounds=20, seed=1)
    assert np.array_equal(tied_result["strength"], bad_result["strength"])
    assert list(bad_result["ties"]) == [4, 4] and list(bad_result["both_bad"]) == [4, 4]
    assert list(tied_result["both_bad"]) == [0, 0]


def test_only_ties_give_equal_strengths():
    strengths = fit_strengths(win_matrix(pairwise({(0, 1, "tie"): 10})))
    assert strengths == pytest.approx([0.0, 0.0], abs=1e-6)


def test_strengths_follow_the_odds_of_the_wins():
    # 3 wins to 1: the log-odds difference is log(3) (the tiny prior shrinks it only slightly).
    strengths = fit_strengths(win_matrix(pairwise({(0, 1, "left"): 30, (0, 1, "right"): 10})))
    assert strengths[0] - strengths[1] == pytest.approx(np.log(3), rel=1e-3)


def test_a_batch_of_fits_equals_the_fits_one_by_one():
    rng = np.random.default_rng(4)
    batch = rng.integers(0, 40, (6, 4, 4)).astype(float)
    batch[:, np.arange(4), np.arange(4)] = 0
    together = fit_strengths(batch)
    for one, wins in zip(together, batch, strict=True):
        assert one == pytest.approx(fit_strengths(wins), abs=1e-8)


def test_a_pipeline_that_never_lost_keeps_a_finite_strength():
    strengths = fit_strengths(win_matrix(pairwise({(0, 1, "left"): 20})))
    assert np.all(np.isfinite(strengths)) and strengths[0] > strengths[1]


def test_votes_weigh_their_weight_and_weight_zero_does_not_count():
    heavy = pairwise({(0, 1, "left"): 10, (0, 1, "right"): 10}, weight=[2.0] * 10 + [1.0] * 10)
    assert fit_strengths(win_matrix(heavy))[0] - fit_strengths(win_matrix(heavy))[1] == pytest.approx(
        np.log(2), rel=1e-3
    )
    # Zero-weight votes are dropped: the same board as if they had never been cast.
    with_zero = pairwise({(0, 1, "left"): 10, (0, 1, "right"): 30}, weight=[1.0] * 20 + [0.0] * 20)
    without = pairwise({(0, 1, "left"): 10, (0, 1, "right"): 10})
    assert with_zero.votes == 20
    zero_result, plain_result = rank_model(with_zero, rounds=40, seed=3), rank_model(without, rounds=40, seed=3)
    assert np.array_equal(zero_result["ci_low"], plain_result["ci_low"])
    assert list(zero_result["losses"]) == list(plain_result["losses"]) == [10, 10]
    assert zero_result["position_bias"]["decisive_votes"] == 20


@pytest.mark.parametrize("weight", [-1.0, float("nan"), float("inf")])
def test_a_negative_or_non_finite_weight_is_refused(weight):
    with pytest.raises(ValueError, match="weights"):
        pairwise({(0, 1, "left"): 2}, weight=[1.0, weight])


def test_an_unknown_choice_is_refused():
    with pytest.raises(ValueError, match="unknown choice"):
        vote_arrays(size=2, left=[0], right=[1], choice=["maybe"], request=[1], rater=[1])
    assert set(CHOICE_CODES) == {"left", "right", "tie", "both_bad"}


def test_a_new_rank_starts_only_where_everyone_above_is_surely_better_than_everyone_below():
    strength = np.array([0.9, 0.6, 0.1, -1.6])
    better = np.zeros((4, 4), dtype=bool)
    # 0 beats 2 and 3 surely; 1 beats 3 surely; 2 beats 3 surely; 0 vs 1 and 1 vs 2 undecided.
    for i, j in [(0, 2), (0, 3), (1, 3), (2, 3)]:
        better[i, j] = True
    # No clean cut between 0, 1 and 2 (1 is undecided against both): they share rank 1.
    assert list(tier_ranks(strength, better)) == [1, 1, 1, 4]
    better[1, 2] = True
    # Now 0 still is not surely above 1, but {0, 1} are both surely above 2.
    assert list(tier_ranks(strength, better)) == [1, 1, 3, 4]


def test_pipelines_never_compared_with_each_other_are_not_told_apart():
    # 0 vs 1 and 2 vs 3, lopsided, but no vote links the two groups.
    votes = pairwise({(0, 1, "left"): 60, (0, 1, "right"): 5, (2, 3, "left"): 5, (2, 3, "right"): 60}, size=4)
    result = rank_model(votes, rounds=100, seed=1)
    assert result["better"][0, 1] and result["better"][3, 2]
    assert not result["linked"][0, 3] and not result["better"][0, 2] and not result["better"][0, 3]
    assert list(result["rank"]) == [1, 1, 1, 1]


def test_two_equally_good_pipelines_share_the_first_rank():
    result = rank_model(simulate(np.array([0.8, 0.8, -1.5]), 1200, seed=11), rounds=200, seed=2)
    assert list(result["rank"]) == [1, 1, 3]


def test_few_effective_raters_widen_the_intervals():
    # One rater casts most votes: the effective number of raters is small.
    votes = simulate(TRUE, 600, seed=5, raters=200)
    heavy = vote_arrays(
        size=3,
        left=votes.left,
        right=votes.right,
        choice=votes.choice,
        request=votes.request,
        rater=np.where(np.arange(600) < 400, 0, votes.rater),
    )
    assert effective_clusters(heavy) < 3 < effective_clusters(votes)
    assert few_cluster_factor(100) == pytest.approx(1.02, abs=0.005)
    assert few_cluster_factor(effective_clusters(heavy)) > 2
    wide, narrow = rank_model(heavy, rounds=100, seed=1), rank_model(votes, rounds=100, seed=1)
    assert np.all(wide["ci_high"] - wide["ci_low"] > narrow["ci_high"] - narrow["ci_low"])


def test_one_rater_alone_separates_nothing():
    votes = pairwise({(0, 1, "left"): 40, (0, 1, "right"): 2})
    alone = vote_arrays(
        size=2, left=votes.left, right=votes.right, choice=votes.choice, request=votes.request, rater=[7] * 42
    )
    result = rank_model(alone, rounds=50, seed=1)
    assert result["raters"] == 1 and result["effective_clusters"] == 1
    assert list(result["rank"]) == [1, 1] and not result["better"].any()
    assert result["strength"][0] > result["strength"][1]  # the point estimate is still shown


def test_position_bias_detects_an_injected_left_bias():
    biased = rank_model(simulate(np.zeros(3), 1000, seed=4, left_boost=0.6), rounds=200, seed=1)["position_bias"]
    assert biased["left_share"] > 0.6
    assert biased["ci_low"] > 0.5
    assert biased["p_value"] < 0.01
    assert biased["method"].startswith("cluster bootstrap")


def test_position_bias_stays_quiet_without_a_bias():
    fair = rank_model(simulate(TRUE, 1000, seed=4), rounds=200, seed=1)["position_bias"]
    assert fair["ci_low"] < 0.5 < fair["ci_high"]
    assert fair["p_value"] > 0.05


def test_position_bias_without_rounds_falls_back_to_the_binomial_test():
    biased = rank_model(simulate(np.zeros(3), 1000, seed=4, left_boost=0.6), rounds=0, seed=1)["position_bias"]
    assert biased["p_value"] < 1e-6 and biased["ci_low"] > 0.5
    assert "independent" in biased["method"]


def test_position_bias_ignores_ties_and_handles_no_decisive_votes():
    table = simulate(TRUE, 50, seed=1, tie_share=1.0)
    bias = rank_model(table, rounds=10, seed=1)["position_bias"]
    assert bias["decisive_votes"] == 0 and bias["left_share"] is None and bias["p_value"] is None
    assert position_bias(7, 3)["left_share"] == 0.7
