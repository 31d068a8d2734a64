"""The pipeline leaderboard: Bradley-Terry strengths per model, with bootstrap intervals.

How a vote counts (one vote = one comparison of the two pipelines shown):
- "left" / "right": one win for the chosen image's pipeline, one loss for the other.
- "tie" and "both_bad": half a win each way. "Both bad" says nothing about which
  pipeline is better, so it is scored like a tie (it still counts as a vote).
- Only `ratings.selectors.votes_counted()` is used: live votes of raters who are
  not excluded. Votes whose two images come from the same pipeline (or from no
  pipeline) carry no comparison and are skipped.

The model: P(i beats j) = sigmoid(s_i - s_j). Strengths `s` are fitted by
maximum likelihood with scipy's L-BFGS and a tiny L2 prior (`PRIOR`), which pins
down the otherwise free offset and keeps a pipeline that never lost finite.
Strengths are reported centred (mean 0 within a model), on the natural-log
odds scale: a difference of 1.0 means about 73% expected wins.

Intervals: 95% percentile bootstrap over votes. Resampling N votes with
replacement is the same as drawing the counts of each (pair, outcome) cell from
a multinomial with the observed shares, so a round costs O(cells), not O(votes).
The RNG is seeded per model, so the same votes give the same figures.

Ranks respect the intervals: rank = 1 + the number of pipelines whose lower
bound lies above this pipeline's upper bound, so pipelines that cannot be told
apart share a rank.

Position bias: of the decisive (left/right) votes, the share won by the image
shown on the left, with a Wilson 95% interval and a two-sided exact binomial
test against 0.5.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
from django.conf import settings
from django.core.cache import cache
from django.db.models import Count
from scipy import optimize, stats

from generation.models import ImageModel, Pipeline

from .models import Vote
from .selectors import vote_weights, votes_counted

CACHE_KEY = "ratings:leaderboard:v1"
PRIOR = 1e-3  # L2 weight on strengths: identifiability only, negligible next to a handful of votes
CONFIDENCE = 0.95

# Outcome columns of the per-pair count table: the first pipeline (lower index) won,
# the second won, or it was a tie / both bad.
FIRST, SECOND, DRAW = 0, 1, 2


def bootstrap_rounds() -> int:
    return int(getattr(settings, "LEADERBOARD_BOOTSTRAP_ROUNDS", 200))


def bootstrap_seed() -> int:
    return int(getattr(settings, "LEADERBOARD_SEED", 20240917))


# --- the maths (pure numpy/scipy; no database) ---------------------------------------


def win_matrix(pairs: np.ndarray, counts: np.ndarray, size: int) -> np.ndarray:
    """W[i, j] = (fractional) wins of i over j; a draw adds half a win each way.

    `pairs` is (K, 2) pipeline indices, `counts` is (K, 3) FIRST/SECOND/DRAW counts.
    """
    wins = np.zeros((size, size))
    half_draws = counts[:, DRAW] / 2.0
    np.add.at(wins, (pairs[:, 0], pairs[:, 1]), counts[:, FIRST] + half_draws)
    np.add.at(wins, (pairs[:, 1], pairs[:, 0]), counts[:, SECOND] + half_draws)
    return wins


def fit_strengths(wins: np.ndarray, *, prior: float = PRIOR, start: np.ndarray | None = None) -> np.ndarray:
    """Maximum a-posteriori Bradley-Terry log-strengths for a win matrix, centred to mean 0.

    `start` warm-starts the optimiser (the bootstrap starts from the point estimate).
    """
    size = wins.shape[0]
    rows, cols = np.nonzero(wins)
    # Scale the objective by the vote count: the same minimum, and a tolerance that
    # means the same thing for 100 votes as for 100,000.
    scale = max(float(wins.sum()), 1.0)
    weights = wins[rows, cols] / scale
    prior = prior / scale

    def objective(strengths: np.ndarray) -> tuple[float, np.ndarray]:
        diff = strengths[rows] - strengths[cols]
        # -log sigmoid(d) = log(1 + exp(-d)), computed without overflow.
        loss = float(np.sum(weights * np.logaddexp(0.0, -diff))) + prior * float(strengths @ strengths) / 2
        # d/dd of -log sigmoid(d) is -(1 - sigmoid(d)) = -sigmoid(-d).
        pull = weights * _sigmoid(-diff)
        grad = prior * strengths
        grad = grad - np.bincount(rows, weights=pull, minlength=size) + np.bincount(cols, weights=pull, minlength=size)
        return loss, grad

    x0 = np.zeros(size) if start is None else start
    result = optimize.minimize(objective, x0, jac=True, method="L-BFGS-B", options={"gtol": 1e-9})
    strengths = result.x
    return strengths - strengths.mean()


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # overflow-free logistic


def bootstrap_strengths(
    pairs: np.ndarray,
    counts: np.ndarray,
    size: int,
    *,
    rounds: int,
    rng: np.random.Generator,
    start: np.ndarray | None = None,
) -> np.ndarray:
    """(rounds, size) strengths refitted on votes resampled with replacement."""
    flat = counts.reshape(-1).astype(float)
    total = int(flat.sum())
    samples = rng.multinomial(total, flat / total, size=rounds)
    return np.stack(
        [fit_strengths(win_matrix(pairs, sample.reshape(counts.shape), size), start=start) for sample in samples]
    )


def interval_ranks(ci_low: np.ndarray, ci_high: np.ndarray) -> np.ndarray:
    """1 + how many others are surely better (their lower bound above my upper bound)."""
    return 1 + (ci_low[np.newaxis, :] > ci_high[:, np.newaxis]).sum(axis=1)


def position_bias(left_wins: int, right_wins: int) -> dict[str, Any]:
    """Share of decisive votes won by the left image, Wilson 95% interval, exact binomial p-value."""
    decisive = left_wins + right_wins
    out: dict[str, Any] = {
        "decisive_votes": decisive,
        "left_wins": left_wins,
        "right_wins": right_wins,
        "left_share": None,
        "ci_low": None,
        "ci_high": None,
        "p_value": None,
    }
    if decisive == 0:
        return out
    test = stats.binomtest(left_wins, decisive, 0.5)
    interval = test.proportion_ci(confidence_level=CONFIDENCE, method="wilson")
    out.update(
        left_share=left_wins / decisive,
        ci_low=float(interval.low),
        ci_high=float(interval.high),
        p_value=float(test.pvalue),
    )
    return out


@dataclass
class ModelVotes:
    """The counted votes of one model, aggregated into a (pair, outcome) table."""

    pipelines: list[int]  # Pipeline ids; index = position in the arrays
    pair_index: dict[tuple[int, int], int] = field(default_factory=dict)
    pairs: list[tuple[int, int]] = field(default_factory=list)
    counts: list[list[int]] = field(default_factory=list)
    left_wins: int = 0
    right_wins: int = 0
    both_bad: np.ndarray | None = None

    def add(self, left: int, right: int, choice: str, count: int = 1) -> None:
        """Count `count` votes; `left`/`right` are array indices of the shown pipelines."""
        first, second = sorted((left, right))
        key = (first, second)
        if key not in self.pair_index:
            self.pair_index[key] = len(self.pairs)
            self.pairs.append(key)
            self.counts.append([0, 0, 0])
        row = self.counts[self.pair_index[key]]
        if choice == Vote.Choice.LEFT:
            row[FIRST if left == first else SECOND] += count
            self.left_wins += count
        elif choice == Vote.Choice.RIGHT:
            row[FIRST if right == first else SECOND] += count
            self.right_wins += count
        else:
            row[DRAW] += count
            if choice == Vote.Choice.BOTH_BAD:
                if self.both_bad is None:
                    self.both_bad = np.zeros(len(self.pipelines), dtype=int)
                self.both_bad[[left, right]] += count


def rank_model(votes: ModelVotes, *, rounds: int, seed: int | list[int]) -> dict[str, Any]:
    """Strengths, intervals, ranks and counts for one model's votes (array-level, no names)."""
    size = len(votes.pipelines)
    pairs = np.array(votes.pairs, dtype=int).reshape(-1, 2)
    counts = np.array(votes.counts, dtype=int).reshape(-1, 3)
    strengths = fit_strengths(win_matrix(pairs, counts, size))
    rng = np.random.default_rng(seed)
    if rounds > 0 and counts.sum() > 0:
        boot = bootstrap_strengths(pairs, counts, size, rounds=rounds, rng=rng, start=strengths)
        alpha = (1 - CONFIDENCE) / 2
        ci_low, ci_high = np.quantile(boot, [alpha, 1 - alpha], axis=0)
    else:
        ci_low, ci_high = strengths.copy(), strengths.copy()
    # Per-pipeline tallies straight from the table (a draw is a tie for both sides).
    wins = np.zeros(size, dtype=int)
    losses = np.zeros(size, dtype=int)
    ties = np.zeros(size, dtype=int)
    for (first, second), (first_won, second_won, draws) in zip(votes.pairs, votes.counts, strict=True):
        wins[first] += first_won
        losses[first] += second_won
        wins[second] += second_won
        losses[second] += first_won
        ties[[first, second]] += draws
    return {
        "strength": strengths,
        "ci_low": ci_low,
        "ci_high": ci_high,
        "rank": interval_ranks(ci_low, ci_high),
        "wins": wins,
        "losses": losses,
        "ties": ties,
        "both_bad": votes.both_bad if votes.both_bad is not None else np.zeros(size, dtype=int),
        "votes": int(counts.sum()),
        "position_bias": position_bias(votes.left_wins, votes.right_wins),
    }


