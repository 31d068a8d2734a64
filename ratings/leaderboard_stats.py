"""The leaderboard's maths: weighted Bradley-Terry, a two-way cluster bootstrap, ranks from differences.

Pure numpy/scipy, no database (ratings.leaderboard collects the votes).

How a vote counts (one vote = one comparison of the two pipelines shown):
- "left" / "right": one win for the chosen image's pipeline, one loss for the other.
- "tie" and "both_bad": half a win each way. "Both bad" says nothing about which
  pipeline is better, so it is scored like a tie (it still counts as a vote).
- Each vote carries a weight >= 0 (its rater's, from ratings.selectors.vote_weights):
  a vote of weight w adds w (or w/2 each way) to the win matrix. A vote of weight 0
  does not count at all: not in the fit, the bootstrap, the tallies or the position bias.

The model: P(i beats j) = sigmoid(s_i - s_j). Strengths are fitted by maximum
likelihood with a tiny L2 prior (`PRIOR`), which pins down the free offset and keeps
a pipeline that never lost finite, by damped Newton steps (the problem is convex;
every bootstrap round is solved in the same batch). Strengths are reported centred
(mean 0 within a model) on the natural-log odds scale: a difference of 1.0 means
about 73% expected wins.

Intervals: a two-way ("pigeonhole") cluster bootstrap over requests and raters
(Owen, "The pigeonhole bootstrap", Ann. Appl. Stat. 2007). Votes are not
independent: the votes on one request share its prompt and seed (a prompt may suit
one pipeline), and one rater's votes share their taste for a style and their left
bias, and a few raters judge many pairs. Resampling single votes treats all of that
as fresh evidence and makes intervals far too narrow (it separated two equal
pipelines in about half of simulated leaderboards). Each round draws the requests
with replacement and, independently, the raters with replacement; a vote counts
(request multiplicity x rater multiplicity x its weight) times. Why both and not one:
resampling requests alone ignores that a heavy rater's taste sits in hundreds of
requests; resampling raters alone ignores that a request's owner and its arena raters
all see the same pair. The crossed scheme covers both without knowing which one
dominates; its price is that it is conservative: each vote's own noise is counted
about three times (a product of two multiplicities has variance 3), so when votes are
in fact independent the intervals come out up to ~1.7x wider than needed. That errs on
the side of claiming less (fewer separations), never more. With one rater (or
one request) that dimension has nothing to resample: the interval then describes only
the other one, so the board reports how many raters and requests stand behind it.

Ranks come from the bootstrapped differences: i is "surely better" than j when the
central 95% of the bootstrap distribution of s_i - s_j lies above 0 (and the two are
connected by comparisons at all). Pipelines are listed by strength and a new rank
starts only where every pipeline above is surely better than every pipeline below.
So two pipelines with different ranks are always surely apart, ranks are transitive,
and an undecided pipeline in between keeps its neighbours on one rank. Rank =
1 + the number of pipelines on higher ranks. The level is per pair (no multiplicity
correction), which the cut rule partly makes up for: a cut needs every pair across it.

Position bias: of the decisive (left/right) votes of weight > 0, the share won by the
image shown on the left. Its 95% interval and two-sided p-value come from the same
cluster bootstrap (a rater's left habit is in all of their votes, so an exact
binomial test would overstate the evidence); without bootstrap rounds they fall back
to a Wilson interval and an exact binomial test, which assume independent votes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse, stats
from scipy.sparse.csgraph import connected_components

PRIOR = 1e-3  # L2 weight on strengths: identifiability only, negligible next to a handful of votes
CONFIDENCE = 0.95
NEWTON_ITERATIONS = 100
BOOTSTRAP_CHUNK = 25  # rounds resampled at once: bounds memory to CHUNK x requests floats

LEFT, RIGHT, TIE, BOTH_BAD = 0, 1, 2, 3
CHOICE_CODES = {"left": LEFT, "right": RIGHT, "tie": TIE, "both_bad": BOTH_BAD}


@dataclass(frozen=True)
class VoteArrays:
    """One model's counted votes, one entry per vote, sorted by (request, rater).

    `left` / `right` are pipeline indices (0..size-1) as shown, `choice` a code
    (LEFT, RIGHT, TIE, BOTH_BAD), `request` / `rater` cluster codes (0..R-1, 0..C-1),
    `weight` > 0 (votes of weight 0 were dropped on the way in).
    """

    size: int
    left: np.ndarray
    right: np.ndarray
    choice: np.ndarray
    request: np.ndarray
    rater: np.ndarray
    weight: np.ndarray
    requests: int
    raters: int

    @property
    def votes(self) -> int:
        return len(self.choice)


def vote_arrays(
    *,
    size: int,
    left: Any,
    right: Any,
    choice: Any,
    request: Any,
    rater: Any,
    weight: Any | None = None,
) -> VoteArrays:
    """Validate and pack votes. `choice` may be codes or the Vote.Choice strings; `request`
    and `rater` may be any sortable keys (ids). Votes of weight 0 and votes whose two
    images come from one pipeline (no comparison) are dropped."""
    left = np.asarray(left, dtype=int)
    right = np.asarray(right, dtype=int)
    choice = np.asarray(choice)
    if choice.dtype.kind in "UO":
        try:
            choice = np.array([CHOICE_CODES[str(c)] for c in choice], dtype=int)
        except KeyError as error:
            raise ValueError(f"unknown choice {error.args[0]!r}") from None
    choice = choice.astype(int)
    count = len(choice)
    weight = np.ones(count) if weight is None else np.asarray(weight, dtype=float)
    request_keys, rater_keys = np.asarray(request), np.asarray(rater)
    if not (len(left) == len(right) == len(request_keys) == len(rater_keys) == len(weight) == count):
        raise ValueError("every vote needs a left, right, choice, request, rater and weight")
    if count and (left.min() < 0 or right.min() < 0 or max(left.max(), right.max()) >= size):
        raise ValueError("pipeline index out of range")
    if count and (choice.min() < LEFT or choice.max() > BOTH_BAD):
        raise ValueError("choice code out of range")
    if not np.all(np.isfinite(weight)) or np.any(weight < 0):
        raise ValueError("weights must be finite and >= 0")
    keep = (weight > 0) & (left != right)
    _, request_codes = np.unique(request_keys[keep], return_inverse=True)
    _, rater_codes = np.unique(rater_keys[keep], return_inverse=True)
    request_codes, rater_codes = request_codes.reshape(-1), rater_codes.reshape(-1)
    # A fixed order (by cluster) so that float sums, and so seeded figures, do not depend
    # on the order the database returned the rows in.
    order = np.lexsort((rater_codes, request_codes))
    return VoteArrays(
        size=size,
        left=left[keep][order],
        right=right[keep][order],
        choice=choice[keep][order],
        request=request_codes[order],
        rater=rater_codes[order],
        weight=weight[keep][order],
        requests=int(request_codes.max()) + 1 if len(request_codes) else 0,
        raters=int(rater_codes.max()) + 1 if len(rater_codes) else 0,
    )


def _outcome_matrix(votes: VoteArrays) -> sparse.csr_matrix:
    """(votes, size*size): what one unit of a vote's weight adds to each cell W[i, j] (i beat j)."""
    n = votes.size
    winner_left = np.select([votes.choice == LEFT, votes.choice == RIGHT], [1.0, 0.0], 0.5)
    rows = np.concatenate([np.arange(votes.votes)] * 2)
    cells = np.concatenate([votes.left * n + votes.right, votes.right * n + votes.left])
    values = np.concatenate([winner_left, 1.0 - winner_left])
    return sparse.csr_matrix((values, (rows, cells)), shape=(votes.votes, n * n))


