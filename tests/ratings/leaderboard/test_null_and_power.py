"""Honest statistics: equal pipelines are rarely ranked apart, a real difference is still found.

Simulated arenas with clustered votes (tests/ratings/leaderboard/simulation.py): 300 requests,
15 raters of very uneven activity with their own taste and left habit, per-request
effects, owner and arena votes (about 600 votes a board). Seeded, so the figures are
exact and repeatable; measured on this simulation (200 boards each):
- cluster bootstrap + ranks from differences: 3 of 200 equal pairs ranked apart (1.5%);
- the old vote-level bootstrap + overlapping intervals: 93 of 200 (46.5%);
- a true difference of 1.0 log-odds (73% of head-to-heads for the average rater and prompt)
  is found in 77 of 100 boards, never the wrong way round.
"""

from __future__ import annotations

from ratings.leaderboard_stats import rank_model

from .simulation import Arena, simulate, vote_level_ranks

BOARDS = 200
ROUNDS = 200
NULL = Arena(strengths=(0.0, 0.0))


def ranked_apart(ranks) -> bool:
    return ranks[0] != ranks[1]


def test_two_equal_pipelines_are_ranked_apart_in_at_most_5_percent_of_boards():
    apart = sum(
        ranked_apart(rank_model(simulate(NULL, seed=seed), rounds=ROUNDS, seed=seed)["rank"]) for seed in range(BOARDS)
    )
    print(f"cluster bootstrap: {apart} of {BOARDS} equal pairs ranked apart")
    assert apart <= 0.05 * BOARDS


def test_without_the_cluster_bootstrap_the_same_boards_rank_equal_pipelines_apart_far_more_often():
    # The same simulated boards, bootstrapped over single votes as the leaderboard used to:
    # the null test above can fail, and does for a method that ignores the clusters.
    apart = sum(
        ranked_apart(vote_level_ranks(simulate(NULL, seed=seed), rounds=ROUNDS, seed=seed)) for seed in range(BOARDS)
    )
    print(f"vote-level bootstrap: {apart} of {BOARDS} equal pairs ranked apart")
    assert apart > 0.25 * BOARDS


def test_a_real_difference_is_still_found_and_never_the_wrong_way_round():
    better = Arena(strengths=(0.5, -0.5))
    found = wrong = 0
    for seed in range(100):
        ranks = rank_model(simulate(better, seed=10_000 + seed), rounds=ROUNDS, seed=seed)["rank"]
        found += ranks[0] < ranks[1]
        wrong += ranks[0] > ranks[1]
    print(f"power: a 1.0 log-odds difference found in {found} of 100 boards, {wrong} the wrong way round")
    assert found >= 70
    assert wrong == 0