# --- from the database ------------------------------------------------------------------


def collect_votes() -> dict[int, ModelVotes]:
    """Counted votes grouped by model, as shown pipeline pairs (skipping non-comparisons).

    PostgreSQL does the counting (GROUP BY model, shown pipelines, choice), so
    Python receives a few rows per pipeline pair however many votes there are.
    """
    rows = _weighted_rows()
    by_model: dict[int, list[tuple[int, int, str, int]]] = defaultdict(list)
    for model_id, left, right, choice, count in rows:
        if left is None or right is None or left == right:
            continue  # not a comparison of two pipelines
        by_model[model_id].append((left, right, choice, count))
    out: dict[int, ModelVotes] = {}
    for model_id, groups in by_model.items():
        pipelines = sorted({p for left, right, _, _ in groups for p in (left, right)})
        index = {pipeline_id: i for i, pipeline_id in enumerate(pipelines)}
        table = ModelVotes(pipelines=pipelines)
        # Sorted so the table (and so the seeded bootstrap) does not depend on row order.
        for left, right, choice, count in sorted(groups):
            table.add(index[left], index[right], choice, count)
        out[model_id] = table
    return out


# --- vote weights (trust branch; the leaderboard rewrite takes them from the same function) ---
def _weighted_rows() -> list[tuple[int, int, int, str, int]]:
    """(model, left pipeline, right pipeline, choice, weighted count) of the counted votes.

    Each rater's votes count times `ratings.selectors.vote_weights` (0 before calibration,
    capped, diminishing past many votes on one model); each cell is rounded to whole votes,
    so the fit and the bootstrap below stay as they are.
    """
    rows = (
        votes_counted()
        .values(
            "request__model_id", "left_image__job__pipeline_id", "right_image__job__pipeline_id", "choice", "rater_id"
        )
        .annotate(n=Count("id"))
        .order_by()
        .values_list(
            "request__model_id",
            "left_image__job__pipeline_id",
            "right_image__job__pipeline_id",
            "choice",
            "rater_id",
            "n",
        )
    )
    rows = list(rows)
    weights = vote_weights(rater_ids={row[4] for row in rows})
    cells: dict[tuple[int, int, int, str], float] = defaultdict(float)
    for model_id, left, right, choice, rater_id, count in rows:
        cells[(model_id, left, right, choice)] += count * weights.get(rater_id, 0.0)
    return [(*cell, round(total)) for cell, total in cells.items() if round(total) > 0]