def win_matrix(votes: VoteArrays, weights: np.ndarray | None = None) -> np.ndarray:
    """W[i, j] = weighted wins of i over j (a draw adds half each way).

    `weights` may be one weight per vote (votes,) or one row per bootstrap round
    (rounds, votes); the answer is then (size, size) or (rounds, size, size).
    """
    n = votes.size
    weights = votes.weight if weights is None else weights
    flat = (_outcome_matrix(votes).T @ np.atleast_2d(weights).T).T
    return flat.reshape(-1, n, n) if np.ndim(weights) == 2 else flat.reshape(n, n)


def _objective(strengths: np.ndarray, wins: np.ndarray, prior: float) -> np.ndarray:
    diff = strengths[:, :, None] - strengths[:, None, :]
    # -log sigmoid(d) = log(1 + exp(-d)), without overflow.
    return np.sum(wins * np.logaddexp(0.0, -diff), axis=(1, 2)) + prior * np.sum(strengths**2, axis=1) / 2


def fit_strengths(wins: np.ndarray, *, prior: float = PRIOR) -> np.ndarray:
    """MAP Bradley-Terry log-strengths, centred to mean 0. `wins` is (n, n) or a batch (B, n, n).

    Damped Newton on the convex objective sum W_ij * -log sigmoid(s_i - s_j) + prior/2 |s|^2:
    each step is halved until the objective does not rise, so it converges from 0.
    """
    single = wins.ndim == 2
    wins = wins[None] if single else wins
    batch, n, _ = wins.shape
    games = wins + wins.transpose(0, 2, 1)
    strengths = np.zeros((batch, n))
    tolerance = 1e-10 * max(float(games.sum(axis=(1, 2)).max()), 1.0)
    loss = _objective(strengths, wins, prior)
    for _ in range(NEWTON_ITERATIONS):
        p = _sigmoid(strengths[:, :, None] - strengths[:, None, :])  # P(i beats j)
        grad = np.sum(games * p - wins, axis=2) + prior * strengths
        if np.max(np.abs(grad)) < tolerance:
            break
        curvature = games * p * (1 - p)
        hessian = -curvature
        idx = np.arange(n)
        hessian[:, idx, idx] = curvature.sum(axis=2) + prior
        step = -np.linalg.solve(hessian, grad[:, :, None])[:, :, 0]
        scale = np.ones(batch)
        for _ in range(30):
            trial = strengths + scale[:, None] * step
            trial_loss = _objective(trial, wins, prior)
            worse = trial_loss > loss + 1e-12 * np.abs(loss)
            if not worse.any():
                break
            scale = np.where(worse, scale / 2, scale)
        strengths, loss = trial, trial_loss
    strengths = strengths - strengths.mean(axis=1, keepdims=True)
    return strengths[0] if single else strengths


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # overflow-free logistic


