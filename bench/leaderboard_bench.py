"""Time the leaderboard's fit + bootstrap on synthetic votes; measure its false-separation rate.

    .venv/bin/python bench/leaderboard_bench.py [--votes 10000 100000] [--rounds 200] [--repeat 3]
    .venv/bin/python bench/leaderboard_bench.py --null [--boards 200]

Simulates votes between 4 pipelines with known Bradley-Terry strengths (each on its
own request, spread over --raters raters), then times (1) packing the votes
(ratings.leaderboard_stats.vote_arrays), (2) the point fit and (3) the cluster
bootstrap, exactly as ratings.leaderboard runs them.

With --null it runs the clustered arenas of tests/ratings/leaderboard/simulation.py: how often
two equal pipelines are ranked apart (the cluster bootstrap, and for contrast the old
vote-level bootstrap with overlapping intervals), and how often real differences are found.

With --db it also times the whole `leaderboard_compute()` (PostgreSQL read
included) after filling a SCRATCH database (its name must end in "bench";
it is migrated and filled with synthetic requests, images and votes):

    DATABASE_URL=postgres://.../horde_bench .venv/bin/python bench/leaderboard_bench.py --db
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "horde_site.settings")
os.environ.setdefault("SECRET_KEY", "bench-only")
os.environ.setdefault("RATINGS_PSEUDONYM_KEY", "bench-only")

import django

django.setup()

import numpy as np  # noqa: E402

from ratings.leaderboard_stats import fit_strengths, rank_model, vote_arrays, win_matrix  # noqa: E402

TRUE = np.array([0.6, 0.2, -0.1, -0.7])
CHOICES = np.array(["left", "right", "tie", "both_bad"])


def simulate(votes: int, seed: int, tie_share: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    left = rng.integers(0, len(TRUE), votes)
    right = (left + rng.integers(1, len(TRUE), votes)) % len(TRUE)  # never the same pipeline
    p_left = 1 / (1 + np.exp(-(TRUE[left] - TRUE[right])))
    draw = rng.random(votes)
    # Draws (split between tie and both_bad) happen regardless of strength, so with
    # --tie-share > 0 the fitted strengths shrink towards 0 (half a win each way).
    decisive = np.where(rng.random(votes) < p_left, 0, 1)
    choice = np.where(draw < tie_share / 2, 2, np.where(draw < tie_share, 3, decisive))
    return left, right, CHOICES[choice]


def bench(votes: int, rounds: int, repeat: int, tie_share: float, raters: int) -> dict[str, float]:
    left, right, choice = simulate(votes, seed=votes, tie_share=tie_share)
    rater = np.random.default_rng(votes).integers(0, raters, votes)
    timings: dict[str, list[float]] = {"pack": [], "fit": [], "fit+bootstrap": []}
    for _ in range(repeat):
        start = time.perf_counter()
        table = vote_arrays(
            size=len(TRUE), left=left, right=right, choice=choice, request=np.arange(votes), rater=rater
        )
        timings["pack"].append(time.perf_counter() - start)

        start = time.perf_counter()
        fit_strengths(win_matrix(table))
        timings["fit"].append(time.perf_counter() - start)

        start = time.perf_counter()
        result = rank_model(table, rounds=rounds, seed=1)
        timings["fit+bootstrap"].append(time.perf_counter() - start)
    centred = TRUE - TRUE.mean()
    covered = int(np.sum((result["ci_low"] <= centred) & (centred <= result["ci_high"])))
    # Best of N: the machine is shared, and the minimum is the least disturbed run.
    out = {name: min(values) for name, values in timings.items()}
    out["max_error"] = float(np.max(np.abs(result["strength"] - centred)))
    out["covered"] = covered
    out["ranks"] = result["rank"].tolist()
    out["ci_width"] = float(np.mean(result["ci_high"] - result["ci_low"]))
    return out


def null_rates(boards: int, rounds: int) -> None:
    """False separations of two equal pipelines, new method vs old, and power, on clustered arenas."""
    from tests.ratings.leaderboard.simulation import Arena, simulate, vote_level_ranks

    def rate(arena: Arena, ranker, seed0: int) -> float:
        hits = 0
        for seed in range(boards):
            ranks = ranker(simulate(arena, seed=seed0 + seed), seed)
            hits += ranks[0] < ranks[1] if arena.strengths[0] > arena.strengths[1] else ranks[0] != ranks[1]
        return hits / boards

    def cluster(votes, seed):
        return rank_model(votes, rounds=rounds, seed=seed)["rank"]

    def vote_level(votes, seed):
        return vote_level_ranks(votes, rounds=rounds, seed=seed)

    print(f"clustered arenas (tests/ratings/leaderboard/simulation.py), {boards} boards, {rounds} rounds")
    print(f"{'arena':<40} {'cluster':>8} {'old':>8}")
    for label, kwargs in [
        ("default (15 raters, 300 requests)", {}),
        ("8 raters", {"raters": 8}),
        ("strong rater taste (sd 1.0)", {"taste_sd": 1.0}),
        ("1000 requests", {"requests": 1000}),
    ]:
        null = Arena(strengths=(0.0, 0.0), **kwargs)
        print(f"{'null, ' + label:<40} {rate(null, cluster, 0):>8.3f} {rate(null, vote_level, 0):>8.3f}")
    for difference in (0.5, 1.0):
        real = Arena(strengths=(difference / 2, -difference / 2))
        print(
            f"{f'power, difference {difference}':<40} {rate(real, cluster, 10_000):>8.3f} "
            f"{rate(real, vote_level, 10_000):>8.3f}"
        )


def fill_database(target: int, seed: int = 0) -> None:
    """Top the scratch database up to `target` votes of one synthetic model (bulk inserts)."""
    from accounts.models import User
    from generation.models import GenerationRequest, Image, ImageModel, Job, Pipeline
    from ratings.models import Vote

    model, _ = ImageModel.objects.get_or_create(name="bench", defaults={"queue": "bench"})
    pipelines = [Pipeline.objects.get_or_create(model=model, name=f"p{i}")[0] for i in range(len(TRUE))]
    user, _ = User.objects.get_or_create(username="bench-rater")
    raters = [User.objects.get_or_create(username=f"bench-rater-{i}")[0] for i in range(50)]
    have = Vote.objects.filter(request__model=model).count()
    left, right, choice = simulate(target - have, seed=seed + have, tie_share=0.1)
    for start in range(0, len(left), 5000):
        chunk = range(start, min(start + 5000, len(left)))
        requests = GenerationRequest.objects.bulk_create(
            GenerationRequest(
                user=user, model=model, prompt="bench", width=64, height=64, steps=1, seed=i, n=2, kudos=1
            )
            for i in chunk
        )
        jobs = Job.objects.bulk_create(
            Job(request=request, index=side, position=side, model=model, pipeline=pipelines[index], seed=0, kudos=1)
            for request, i in zip(requests, chunk, strict=True)
            for side, index in enumerate((left[i], right[i]))
        )
        images = Image.objects.bulk_create(
            Image(job=job, request=job.request, file="bench.webp", width=64, height=64, seed=0) for job in jobs
        )
        Vote.objects.bulk_create(
            Vote(
                request=request,
                rater=raters[i % len(raters)],
                source="arena",
                left_image=images[2 * n],
                right_image=images[2 * n + 1],
                choice=choice[i],
            )
            for n, (request, i) in enumerate(zip(requests, chunk, strict=True))
        )


def bench_database(targets: list[int], rounds: int, repeat: int) -> None:
    from django.conf import settings

    from ratings.leaderboard import collect_votes, leaderboard_compute

    name = settings.DATABASES["default"]["NAME"]
    if not str(name).endswith("bench"):
        raise SystemExit(
            f"--db fills the database with synthetic data: point DATABASE_URL at a *bench database, not {name}"
        )
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)  # a scratch database: start from nothing
    print(f"{'votes':>8} {'fill s':>8} {'read s':>8} {'compute s':>10}  (database {name})")
    for target in sorted(targets):
        start = time.perf_counter()
        fill_database(target)
        filled = time.perf_counter() - start
        reads, computes = [], []
        for _ in range(repeat):
            start = time.perf_counter()
            collect_votes()
            reads.append(time.perf_counter() - start)
            start = time.perf_counter()
            leaderboard_compute(rounds=rounds)
            computes.append(time.perf_counter() - start)
        print(f"{target:>8} {filled:>8.1f} {min(reads):>8.3f} {min(computes):>10.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--votes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--tie-share", type=float, default=0.0, help="share of votes that are tie / both_bad")
    parser.add_argument("--raters", type=int, default=50, help="raters the synthetic votes are spread over")
    parser.add_argument("--db", action="store_true", help="also time leaderboard_compute() on a scratch database")
    parser.add_argument("--null", action="store_true", help="false-separation rate and power on clustered arenas")
    parser.add_argument("--boards", type=int, default=200, help="simulated leaderboards per --null figure")
    args = parser.parse_args()
    if args.null:
        null_rates(args.boards, args.rounds)
        return
    print(
        f"4 pipelines, true strengths {TRUE.tolist()}, tie share {args.tie_share}, {args.raters} raters, "
        f"{args.rounds} bootstrap rounds, best of {args.repeat} runs"
    )
    print(f"{'votes':>8} {'pack s':>8} {'fit ms':>8} {'fit+boot s':>10} {'max err':>8} {'CI width':>8}  covered  ranks")
    for votes in args.votes:
        r = bench(votes, args.rounds, args.repeat, args.tie_share, args.raters)
        print(
            f"{votes:>8} {r['pack']:>8.3f} {r['fit'] * 1000:>8.2f} {r['fit+bootstrap']:>10.3f} "
            f"{r['max_error']:>8.3f} {r['ci_width']:>8.3f}  {r['covered']}/4      {r['ranks']}"
        )
    if args.db:
        bench_database(args.votes, args.rounds, args.repeat)


if __name__ == "__main__":
    main()
