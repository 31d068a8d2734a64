"""The arena's next pair at the seed's scale: 100,000 shared SDXL beta pairs with 1 M votes.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/horde_aesthetics_bench \\
        .venv/bin/python bench/arena_bench.py [--pairs 100000] [--votes-per-pair 10] [--calls 100]

Runs on a database `bench/aesthetics_bench.py` filled (its raters: rater0..), or with --fresh
on a new one (dropped, recreated, migrated; --raters users made). Adds the pairs in SQL (done,
shared, two images from two pipelines each) and --votes-per-pair arena votes on each from
distinct raters (the crowd of bench/crowd.py; --random-crowd for every answer at random),
with the pairs' stored live-vote counters, then times `ratings.services.arena_next` for random
raters (the check-item draw included, at its rate: a few gold pairs are marked) and the
endpoint `GET /api/v2/ratings/arena/next` in-process (apikey auth, DRF, the service and the
day's tally). Prints p50/p99 in ms, the seek's plan, and writes bench/out/arena.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
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

import crowd  # noqa: E402
from aesthetics_bench import summary  # noqa: E402
from w1 import recreate_database  # noqa: E402


def fill(pairs: int, per_pair: int, *, random_crowd: bool = False) -> float:
    from django.db import connection

    from accounts.models import User
    from generation.models import ImageModel, Pipeline

    started = time.perf_counter()
    model = ImageModel.objects.create(
        name="SDXL_beta::bench",
        queue="bench-sdxl",
        compare_pipelines=True,
        always_shared=True,
        images_per_request=2,
        anonymous_allowed=False,
        min_width=1024,
        min_height=1024,
        max_width=1024,
        max_height=1024,
    )
    first = Pipeline.objects.create(model=model, name="base")
    second = Pipeline.objects.create(model=model, name="refiner")
    owner = User.objects.create(username="bench-requester", password="!")  # noqa: S106 - unusable
    raters = User.objects.filter(username__startswith="rater").count()
    base = User.objects.filter(username="rater0").values_list("pk", flat=True).get()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            CREATE TEMP TABLE bench_pair AS
            SELECT n, gen_random_uuid() AS request_id, gen_random_uuid() AS job0, gen_random_uuid() AS job1,
                   gen_random_uuid() AS image0, gen_random_uuid() AS image1
            FROM generate_series(1, %s) AS n
            """,
            [pairs],
        )
        cursor.execute(
            """
            INSERT INTO generation_generationrequest (id, prompt, params, width, height, steps, seed, n, nsfw,
                censor_nsfw, shared, r2, trusted_workers, slow_workers, workers, worker_blacklist, client_agent,
                kudos, status, faults, created_at, finished_at, user_id, model_id)
            SELECT request_id, 'prompt ' || n, '{}', 1024, 1024, 30, n, 2, false, false, true, true, false, true,
                   '[]', false, '', 60, 'done', 0, now(), now(), %s, %s FROM bench_pair
            """,
            [owner.pk, model.pk],
        )
        for side, job, pipeline in ((0, "job0", first.pk), (1, "job1", second.pk)):
            cursor.execute(
                f"""
                INSERT INTO generation_job (id, index, position, seed, kudos, status, priority, attempts,
                    pipeline_version, created_at, finished_at, model_id, request_id, pipeline_id)
                SELECT {job}, {side}, {side}, n, 30, 'done', 0, 1, '1', now(), now(), %s, request_id, %s
                FROM bench_pair
                """,  # noqa: S608 - fixed column names, no input
                [model.pk, pipeline],
            )
            cursor.execute(
                f"""
                INSERT INTO generation_image (id, file, width, height, seed, censored, created_at, request_id, job_id)
                SELECT image{side}, 'images/bench/' || image{side} || '.webp', 1024, 1024, n, false, now(),
                       request_id, {job}
                FROM bench_pair
                """  # noqa: S608 - fixed column names, no input
            )
        cursor.execute(
            """
            INSERT INTO ratings_vote (id, source, choice, kudos_paid, created_at, left_image_id, right_image_id,
                                      rater_id, request_id, is_check)
            SELECT gen_random_uuid(), 'arena', {choice}, 2, now() - make_interval(secs => random() * 86400 * 7),
                   image0, image1, %s + k, request_id, false
            FROM (SELECT *, (n::bigint * 7919 + j * 4729) %% %s AS k
                  FROM bench_pair, generate_series(0, %s - 1) AS j) AS drawn
            """.format(  # noqa: S608 - the crowd's fixed SQL, no input
                # The pair's better image: the first pipeline's two times in three, and the
                # gold pairs' expected answer (left, below).
                choice=crowd.vote_choice(
                    rater_index="k", left_better="(n %% 3 <> 0 OR n %% 5000 = 1)", random_crowd=random_crowd
                )
            ),
            [base, raters, per_pair],
        )
        # The stored counter, as the vote service keeps it (each pair got exactly per_pair votes).
        cursor.execute(
            "UPDATE generation_generationrequest SET arena_votes = %s WHERE model_id = %s", [per_pair, model.pk]
        )
        # A few pairs with fewer votes (a lower tier the seek must find), and 20 gold pairs.
        cursor.execute(
            "UPDATE generation_generationrequest SET arena_votes = 0 WHERE id IN "
            "(SELECT request_id FROM bench_pair WHERE n %% %s = 0)",
            [1000],
        )
        cursor.execute(
            "INSERT INTO ratings_goldpair (request_id, expected_choice, active, note, created_at) "
            "SELECT request_id, 'left', true, 'bench', now() FROM bench_pair WHERE n %% %s = 1",
            [5000],
        )
        cursor.execute("ANALYZE")
    return round(time.perf_counter() - started, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=100_000)
    parser.add_argument("--votes-per-pair", type=int, default=10)
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--fresh", action="store_true", help="Drop and recreate the bench database first.")
    parser.add_argument("--raters", type=int, default=20_000, help="Users to make with --fresh.")
    parser.add_argument(
        "--random-crowd", action="store_true", help="Fill with every answer at random (bench/crowd.py: the worst case)."
    )
    parser.add_argument("--reuse", action="store_true", help="Measure again on the pairs a run filled.")
    args = parser.parse_args()
    if args.fresh:
        recreate_database(os.environ.get("DATABASE_URL", ""))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from accounts.models import User
    from ratings.services import arena_next

    if "bench" not in str(connection.settings_dict["NAME"]):
        raise SystemExit("Name a bench database (with 'bench' in its name).")
    if args.fresh:
        call_command("migrate", verbosity=0)
        User.objects.bulk_create(
            (User(username=f"rater{i}", password="!") for i in range(args.raters)),  # noqa: S106 - unusable
            batch_size=5000,
        )
    figures = {
        "pairs": args.pairs,
        "votes": args.pairs * args.votes_per_pair,
        "fill_s": 0.0 if args.reuse else fill(args.pairs, args.votes_per_pair, random_crowd=args.random_crowd),
    }
    print(f"filled {figures['pairs']} pairs and {figures['votes']} votes in {figures['fill_s']} s", flush=True)
    raters = list(User.objects.filter(username__startswith="rater").order_by("?")[: args.calls])
    random.seed(3)
    times = []
    for rater in raters:
        start = time.perf_counter()
        arena_next(rater=rater)
        times.append(time.perf_counter() - start)
    figures["arena_next"] = summary(times)
    figures["load_average"] = os.getloadavg()
    print(f"arena_next: {figures['arena_next']}, load average {figures['load_average']}")
    # The endpoint as a client calls it (apikey auth, DRF, the service, the day's tally), in-process.
    from django.test import Client

    from accounts.services import apikey_rotate

    client = Client()
    keys = [apikey_rotate(user=rater) for rater in raters[:200]]
    for key in keys[:20]:  # warm: connections, plans
        client.get("/api/v2/ratings/arena/next", HTTP_APIKEY=key)
    times = []
    for call in range(args.calls):
        key = keys[call % len(keys)]
        start = time.perf_counter()
        answer = client.get("/api/v2/ratings/arena/next", HTTP_APIKEY=key)
        times.append(time.perf_counter() - start)
        assert answer.status_code == 200, answer.content
    figures["arena_next_api"] = summary(times)
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        client.get("/api/v2/ratings/arena/next", HTTP_APIKEY=keys[0])
    figures["arena_next_api_queries"] = len(queries)
    print(f"GET /api/v2/ratings/arena/next: {figures['arena_next_api']}, {len(queries)} queries", flush=True)
    # The seek's plan (the pool's SQL is private to ratings.arena_pool: the bench reads it as is).
    from ratings.arena_pool import _NOT_CHECK, _pool

    sql, params = _pool(rater=raters[0], now=None)
    with connection.cursor() as cursor:
        seek = sql + _NOT_CHECK + " ORDER BY r.arena_votes, r.id LIMIT 1"
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + seek, params)
        figures["seek_plan"] = [row[0] for row in cursor.fetchall()]
    print("\n".join(figures["seek_plan"]))
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "arena.json").write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
