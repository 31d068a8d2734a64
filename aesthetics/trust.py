"""What single-image ratings add to a rater's trust (registered in AestheticsConfig.ready).

- Control images: a rating of a "rate this image N" image is a check, right when it is N.
- Divergence: a real rating is compared with the mean of the same image's ratings by other
  raters whose trust is not excluded (at least RATINGS_CONSENSUS_MIN_OTHERS of them); it
  agrees when it is within AESTHETICS_MAX_DIVERGENCE of that mean.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.conf import settings

from accounts.models import User
from ratings.services import trust_batch
from ratings.services.trust import CheckTally
from ratings.services.trust_batch import CLEAR, REINDEX, run_part_steps

from .models import ImageRating

RECENT = 1000


def single_image_checks(user: User) -> CheckTally:
    mine = list(
        ImageRating.objects.filter(rater=user)
        .select_related("image")
        .order_by("-created_at")
        .only("rating", "is_check", "image_id", "image__control_rating")[:RECENT]
    )
    checks = [row for row in mine if row.is_check and row.image.control_rating is not None]
    real = {row.image_id: row.rating for row in mine if not row.is_check}
    others: dict = defaultdict(list)
    rows = (
        ImageRating.objects.filter(image_id__in=list(real), is_check=False)
        .exclude(rater=user)
        .exclude(rater__rater_trust__excluded=True)
        .values_list("image_id", "rating")
    )
    for image_id, rating in rows.iterator():
        others[image_id].append(rating)
    consensus = agreed = 0
    for image_id, rating in real.items():
        crowd = others.get(image_id, [])
        if len(crowd) < settings.RATINGS_CONSENSUS_MIN_OTHERS:
            continue
        consensus += 1
        agreed += abs(rating - sum(crowd) / len(crowd)) <= settings.AESTHETICS_MAX_DIVERGENCE
    return CheckTally(
        checks=len(checks),
        checks_right=sum(row.rating == row.image.control_rating for row in checks),
        consensus=consensus,
        consensus_right=agreed,
    )


# What one rating adds to its rater's figures depends only on it and on its image's crowd (the
# stored counters less the excluded raters' ratings), so it is stored per rating
# (TrustRatingFigures) and recomputed for the images whose crowd can have changed: every rating's
# part in a full run, else the parts of the images rated since %(since)s or rated by a rater who joined or left
# the crowd since (temporary table trust_flipped, from ratings.services.trust_batch).
_IMAGES_CHANGED = """
CREATE TEMP TABLE trust_images ON COMMIT DROP AS
SELECT image_id FROM aesthetics_imagerating WHERE created_at >= %(since)s
UNION SELECT i.image_id FROM aesthetics_imagerating i JOIN trust_flipped f ON f.user_id = i.rater_id
"""
# The raters those images' ratings belong to (for trust_batch.trust_changed_sources).
CHANGED = """
SELECT rater_id FROM aesthetics_imagerating WHERE image_id IN (
    SELECT image_id FROM aesthetics_imagerating WHERE created_at >= %(since)s
    UNION SELECT i.image_id FROM aesthetics_imagerating i JOIN trust_flipped f ON f.user_id = i.rater_id
)"""

# More than trust_batch.BULK_SHARE of the images redone (against the planner's row estimate).
_MANY_CHANGED = """
SELECT (SELECT count(*) FROM trust_images) > %(bulk_share)s
       * GREATEST((SELECT reltuples FROM pg_class WHERE oid = 'aesthetics_setimage'::regclass), 1)
"""
_CLEAR_ALL = "TRUNCATE aesthetics_trustratingfigures"
# Through the ratings' own (image, rater) index: the parts table keeps only its primary key, so
# that a full run's reload builds one index instead of three (1.6 s for 1.5 M parts).
_CLEAR_IMAGES = """
DELETE FROM aesthetics_trustratingfigures WHERE rating_id IN (
    SELECT r.id FROM aesthetics_imagerating r WHERE r.image_id IN (SELECT image_id FROM trust_images))
