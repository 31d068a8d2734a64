"""Rater trust recomputed for every rater at the seed's scale: 20,000 raters with 1 M arena
votes on 100,000 pairs and 1.5 M single-image ratings of 300,000 images.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/horde_trust_bench \\
        .venv/bin/python bench/trust_bench.py [--images 300000] [--raters 20000] [--pairs 100000] [--reuse]

The database is dropped and recreated (its name must contain "bench"), migrated and filled in
SQL by the two other benches' fills (bench/aesthetics_bench.py, bench/arena_bench.py), and
every rater gets a trust row (a third calibrated, so the consensus has a crowd); the answers
are drawn by bench/crowd.py (a modelled crowd; --random-crowd for every answer at random, the
incremental run's worst case). Then times
`ratings.services.rater_trust_recompute_all` (set-based on PostgreSQL), the leaderboard's
`leaderboard_compute` over the same votes, the periodic incremental run after a quarter hour
of the seed's activity and, for comparison,
the one-rater `rater_trust_recompute` on 50 raters projected to all of them. Prints the
figures and writes bench/out/trust.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "horde_site.settings")
os.environ.setdefault("SECRET_KEY", "bench-secret-key-not-for-production")
os.environ.setdefault("RATINGS_PSEUDONYM_KEY", "bench-pseudonym-key-not-for-production")
os.environ.setdefault("HORDE_VAR_DIR", "/tmp/horde-bench-var")
os.environ.setdefault("DEBUG", "0")

from w1 import recreate_database  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=300_000)
    parser.add_argument("--raters", type=int, default=20_000)
    parser.add_argument("--pairs", type=int, default=100_000)
    parser.add_argument("--votes-per-pair", type=int, default=10)
    parser.add_argument(
        "--random-crowd", action="store_true", help="Fill with every answer at random (bench/crowd.py: the worst case)."
    )
    parser.add_argument("--reuse", action="store_true", help="Measure again on the database a run filled.")
    args = parser.parse_args()
    if not args.reuse:
        recreate_database(os.environ.get("DATABASE_URL", ""))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from accounts.models import User
    from ratings.models import Vote
    from ratings.services.trust import rater_trust_recompute, rater_trust_recompute_all

    if "bench" not in str(connection.settings_dict["NAME"]):
        raise SystemExit("Name a bench database (with 'bench' in its name).")
    figures: dict = {"raters": args.raters, "images": args.images, "pairs": args.pairs}
    if not args.reuse:
        import aesthetics_bench
        import arena_bench

        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        figures.update(aesthetics_bench.fill(args.images, args.raters, random_crowd=args.random_crowd))
        arena_bench.fill(args.pairs, args.votes_per_pair, random_crowd=args.random_crowd)
        with connection.cursor() as cursor:
            cursor.execute(
                """
                INSERT INTO ratings_ratertrust (user_id, gold_votes, gold_agreement, consensus_votes, score,
                    override, arena_votes, excluded, flagged, bias_opportunities, bias_sided, updated_at,
                    crowd_counted, crowd_excluded)
                SELECT id, CASE WHEN id %% 3 = 0 THEN 10 ELSE 0 END, CASE WHEN id %% 3 = 0 THEN 1.0 END, 0, 1.0,
                       '', 50, false, false, 0, 0, now(), false, false
                FROM accounts_user WHERE username LIKE %s
                """,
                ["rater%"],
            )
            cursor.execute("ANALYZE")
        figures["fill_s"] = round(time.perf_counter() - started, 1)
    figures["votes"] = Vote.objects.count()
    print(f"filled: {figures}", flush=True)

    started = time.perf_counter()
    figures["recomputed"] = rater_trust_recompute_all()
    figures["recompute_all_s"] = round(time.perf_counter() - started, 2)
    print(f"rater_trust_recompute_all: {figures['recomputed']} raters in {figures['recompute_all_s']} s", flush=True)
    started = time.perf_counter()
    rater_trust_recompute_all()
    figures["recompute_all_again_s"] = round(time.perf_counter() - started, 2)
    print(f"again (warm): {figures['recompute_all_again_s']} s", flush=True)

    # The periodic run: only the raters whose figures can have changed since the previous run.
    # First with nothing new (what the previous full runs' own exclusions move), then after
    # 15 minutes of the seed's activity (about 130,000 single-image ratings a week: 200 in 15
    # minutes, and as many arena votes) and after ten times that.
    from ratings.services.trust import rater_trust_recompute_changed

    figures["incremental"] = []
    for label, votes, ratings in (("nothing new", 0, 0), ("15 min at the seed's rate", 200, 200), ("x10", 2000, 2000)):
        with connection.cursor() as cursor:
            cursor.execute(
                """
                INSERT INTO ratings_vote (id, source, choice, kudos_paid, created_at, left_image_id, right_image_id,
                                          rater_id, request_id, is_check)
                SELECT gen_random_uuid(), 'arena', 'left', 0, now(), i0.id, i1.id,
                       (SELECT min(id) FROM accounts_user WHERE username LIKE 'rater%%') + (random() * %s)::int,
                       r.id, false
                FROM (SELECT id FROM generation_generationrequest WHERE arena_pool ORDER BY random() LIMIT %s) r
                JOIN generation_job j0 ON j0.request_id = r.id AND j0.position = 0
                JOIN generation_image i0 ON i0.job_id = j0.id
                JOIN generation_job j1 ON j1.request_id = r.id AND j1.position = 1
                JOIN generation_image i1 ON i1.job_id = j1.id
                ON CONFLICT DO NOTHING
                """,
                [args.raters - 1, votes],
            )
            cursor.execute(
                """
                WITH added AS (
                    INSERT INTO aesthetics_imagerating (id, image_id, rater_id, rating, artifacts, is_check,
                                                        kudos_paid, created_at)
                    SELECT gen_random_uuid(), s.id,
                           (SELECT min(id) FROM accounts_user WHERE username LIKE 'rater%%') + (random() * %s)::int,
                           1 + (random() * 9)::int, 0, false, 0, now()
                    FROM (SELECT id FROM aesthetics_setimage ORDER BY random() LIMIT %s) s
                    ON CONFLICT DO NOTHING RETURNING image_id, rating
                )
                UPDATE aesthetics_setimage s SET rating_count = s.rating_count + 1, rating_sum = s.rating_sum + a.rating
                FROM added a WHERE a.image_id = s.id
                """,
                [args.raters - 1, ratings],
            )
        started = time.perf_counter()
        recomputed = rater_trust_recompute_changed()
        seconds = round(time.perf_counter() - started, 2)
        figures["incremental"].append({"after": label, "raters": recomputed, "seconds": seconds})
        print(f"incremental after {label}: {recomputed} raters in {seconds} s", flush=True)

    one = []
    for user in User.objects.filter(username__startswith="rater").order_by("?")[:50]:
        start = time.perf_counter()
        rater_trust_recompute(user=user)
        one.append(time.perf_counter() - start)
    figures["one_rater_mean_ms"] = round(statistics.mean(one) * 1000, 1)
    figures["one_by_one_projected_s"] = round(statistics.mean(one) * figures["recomputed"], 1)
    # The leaderboard over the same 1 M votes (its periodic refresh: read, fit, 200-round cluster
    # bootstrap), every rater made staff-trusted first so that every vote counts (the worst case).
    from ratings.leaderboard import leaderboard_compute

    with connection.cursor() as cursor:
        cursor.execute("UPDATE ratings_ratertrust SET override = 'trusted', excluded = false")
    started = time.perf_counter()
    board = leaderboard_compute()
    figures["leaderboard_s"] = round(time.perf_counter() - started, 2)
    figures["leaderboard_votes"] = sum(model["votes"] for model in board["models"])
    print(f"leaderboard_compute: {figures['leaderboard_votes']} votes in {figures['leaderboard_s']} s", flush=True)
    figures["load_average"] = os.getloadavg()
    print(
        f"one rater at a time: {figures['one_rater_mean_ms']} ms each, "
        f"{figures['one_by_one_projected_s']} s projected for all; load average {figures['load_average']}"
    )
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "trust.json").write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
