"""What single-image ratings add to a rater's trust (registered in AestheticsConfig.ready).

- Control images: a rating of a "rate this image N" image is a check, right when it is N.
- Divergence: a real rating is compared with the mean of the same image's ratings by other
  raters whose trust is not excluded (at least RATINGS_CONSENSUS_MIN_OTHERS of them); it
  agrees when it is within AESTHETICS_MAX_DIVERGENCE of that mean.
"""

from __future__ import annotations

from collections import defaultdict

from django.conf import settings

from accounts.models import User
from ratings.services.trust import CheckTally

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


_ALL = """
WITH recent AS (
    SELECT r.rater_id, r.image_id, r.rating, r.is_check, s.control_rating
    FROM (SELECT rater_id, image_id, rating, is_check,
                 row_number() OVER (PARTITION BY rater_id ORDER BY created_at DESC) AS rank
          FROM aesthetics_imagerating) r
    JOIN aesthetics_setimage s ON s.id = r.image_id
    WHERE r.rank <= %(recent)s
), excluded AS (
    SELECT user_id FROM ratings_ratertrust WHERE excluded
), crowd AS (
    -- Per image: the real ratings of raters who are not excluded.
    SELECT image_id, count(*) AS n, sum(rating) AS total FROM aesthetics_imagerating i
    WHERE NOT is_check AND NOT EXISTS (SELECT 1 FROM excluded e WHERE e.user_id = i.rater_id)
    GROUP BY image_id
), compared AS (
    -- Each real rating against the others' (the rater's own taken out when it is in the crowd).
    SELECT r.rater_id, r.rating, c.n - m.me AS others, c.total - m.me * r.rating AS others_total
    FROM recent r
    CROSS JOIN LATERAL (SELECT CASE WHEN EXISTS (SELECT 1 FROM excluded e WHERE e.user_id = r.rater_id)
                                    THEN 0 ELSE 1 END AS me) m
    JOIN crowd c ON c.image_id = r.image_id
    WHERE NOT r.is_check
)
SELECT rater_id, sum(checks), sum(checks_right), sum(consensus), sum(agreed) FROM (
    SELECT rater_id, count(*) AS checks, count(*) FILTER (WHERE rating = control_rating) AS checks_right,
           0 AS consensus, 0 AS agreed
    FROM recent WHERE is_check AND control_rating IS NOT NULL GROUP BY rater_id
    UNION ALL
    SELECT rater_id, 0, 0, count(*),
           count(*) FILTER (WHERE abs(rating - others_total::float8 / others) <= %(divergence)s)
    FROM compared WHERE others >= %(min_others)s GROUP BY rater_id
) t GROUP BY rater_id
"""


def single_image_checks_all() -> dict[int, CheckTally]:
    """`single_image_checks` for every rater at once, in one statement (PostgreSQL): for
    ratings.services.trust_batch, which recomputes all raters together."""
    from django.db import connection

    params = {
        "recent": RECENT,
        "divergence": settings.AESTHETICS_MAX_DIVERGENCE,
        "min_others": settings.RATINGS_CONSENSUS_MIN_OTHERS,
    }
    with connection.cursor() as cursor:
        cursor.execute(_ALL, params)
        return {
            rater_id: CheckTally(
                checks=int(checks), checks_right=int(right), consensus=int(consensus), consensus_right=int(agreed)
            )
            for rater_id, checks, right, consensus, agreed in cursor.fetchall()
        }