def _draw_with_replacement(clusters: int, *, rounds: int, rng: np.random.Generator) -> np.ndarray:
    """(rounds, clusters): how often each cluster is drawn in `clusters` draws with replacement
    (multinomial counts; counting drawn indices is far faster than rng.multinomial for many clusters)."""
    drawn = rng.integers(0, clusters, size=(rounds, clusters))
    offsets = np.arange(rounds)[:, None] * clusters
    return np.bincount((drawn + offsets).ravel(), minlength=rounds * clusters).reshape(rounds, clusters).astype(float)


def _vote_tables(votes: VoteArrays, columns: list[np.ndarray]) -> list[sparse.csr_matrix]:
    """Each column (one value per vote) as a (requests x raters) sparse table."""
    tables = []
    for values in columns:
        keep = values != 0
        tables.append(
            sparse.csr_matrix(
                (values[keep], (votes.request[keep], votes.rater[keep])), shape=(votes.requests, votes.raters)
            )
        )
    return tables


def _pigeonhole_sums(tables: list[sparse.csr_matrix], requests: np.ndarray, raters: np.ndarray) -> np.ndarray:
    """(rounds, tables): for each table T and round r, sum_q,a requests[r, q] * T[q, a] * raters[r, a].

    A vote's resampling weight is a product of its request's and its rater's multiplicities, so
    each resampled sum is a bilinear form over the (requests x raters) table of the votes: one
    sparse product per table, votes x rounds work, never a (rounds x votes) array (at a million
    votes, building that array for every chunk of rounds was most of the leaderboard's time)."""
    out = np.empty((requests.shape[0], len(tables)))
    for k, table in enumerate(tables):
        out[:, k] = np.einsum("qr,rq->r", table @ raters.T, requests)
    return out


