"""Simulated arenas with clustered votes, for the null and power tests (and bench/leaderboard_bench.py).

What makes votes cluster, as on the real site:
- each request (prompt + seed) suits some pipelines better than others: a per-request,
  per-pipeline effect shared by every vote on that request;
- each rater has a taste for some pipelines' style and a habit of picking the left
  image: per-rater effects shared by all of their votes;
- a few raters judge most pairs (activity falls off like 1/k), the requester judges
  their own pair about half the time, and arena raters add a few votes per request.

The true strengths are the population's: the request and rater effects average to 0
over all prompts and raters, so two pipelines with equal true strengths are equally
good, whatever this sample of raters happens to like.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ratings.leaderboard_stats import BOTH_BAD, LEFT, RIGHT, TIE, VoteArrays, bootstrap, vote_arrays


@dataclass(frozen=True)
class Arena:
    strengths: tuple[float, ...]  # true (population) log-strengths of the pipelines
    requests: int = 300
    raters: int = 15
    owner_vote_share: float = 0.5  # the requester judges their own pair
    arena_votes_per_request: float = 1.5  # Poisson mean of other raters' votes
    request_sd: float = 0.6  # how much one prompt favours one pipeline
    taste_sd: float = 0.5  # how much one rater favours one pipeline's style
    left_bias_mean: float = 0.2
    left_bias_sd: float = 0.4
    tie_share: float = 0.1
    both_bad_share: float = 0.05


def simulate(arena: Arena, *, seed: int) -> VoteArrays:
    rng = np.random.default_rng(seed)
    true = np.asarray(arena.strengths, dtype=float)
    size = len(true)
    activity = 1 / np.arange(1, arena.raters + 1)
    activity /= activity.sum()
    request_effect = rng.normal(0, arena.request_sd, (arena.requests, size))
    taste = rng.normal(0, arena.taste_sd, (arena.raters, size))
    left_bias = rng.normal(arena.left_bias_mean, arena.left_bias_sd, arena.raters)

    lefts, rights, choices, requests, raters = [], [], [], [], []
    for request in range(arena.requests):
        shown = rng.choice(size, size=2, replace=False)
        owner = rng.choice(arena.raters, p=activity)
        judges = [owner] if rng.random() < arena.owner_vote_share else []
        extra = min(rng.poisson(arena.arena_votes_per_request), arena.raters - 1)
        others = np.delete(np.arange(arena.raters), owner)
        weights = activity[others] / activity[others].sum()
        judges += list(rng.choice(others, size=extra, replace=False, p=weights))
        for rater in judges:
            left, right = shown if rng.random() < 0.5 else shown[::-1]
            draw = rng.random()
            if draw < arena.tie_share:
                choice = TIE
            elif draw < arena.tie_share + arena.both_bad_share:
                choice = BOTH_BAD
            else:
                edge = (
                    true[left]
                    - true[right]
                    + request_effect[request, left]
                    - request_effect[request, right]
                    + taste[rater, left]
                    - taste[rater, right]
                    + left_bias[rater]
                )
                choice = LEFT if rng.random() < 1 / (1 + np.exp(-edge)) else RIGHT
            lefts.append(left)
            rights.append(right)
            choices.append(choice)
            requests.append(request)
            raters.append(rater)
    return vote_arrays(size=size, left=lefts, right=rights, choice=choices, request=requests, rater=raters)


def as_independent(votes: VoteArrays) -> VoteArrays:
    """The same votes with the clusters erased (each vote its own request, one rater): what a
    vote-level bootstrap assumes."""
    return vote_arrays(
        size=votes.size,
        left=votes.left,
        right=votes.right,
        choice=votes.choice,
        request=np.arange(votes.votes),
        rater=np.zeros(votes.votes, dtype=int),
        weight=votes.weight,
    )


def vote_level_ranks(votes: VoteArrays, *, rounds: int, seed: int) -> np.ndarray:
    """Ranks as the leaderboard made them before clusters were resampled: a bootstrap over
    single votes and 'share a rank while the per-pipeline intervals overlap' (kept here
    only to show what the cluster bootstrap fixes)."""
    single = as_independent(votes)
    boot, _ = bootstrap(single, rounds=rounds, rng=np.random.default_rng(seed))
    low, high = np.quantile(boot, [0.025, 0.975], axis=0)
    return 1 + (low[np.newaxis, :] > high[:, np.newaxis]).sum(axis=1)