"""

# Control answers, and each real rating against the mean of the image's other real ratings by
# raters who are not excluded (the rater's own taken out of the image's totals when it is in them).
_IMAGE_FILTERS = {
    "{images:i.image_id}": "i.image_id IN (SELECT image_id FROM trust_images)",
    "{images:s.id}": "s.id IN (SELECT image_id FROM trust_images)",
}
_IMAGES_LIST_STEPS = ["CREATE UNIQUE INDEX ON trust_images (image_id)", "ANALYZE trust_images"]
_PART_STEPS = [
    *_IMAGES_LIST_STEPS,
    CLEAR,
    """
    INSERT INTO aesthetics_trustratingfigures (rating_id, rater_id, created_at, is_check, check_right, consensus,
                                               agreed)
    WITH excluded AS (
        SELECT user_id FROM ratings_ratertrust WHERE excluded
    ), left_out AS (
        -- What the excluded raters put into the images' stored counters (few rows).
        SELECT image_id, count(*) AS n, sum(rating) AS total FROM aesthetics_imagerating i
        WHERE i.rater_id IN (SELECT user_id FROM excluded) AND {images:i.image_id}
        GROUP BY image_id
    ), crowd AS (
        -- Per image, from the stored counters (exact: moved in each rating's transaction): the
        -- ratings of raters who are not excluded. (A control image's ratings are all checks and
        -- are never compared.)
        SELECT s.id AS image_id, s.control_rating, s.rating_count - COALESCE(l.n, 0) AS n,
               s.rating_sum - COALESCE(l.total, 0) AS total
        FROM aesthetics_setimage s LEFT JOIN left_out l ON l.image_id = s.id
        WHERE {images:s.id}
    )
    SELECT r.id, r.rater_id, r.created_at,
           r.is_check AND c.control_rating IS NOT NULL,
           r.is_check AND c.control_rating IS NOT NULL AND r.rating = c.control_rating,
           NOT r.is_check AND c.n - m.me >= %(min_others)s AND c.n - m.me > 0,
           NOT r.is_check AND c.n - m.me >= %(min_others)s AND c.n - m.me > 0
               AND abs(r.rating - (c.total - m.me * r.rating)::float8 / NULLIF(c.n - m.me, 0)) <= %(divergence)s
    FROM aesthetics_imagerating r
    JOIN crowd c ON c.image_id = r.image_id
    LEFT JOIN excluded e ON e.user_id = r.rater_id
    CROSS JOIN LATERAL (SELECT CASE WHEN e.user_id IS NULL THEN 1 ELSE 0 END AS me) m
    """,
    REINDEX,
]

# The parts the sums read: all of them in a full run (its scope is everyone), else those of the
# raters of this run (trust_scope); for the raters with more than RECENT ratings (trust_heavy_raters),
# the parts of their latest RECENT, summed again for them alone (ranking everyone's parts took a
# sort of all of them, and a count before it another pass).
_PARTS_ALL = "aesthetics_trustratingfigures"
_PARTS_SCOPE = "(SELECT * FROM aesthetics_trustratingfigures WHERE rater_id IN (SELECT user_id FROM trust_scope))"
_PARTS_HEAVY = """(SELECT * FROM (
    SELECT f.*, row_number() OVER (PARTITION BY rater_id ORDER BY created_at DESC) AS rank
    FROM aesthetics_trustratingfigures f WHERE rater_id IN (SELECT user_id FROM trust_heavy_raters)) ranked
    WHERE rank <= %(recent)s)"""

_SUMS = """
SELECT rater_id, count(*) FILTER (WHERE is_check), count(*) FILTER (WHERE check_right),
       count(*) FILTER (WHERE consensus), count(*) FILTER (WHERE agreed), count(*)
FROM {parts} r GROUP BY rater_id
"""


def single_image_checks_all(since: dt.datetime | None = None) -> dict[int, CheckTally]:
    """`single_image_checks` for every rater of this run (trust_scope) at once (PostgreSQL): for
    ratings.services.trust_batch, which recomputes all of them together. Refreshes the stored
    parts of the images whose crowd can have changed since `since` (all of them when None)."""
    from django.db import connection

    params = {
        "recent": RECENT,
        "divergence": settings.AESTHETICS_MAX_DIVERGENCE,
        "min_others": settings.RATINGS_CONSENSUS_MIN_OTHERS,
        "since": since,
        "bulk_share": trust_batch.BULK_SHARE,
    }
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS trust_images")
        steps = [step for step in _PART_STEPS if since is not None or step not in _IMAGES_LIST_STEPS]
        for marker, condition in _IMAGE_FILTERS.items():
            # A full run redoes every rating's part: no list of images to filter by.
            steps = [step.replace(marker, "true" if since is None else condition) for step in steps]
        if since is not None:
            cursor.execute(_IMAGES_CHANGED, params)
        run_part_steps(
            cursor,
            steps,
            params,
            table="aesthetics_trustratingfigures",
            clear_all=_CLEAR_ALL,
            clear_some=_CLEAR_IMAGES,
            full=since is None,
            many_changed=_MANY_CHANGED,
        )
        cursor.execute(_SUMS.replace("{parts}", _PARTS_ALL if since is None else _PARTS_SCOPE), params)
        rows = cursor.fetchall()
        heavy = [row[0] for row in rows if row[5] > RECENT]
        if heavy:
            cursor.execute(
                "CREATE TEMP TABLE trust_heavy_raters ON COMMIT DROP AS SELECT unnest(%s::bigint[]) AS user_id", [heavy]
            )
            cursor.execute(_SUMS.replace("{parts}", _PARTS_HEAVY), params)
            rows = [row for row in rows if row[5] <= RECENT] + cursor.fetchall()
            cursor.execute("DROP TABLE trust_heavy_raters")
        cursor.execute("DROP TABLE IF EXISTS trust_images")
    return {
        rater_id: CheckTally(
            checks=int(checks), checks_right=int(right), consensus=int(consensus), consensus_right=int(agreed)
        )
        for rater_id, checks, right, consensus, agreed, _ in rows
    }


def single_image_digest() -> str:
    """What the single-image figures depend on besides the ratings: the control answers and
    the divergence setting (for ratings.services.trust_runs' digest: a change recomputes every
    rater)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COALESCE(md5(string_agg(id::text || ':' || control_rating::text, ',' ORDER BY id)), '') "
            "FROM aesthetics_setimage WHERE control_rating IS NOT NULL"
        )
        return f"{cursor.fetchone()[0]}:{settings.AESTHETICS_MAX_DIVERGENCE!r}"


def single_image_parts_lost() -> bool:
    """Whether the stored rating parts (an UNLOGGED cache) are gone while ratings exist: for
    ratings.services.trust_runs, which then recomputes everyone."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM aesthetics_imagerating)"
            "   AND NOT EXISTS (SELECT 1 FROM aesthetics_trustratingfigures)"
        )
        return cursor.fetchone()[0]