def bootstrap(votes: VoteArrays, *, rounds: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Strengths (rounds, size) and left shares of decisive votes (rounds,) over cluster resamples.

    Each round draws the requests, then the raters, with replacement (pigeonhole); a vote counts
    (request multiplicity x rater multiplicity x its weight) times in the round's win matrix."""
    n = votes.size
    winner_left = np.select([votes.choice == LEFT, votes.choice == RIGHT], [1.0, 0.0], 0.5)
    # One column per cell W[i, j] (i beat j) that any vote adds to, then the position bias's two
    # counts (votes, not trust: multiplicities only).
    cells = np.unique(np.concatenate([votes.left * n + votes.right, votes.right * n + votes.left]))
    columns = [
        votes.weight
        * (
            np.where(votes.left * n + votes.right == cell, winner_left, 0.0)
            + np.where(votes.right * n + votes.left == cell, 1.0 - winner_left, 0.0)
        )
        for cell in cells.tolist()
    ]
    columns += [(votes.choice == LEFT).astype(float), (votes.choice <= RIGHT).astype(float)]
    tables = _vote_tables(votes, columns)
    strengths, left_shares = [], []
    for start in range(0, rounds, BOOTSTRAP_CHUNK):
        size = min(BOOTSTRAP_CHUNK, rounds - start)
        requests = _draw_with_replacement(votes.requests, rounds=size, rng=rng)
        raters = _draw_with_replacement(votes.raters, rounds=size, rng=rng)
        sums = _pigeonhole_sums(tables, requests, raters)
        wins = np.zeros((size, n * n))
        wins[:, cells] = sums[:, : len(cells)]
        strengths.append(fit_strengths(wins.reshape(size, n, n)))
        with np.errstate(invalid="ignore", divide="ignore"):
            left_shares.append(sums[:, -2] / sums[:, -1])
    return np.concatenate(strengths), np.concatenate(left_shares)


def effective_clusters(votes: VoteArrays) -> float:
    """The fewer of the effective numbers of requests and of raters (Kish: (sum w)^2 / sum w^2,
    w = a cluster's total vote weight). 15 raters of whom one cast a third of the votes
    carry the information of about 7 equal ones."""
    if votes.votes == 0:
        return 0.0
    counts = []
    for codes in (votes.request, votes.rater):
        totals = np.bincount(codes, weights=votes.weight)
        counts.append(float(totals.sum() ** 2 / np.sum(totals**2)))
    return min(counts)


def few_cluster_factor(clusters: float) -> float:
    """How much to widen the bootstrap spread when few (effective) clusters carry the votes.

    The cluster bootstrap, like any cluster-robust variance, is too narrow with few
    clusters (a heavy rater's own taste is half missing from the resamples), so we use
    the usual small-sample correction of cluster-robust inference (Cameron & Miller,
    "A practitioner's guide to cluster-robust inference", 2015): the G/(G-1) variance
    factor and t(G-1) instead of normal quantiles, with G the effective cluster count
    (Carter, Schnepel & Steigerwald 2017). It tends to 1 as clusters grow (1.02 at 100).
    Below 2 effective clusters there is no spread to trust: infinite (nothing is separated).
    """
    if clusters < 2:
        return float("inf")
    z = stats.norm.ppf(0.5 + CONFIDENCE / 2)
    t = stats.t.ppf(0.5 + CONFIDENCE / 2, df=clusters - 1)
    return float(np.sqrt(clusters / (clusters - 1)) * t / z)


def comparable(votes: VoteArrays) -> np.ndarray:
    """(size, size) True where two pipelines are linked by a chain of comparisons.

    Across two unlinked groups the data says nothing about which is better (the prior
    alone sets their offset), so such pairs are never told apart.
    """
    n = votes.size
    graph = sparse.coo_matrix((np.ones(votes.votes), (votes.left, votes.right)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    return labels[:, None] == labels[None, :]


def surely_better(boot: np.ndarray, linked: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Percentile intervals of every difference s_i - s_j and whether i is surely better than j."""
    alpha = (1 - CONFIDENCE) / 2
    diffs = boot[:, :, None] - boot[:, None, :]
    low, high = np.quantile(diffs, [alpha, 1 - alpha], axis=0)
    better = (low > 0) & linked
    np.fill_diagonal(better, False)
    return low, high, better


def tier_ranks(strength: np.ndarray, better: np.ndarray) -> np.ndarray:
    """Ranks by strength, with a new rank only where everyone above is surely better than everyone below."""
    order = np.argsort(-strength, kind="stable")
    ranks = np.empty(len(order), dtype=int)
    tier_start = 0
    for position, index in enumerate(order):
        if position and better[np.ix_(order[:position], order[position:])].all():
            tier_start = position
        ranks[index] = tier_start + 1
    return ranks


def position_bias(left_wins: int, right_wins: int, *, boot_shares: np.ndarray | None = None) -> dict[str, Any]:
    """Share of decisive votes won by the left image, with a 95% interval and a two-sided p-value.

    With `boot_shares` (cluster-bootstrap left shares) the interval is their percentile
    interval and the p-value 2 x the smaller share of rounds on either side of 0.5
    (floored at 1 / (rounds + 1)); without, Wilson and an exact binomial test.
    """
    decisive = left_wins + right_wins
    out: dict[str, Any] = {
        "decisive_votes": decisive,
        "left_wins": left_wins,
        "right_wins": right_wins,
        "left_share": None,
        "ci_low": None,
        "ci_high": None,
        "p_value": None,
        "method": None,
    }
    if decisive == 0:
        return out
    out["left_share"] = left_wins / decisive
    shares = None if boot_shares is None else boot_shares[np.isfinite(boot_shares)]
    if shares is not None and len(shares):
        alpha = (1 - CONFIDENCE) / 2
        low, high = np.quantile(shares, [alpha, 1 - alpha])
        rounds = len(shares)
        tail = min(np.sum(shares <= 0.5), np.sum(shares >= 0.5))
        out.update(
            ci_low=float(low),
            ci_high=float(high),
            p_value=float(min(1.0, max(2 * tail / rounds, 1 / (rounds + 1)))),
            method="cluster bootstrap (requests x raters)",
        )
        return out
    test = stats.binomtest(left_wins, decisive, 0.5)
    interval = test.proportion_ci(confidence_level=CONFIDENCE, method="wilson")
    out.update(
        ci_low=float(interval.low),
        ci_high=float(interval.high),
        p_value=float(test.pvalue),
        method="wilson + exact binomial (assumes independent votes)",
    )
    return out


def tallies(votes: VoteArrays) -> dict[str, np.ndarray]:
    """Per-pipeline counts of votes (not weights): wins, losses, ties (both bad included), both bad."""
    n = votes.size
    winner = np.where(votes.choice == LEFT, votes.left, votes.right)
    loser = np.where(votes.choice == LEFT, votes.right, votes.left)
    decisive = votes.choice <= RIGHT
    drawn = ~decisive
    both_bad = votes.choice == BOTH_BAD
    return {
        "wins": np.bincount(winner[decisive], minlength=n),
        "losses": np.bincount(loser[decisive], minlength=n),
        "ties": np.bincount(votes.left[drawn], minlength=n) + np.bincount(votes.right[drawn], minlength=n),
        "both_bad": np.bincount(votes.left[both_bad], minlength=n) + np.bincount(votes.right[both_bad], minlength=n),
    }


def rank_model(votes: VoteArrays, *, rounds: int, seed: int | list[int]) -> dict[str, Any]:
    """Strengths, intervals, pairwise differences, ranks and counts for one model (array level, no names)."""
    n = votes.size
    strengths = fit_strengths(win_matrix(votes))
    linked = comparable(votes)
    left_wins = int(np.sum(votes.choice == LEFT))
    right_wins = int(np.sum(votes.choice == RIGHT))
    boot_shares = None
    clusters = effective_clusters(votes)
    spread = few_cluster_factor(clusters)
    if rounds > 0 and np.isfinite(spread):
        boot, boot_shares = bootstrap(votes, rounds=rounds, rng=np.random.default_rng(seed))
        # Widened about the point estimates (see few_cluster_factor).
        boot = strengths + spread * (boot - strengths)
        if left_wins + right_wins:
            observed = left_wins / (left_wins + right_wins)
            boot_shares = np.clip(observed + spread * (boot_shares - observed), 0.0, 1.0)
        alpha = (1 - CONFIDENCE) / 2
        ci_low, ci_high = np.quantile(boot, [alpha, 1 - alpha], axis=0)
        diff_low, diff_high, better = surely_better(boot, linked)
    else:
        # No resampling (or under 2 effective clusters): no evidence of a difference.
        ci_low, ci_high = strengths.copy(), strengths.copy()
        point = strengths[:, None] - strengths[None, :]
        diff_low, diff_high, better = point, point.copy(), np.zeros((n, n), dtype=bool)
    return {
        "strength": strengths,
        "ci_low": ci_low,
        "ci_high": ci_high,
        "diff_low": diff_low,
        "diff_high": diff_high,
        "better": better,
        "linked": linked,
        "rank": tier_ranks(strengths, better),
        **tallies(votes),
        "votes": votes.votes,
        "requests": votes.requests,
        "raters": votes.raters,
        "effective_clusters": clusters,
        "spread_factor": spread,
        "position_bias": position_bias(left_wins, right_wins, boot_shares=boot_shares),
    }
