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