def leaderboard_compute(*, rounds: int | None = None, seed: int | None = None) -> dict[str, Any]:
    """The whole leaderboard as JSON-ready data (the API's shape; see ratings.api_leaderboard)."""
    rounds = bootstrap_rounds() if rounds is None else rounds
    seed = bootstrap_seed() if seed is None else seed
    tables = collect_votes()
    model_names = dict(ImageModel.objects.filter(pk__in=tables).values_list("pk", "name"))
    pipelines = Pipeline.objects.in_bulk([p for table in tables.values() for p in table.pipelines])
    models_out = []
    for model_id in sorted(tables, key=lambda pk: model_names[pk]):
        table = tables[model_id]
        # Seeding by model id keeps one model's figures independent of the others.
        result = rank_model(table, rounds=rounds, seed=[seed, model_id])
        rows = []
        for i, pipeline_id in enumerate(table.pipelines):
            pipeline = pipelines[pipeline_id]
            votes = int(result["wins"][i] + result["losses"][i] + result["ties"][i])
            rows.append(
                {
                    "id": pipeline_id,
                    "name": pipeline.name,
                    "version": pipeline.version,
                    "strength": round(float(result["strength"][i]), 4),
                    "ci_low": round(float(result["ci_low"][i]), 4),
                    "ci_high": round(float(result["ci_high"][i]), 4),
                    "rank": int(result["rank"][i]),
                    "votes": votes,
                    "wins": int(result["wins"][i]),
                    "ties": int(result["ties"][i]),
                    "both_bad": int(result["both_bad"][i]),
                    "losses": int(result["losses"][i]),
                    # Ties (and both-bad) count half, as in the fit.
                    "win_rate": round((result["wins"][i] + result["ties"][i] / 2) / votes, 4) if votes else None,
                }
            )
        rows.sort(key=lambda row: (row["rank"], -row["strength"], row["name"], row["version"]))
        models_out.append(
            {
                "model": model_names[model_id],
                "votes": result["votes"],
                "position_bias": result["position_bias"],
                "pipelines": rows,
            }
        )
    return {
        "models": models_out,
        "computed_at": datetime.now(tz=UTC).isoformat(),
        "method": {
            "model": "bradley-terry",
            "scale": "log-odds, centred per model",
            "ties": "tie and both_bad count half a win each way",
            "confidence": CONFIDENCE,
            "bootstrap_rounds": rounds,
            "seed": seed,
        },
    }


def cache_timeout() -> int:
    # Outlive a missed beat or two; the periodic task overwrites it anyway.
    return 3 * int(getattr(settings, "LEADERBOARD_REFRESH_SECONDS", 300))


def leaderboard_refresh() -> dict[str, Any]:
    """Recompute and store in the cache (the periodic task's work)."""
    board = leaderboard_compute()
    cache.set(CACHE_KEY, board, timeout=cache_timeout())
    return board


def leaderboard_cached() -> dict[str, Any]:
    """What the page and API show: the cached leaderboard, computed on a miss."""
    board = cache.get(CACHE_KEY)
    if board is None:
        board = leaderboard_refresh()
    return board
