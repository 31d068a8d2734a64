"""Single-image ratings at the seed's scale: 300,000 images and 1.5 M ratings in PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/horde_aesthetics_bench \\
        .venv/bin/python bench/aesthetics_bench.py [--images 300000] [--raters 20000] [--calls 1000]

The database named by DATABASE_URL is dropped and recreated (its name must contain
"bench"), migrated, and filled in SQL (generate_series): one set of --images images,
each with 0-10 ratings (uniform, 5 on average: 1.5 M for 300,000 images) from distinct
raters among --raters users, with the stored counters set from the ratings. About 45%
of the images are then below the target of 5 (in the pool).

Then, through the API in-process (django.test.Client: apikey auth, DRF, the service):
- `GET /api/v1/rating/new` --calls times for random raters;
- `POST /api/v1/rating/{id}` for each image it served (a rating, a counter update and a
  ledger posting);
- `rater_trust_recompute` (the arena's trust with the single-image figures) for 100 raters,
  and the projection to all of them.
Prints p50/p99 in ms and writes bench/out/aesthetics.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "horde_site.settings")
os.environ.setdefault("SECRET_KEY", "bench-secret-key-not-for-production")
os.environ.setdefault("RATINGS_PSEUDONYM_KEY", "bench-pseudonym-key-not-for-production")
os.environ.setdefault("HORDE_VAR_DIR", "/tmp/horde-bench-var")
os.environ.setdefault("HORDE_HTTPS", "0")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost")

import crowd  # noqa: E402
from w1 import recreate_database  # noqa: E402


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def summary(seconds: list[float]) -> dict[str, float]:
    ms = [s * 1000 for s in seconds]
    return {"n": len(ms), "p50_ms": round(statistics.median(ms), 2), "p99_ms": round(pct(ms, 99), 2)}


def fill(images: int, raters: int, *, random_crowd: bool = False) -> dict[str, float]:
    from django.db import connection

    from accounts.models import User
    from aesthetics.models import RatingSet

    started = time.perf_counter()
    # "!" is an unusable password, as set_unusable_password writes.
    unusable = "!"
    User.objects.bulk_create((User(username=f"rater{i}", password=unusable) for i in range(raters)), batch_size=5000)
    base = User.objects.filter(username="rater0").values_list("pk", flat=True).get()
    rating_set = RatingSet.objects.create(name="bench")
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO aesthetics_setimage (id, rating_set_id, file, content_hash, source, prompt, width, height,
                                             control_rating, rating_count, rating_sum, created_at)
            SELECT gen_random_uuid(), %s, 'images/bench/' || n || '.webp', md5(n::text) || md5((n + 1)::text),
                   'bench-' || n, 'prompt ' || n, 512, 512, NULL, 0, 0, now()
            FROM generate_series(1, %s) AS n
            """,
            [rating_set.pk, images],
        )
        # 0-10 ratings per image from distinct raters (the stride 4729 is prime to --raters when it is 20000).
        cursor.execute(
            """
            INSERT INTO aesthetics_imagerating
                (id, image_id, rater_id, rating, artifacts, is_check, kudos_paid, created_at)
            SELECT gen_random_uuid(), id, %s + k, {rating}, (random() * 5)::int, false, 2,
                   now() - make_interval(secs => random() * 86400 * 7)
            FROM (SELECT i.id, i.n, (i.n::bigint * 7919 + j * 4729) %% %s AS k
                  FROM (SELECT id, substr(source, 7)::int AS n, (random() * 10)::int AS c
                        FROM aesthetics_setimage) AS i,
                       LATERAL generate_series(0, i.c - 1) AS j) AS drawn
            """.format(  # noqa: S608 - the crowd's fixed SQL, no input
                # Each image's true score: 1-10, spread evenly over the set.
                rating=crowd.image_rating(rater_index="k", true_score="1 + (n * 37) %% 10", random_crowd=random_crowd)
            ),
            [base, raters],
        )
        cursor.execute(
            """
            UPDATE aesthetics_setimage s SET rating_count = r.c, rating_sum = r.s
            FROM (SELECT image_id, count(*) AS c, sum(rating) AS s FROM aesthetics_imagerating GROUP BY image_id) r
            WHERE r.image_id = s.id
            """
        )
        cursor.execute("ANALYZE aesthetics_setimage; ANALYZE aesthetics_imagerating;")
        cursor.execute("SELECT count(*) FROM aesthetics_imagerating")
        ratings = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM aesthetics_setimage WHERE rating_count < 5")
        pool = cursor.fetchone()[0]
    return {"fill_s": round(time.perf_counter() - started, 1), "ratings": ratings, "pool": pool}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=300_000)
    parser.add_argument("--raters", type=int, default=20_000)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument(
        "--random-crowd", action="store_true", help="Fill with every answer at random (bench/crowd.py: the worst case)."
    )
    parser.add_argument("--reuse", action="store_true", help="Measure again on the database a run filled.")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not args.reuse:
        recreate_database(url)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from accounts.models import User
    from accounts.services import apikey_rotate
    from aesthetics.selectors import _pool as pool_of
    from aesthetics.selectors import from_start, rating_next
    from ratings.services.trust import rater_trust_recompute

    if "bench" not in str(connection.settings_dict["NAME"]):
        raise SystemExit("Name a bench database (with 'bench' in its name).")
    call_command("migrate", verbosity=0)
    figures: dict = {"images": args.images, "raters": args.raters}
    if args.reuse:
        from aesthetics.models import ImageRating, SetImage

        figures.update(
            ratings=ImageRating.objects.count(), pool=SetImage.objects.filter(rating_count__lt=5).count(), fill_s=0.0
        )
    else:
        figures.update(fill(args.images, args.raters, random_crowd=args.random_crowd))
    print(
        f"filled {args.images} images, {figures['ratings']} ratings, {figures['pool']} in the pool "
        f"in {figures['fill_s']} s"
    )

    rng = random.Random(7)
    sample = rng.sample(range(args.raters), min(200, args.raters))
    users = {u.username: u for u in User.objects.filter(username__in=[f"rater{i}" for i in sample])}
    keys = {name: apikey_rotate(user=user) for name, user in users.items()}
    client = Client()
    names = list(keys)
    for name in names[:20]:  # warm: connections, apikey cache, plans
        client.get("/api/v1/rating/new", HTTP_APIKEY=keys[name])

    news, posts, served = [], [], []
    for call in range(args.calls):
        name = names[call % len(names)]
        start = time.perf_counter()
        answer = client.get("/api/v1/rating/new", HTTP_APIKEY=keys[name])
        news.append(time.perf_counter() - start)
        assert answer.status_code == 200, answer.content
        served.append((name, answer.json()["id"]))
    for name, image_id in served:
        start = time.perf_counter()
        answer = client.post(
            f"/api/v1/rating/{image_id}",
            {"rating": 6, "artifacts": 1},
            content_type="application/json",
            HTTP_APIKEY=keys[name],
        )
        posts.append(time.perf_counter() - start)
        assert answer.status_code in (200, 400), answer.content  # 400: served twice before rating
    from django.test.utils import CaptureQueriesContext

    name, image_id = names[0], client.get("/api/v1/rating/new", HTTP_APIKEY=keys[names[0]]).json()["id"]
    with CaptureQueriesContext(connection) as new_queries:
        client.get("/api/v1/rating/new", HTTP_APIKEY=keys[name])
    with CaptureQueriesContext(connection) as post_queries:
        client.post(
            f"/api/v1/rating/{image_id}", {"rating": 5}, content_type="application/json", HTTP_APIKEY=keys[name]
        )
    figures["queries"] = {"rating_new": len(new_queries), "rating_post": len(post_queries)}
    figures["load_average"] = os.getloadavg()
    figures["rating_new"] = summary(news)
    figures["rating_post"] = summary(posts)

    # The selector alone, and its plan.
    selector = []
    for name in names:
        start = time.perf_counter()
        rating_next(rater=users[name])
        selector.append(time.perf_counter() - start)
    figures["rating_next_selector"] = summary(selector)
    with connection.cursor() as cursor:
        sql, params = (
            from_start(
                pool_of(rater=users[names[0]], dataset_id=None)
                .filter(control_rating__isnull=True, rating_count__lt=5)
                .order_by("rating_count", "id"),
                start=uuid.uuid4(),
            )
            .values("id")[:1]
            .query.sql_with_params()
        )
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        figures["rating_next_plan"] = [row[0] for row in cursor.fetchall()]

    trust = []
    for name in names[:100]:
        start = time.perf_counter()
        rater_trust_recompute(user=users[name])
        trust.append(time.perf_counter() - start)
    figures["trust_recompute_one"] = summary(trust)
    figures["trust_recompute_all_projected_s"] = round(statistics.mean(trust) * args.raters, 1)

    print(f"queries per call: {figures['queries']}, load average {figures['load_average']}")
    for key in ("rating_new", "rating_post", "rating_next_selector", "trust_recompute_one"):
        print(f"{key:>22}: {figures[key]}")
    print(f"trust recompute of all {args.raters} raters (projected): {figures['trust_recompute_all_projected_s']} s")
    print("\n".join(figures["rating_next_plan"]))
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "aesthetics.json").write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
