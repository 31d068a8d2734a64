"""The pipeline leaderboard: which votes count, per model, and the cached board.

The maths (weighted Bradley-Terry, the cluster bootstrap over requests and raters,
ranks from the bootstrapped differences) is in ratings.leaderboard_stats; this module
reads the votes and shapes the board the page and the API show.

Which votes count: `ratings.selectors.votes_counted()` (live votes of raters who are
not excluded, gold and control answers left out), each weighed by its rater's weight
from `ratings.selectors.vote_weights()` (weight 0: not counted at all). Votes whose two
images come from the same pipeline (or from no pipeline) carry no comparison and are
skipped. Every active pipeline of a comparison model is on its board; one without
counted votes is listed as such ("no votes yet": no strength, interval or rank).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

import numpy as np
from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import F, Q

from generation.models import ImageModel, Pipeline

from .leaderboard_stats import CHOICE_CODES, CONFIDENCE, VoteArrays, rank_model, vote_arrays
from .selectors import vote_weights, votes_counted

CACHE_KEY = "ratings:leaderboard:v2"


def bootstrap_rounds() -> int:
    return int(getattr(settings, "LEADERBOARD_BOOTSTRAP_ROUNDS", 200))


def bootstrap_seed() -> int:
    return int(getattr(settings, "LEADERBOARD_SEED", 20240917))


def collect_votes() -> dict[int, tuple[list[int], VoteArrays]]:
    """Counted, weighted votes per model: {model id: (pipeline ids, VoteArrays indexed by them)}.

    One row per vote (the bootstrap resamples requests and raters, so it needs each
    vote's request and rater), in two reads: the votes, then every rater's weight. The votes
    come back as integers only (choice codes, and a dense number per request instead of its
    uuid): at a million votes, parsing uuids and Django's per-row work took longer than the
    query itself.
    """
    counted = (
        votes_counted()
        .filter(left_image__job__pipeline__isnull=False, right_image__job__pipeline__isnull=False)
        .exclude(left_image__job__pipeline=F("right_image__job__pipeline"))
        .order_by()
        .values_list(
            # The model through the job already joined for the pipeline (a job has its request's model).
            "left_image__job__model_id",
            "left_image__job__pipeline_id",
            "right_image__job__pipeline_id",
            "choice",
            "request_id",
            "rater_id",
        )
    )
    sql, params = counted.query.sql_with_params()
    # Only constants and Django's own compiled SQL go into the text; the values stay parameters.
    codes = " ".join(f"WHEN '{name}' THEN {code}" for name, code in CHOICE_CODES.items())
    numbered = (
        f"SELECT v.model_id, v.left_id, v.right_id, CASE v.choice {codes} END, "  # noqa: S608
        f"dense_rank() OVER (ORDER BY v.request_id), v.rater_id "
        f"FROM ({sql}) AS v(model_id, left_id, right_id, choice, request_id, rater_id)"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The joins and the numbering sort stay in memory (the default 4 MB spills them).
            cursor.execute("SET LOCAL work_mem = '128MB'")
        cursor.execute(numbered, params)
        rows = np.array(cursor.fetchall(), dtype=np.int64).reshape(-1, 6)
    weights = vote_weights(rater_ids=None)
    out: dict[int, tuple[list[int], VoteArrays]] = {}
    for model_id in np.unique(rows[:, 0]).tolist():
        votes = rows[rows[:, 0] == model_id]
        pipelines = np.unique(votes[:, 1:3])
        raters = votes[:, 5]
        weight = np.array([weights.get(rater_id, 0.0) for rater_id in raters.tolist()], dtype=float)
        out[model_id] = (
            pipelines.tolist(),
            vote_arrays(
                size=len(pipelines),
                left=np.searchsorted(pipelines, votes[:, 1]),
                right=np.searchsorted(pipelines, votes[:, 2]),
                choice=votes[:, 3],
                request=votes[:, 4],
                rater=raters,
                weight=weight,
            ),
        )
    return out


def _round(value: float) -> float:
    return round(float(value), 4)


def _model_board(model: ImageModel, pipelines: list[Pipeline], result: dict[str, Any] | None) -> dict[str, Any]:
    """One model's board: ranked pipelines, then those without votes; the pairwise differences."""
    ranked, unrated = [], []
    index = {pipeline.pk: i for i, pipeline in enumerate(pipelines)}
    for pipeline in pipelines:
        i = index[pipeline.pk]
        votes = 0 if result is None else int(result["wins"][i] + result["losses"][i] + result["ties"][i])
        row: dict[str, Any] = {"id": pipeline.pk, "name": pipeline.name, "version": pipeline.version}
        if votes == 0:
            row.update(
                strength=None,
                ci_low=None,
                ci_high=None,
                rank=None,
                votes=0,
                wins=0,
                ties=0,
                both_bad=0,
                losses=0,
                win_rate=None,
                status="no votes yet",
            )
            unrated.append(row)
            continue
        row.update(
            strength=_round(result["strength"][i]),
            ci_low=_round(result["ci_low"][i]),
            ci_high=_round(result["ci_high"][i]),
            rank=int(result["rank"][i]),
            votes=votes,
            wins=int(result["wins"][i]),
            ties=int(result["ties"][i]),
            both_bad=int(result["both_bad"][i]),
            losses=int(result["losses"][i]),
            # Ties (and both-bad) count half, as in the fit.
            win_rate=_round((result["wins"][i] + result["ties"][i] / 2) / votes),
            status="ranked",
        )
        ranked.append(row)
    ranked.sort(key=lambda row: (row["rank"], -row["strength"], row["name"], row["version"]))
    unrated.sort(key=lambda row: (row["name"], row["version"]))
    differences = []
    for a, upper in enumerate(ranked):
        for lower in ranked[a + 1 :]:
            i, j = index[upper["id"]], index[lower["id"]]
            linked = bool(result["linked"][i, j])
            differences.append(
                {
                    "higher": upper["id"],
                    "lower": lower["id"],
                    "difference": _round(result["strength"][i] - result["strength"][j]),
                    "ci_low": _round(result["diff_low"][i, j]) if linked else None,
                    "ci_high": _round(result["diff_high"][i, j]) if linked else None,
                    # The only claim a rank makes: the interval of the difference excludes 0.
                    "separated": bool(result["better"][i, j] or result["better"][j, i]),
                    "compared": linked,
                }
            )
    return {
        "model": model.name,
        "votes": 0 if result is None else int(result["votes"]),
        "requests": 0 if result is None else int(result["requests"]),
        "raters": 0 if result is None else int(result["raters"]),
        "effective_clusters": None if result is None else _round(result["effective_clusters"]),
        "position_bias": _empty_bias() if result is None else result["position_bias"],
        "pipelines": ranked + unrated,
        "differences": differences,
    }


def _empty_bias() -> dict[str, Any]:
    from .leaderboard_stats import position_bias

    return position_bias(0, 0)


def leaderboard_compute(*, rounds: int | None = None, seed: int | None = None) -> dict[str, Any]:
    """The whole leaderboard as JSON-ready data (the API's shape; see ratings.api_leaderboard)."""
    rounds = bootstrap_rounds() if rounds is None else rounds
    seed = bootstrap_seed() if seed is None else seed
    tables = collect_votes()
    # Boards: models with counted votes, and enabled comparison models (all pipelines "no votes yet").
    models = list(ImageModel.objects.filter(Q(pk__in=tables) | Q(compare_pipelines=True, enabled=True)))
    voted = {p for pipelines, _ in tables.values() for p in pipelines}
    found = Pipeline.objects.filter(Q(pk__in=voted) | Q(active=True, model__in=models)).order_by("pk")
    active_by_model: dict[int, list[Pipeline]] = defaultdict(list)
    by_id = {}
    for pipeline in found:
        by_id[pipeline.pk] = pipeline
        if pipeline.active:
            active_by_model[pipeline.model_id].append(pipeline)
    models_out = []
    for model in sorted(models, key=lambda m: m.name):
        # The pipelines its votes compared (active or not), then its active ones without votes.
        voted_here = [by_id[p] for p in tables[model.pk][0]] if model.pk in tables else []
        seen = {pipeline.pk for pipeline in voted_here}
        pipelines = voted_here + [p for p in active_by_model.get(model.pk, []) if p.pk not in seen]
        if not pipelines:
            continue
        result = None
        if model.pk in tables:
            voted_ids, votes = tables[model.pk]
            # Seeding by model id keeps one model's figures independent of the others.
            result = _expand(rank_model(votes, rounds=rounds, seed=[seed, model.pk]), voted_ids, pipelines)
        models_out.append(_model_board(model, pipelines, result))
    return {
        "models": models_out,
        "computed_at": datetime.now(tz=UTC).isoformat(),
        "method": {
            "model": "bradley-terry",
            "scale": "log-odds, centred per model over the pipelines with votes",
            "ties": "tie and both_bad count half a win each way",
            "weights": "each vote weighs its rater's weight (ratings.selectors.vote_weights); weight 0 does not count",
            "checks": "gold-pair and control-image answers are left out",
            "bootstrap": "two-way cluster (pigeonhole) bootstrap over requests and raters, widened for few clusters",
            "ranks": "a new rank only where every pipeline above is surely better than every one below "
            "(the bootstrap interval of each difference excludes 0)",
            "confidence": CONFIDENCE,
            "bootstrap_rounds": rounds,
            "seed": seed,
        },
    }


def _expand(result: dict[str, Any], voted_ids: list[int], pipelines: list[Pipeline]) -> dict[str, Any]:
    """Re-index a model's result from its voted pipelines to all of its listed pipelines
    (a pipeline without votes gets zeros, and is listed as "no votes yet")."""
    size = len(pipelines)
    where = {pipeline.pk: i for i, pipeline in enumerate(pipelines)}
    positions = np.array([where[p] for p in voted_ids], dtype=int)
    out = dict(result)
    for key in ("strength", "ci_low", "ci_high", "rank", "wins", "losses", "ties", "both_bad"):
        full = np.zeros(size, dtype=np.asarray(result[key]).dtype)
        full[positions] = result[key]
        out[key] = full
    for key in ("diff_low", "diff_high", "better", "linked"):
        full = np.zeros((size, size), dtype=np.asarray(result[key]).dtype)
        full[np.ix_(positions, positions)] = result[key]
        out[key] = full
    return out


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
