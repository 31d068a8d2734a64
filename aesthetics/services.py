"""Single-image ratings: the write side of the ratings service.

Money and data rules:
- The rating row, the image's stored counters and the reward are written in one
  transaction; the (image, rater) unique constraint decides who was first, so a
  second rating, also a concurrent one, fails on the insert and rolls back
  before anything is paid.
- The reward goes through the ledger (kudos.services.kudos_rebate) with one
  event key per image and rater: it can never be paid twice.
- Nothing is paid while the rater's trust is excluded or flagged. A control
  image pays like any other image: the answer must not tell a check apart.
- Ratings are throttled per rater (a minimum interval and a per-minute cap, as the
  arena's votes), checked under the rater's trust-row lock so that concurrent ratings
  cannot slip past together; a throttled rating stores nothing and pays nothing.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Max
from django.utils import timezone

from accounts.models import User
from generation.models import Image
from kudos.services import kudos_rebate
from ratings.services.trust import rater_trust_locked

from .errors import RatingRefused
from .models import ImageRating, SetImage


def _image(image_id: uuid.UUID | str) -> tuple[SetImage, int | None]:
    """The image to rate and, for a shared generation, its requester's id; refused when it is
    not in an active set or a moderator hid the generation. The generation is read apart and
    only for shared generations: joined for every rating, it took longer than the rest of the read."""
    try:
        image = SetImage.objects.select_related("rating_set").filter(pk=uuid.UUID(str(image_id))).first()
    except ValueError:
        image = None
    hidden, requester = False, None
    if image is not None and image.generated_id is not None:
        generated = Image.objects.filter(pk=image.generated_id).values_list("hidden_at", "request__user_id").first()
        hidden = generated is None or generated[0] is not None
        requester = generated[1] if generated else None
    if image is None or not image.rating_set.active or hidden:
        raise RatingRefused(f"Image with ID '{image_id}' not found.", "ImageNotFound", status=404)
    return image, requester


def _check_values(rating: object, artifacts: object) -> None:
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 10:
        raise RatingRefused("rating must be a whole number from 1 to 10.", "BadRequest")
    if artifacts is not None and (
        isinstance(artifacts, bool) or not isinstance(artifacts, int) or not 0 <= artifacts <= 5
    ):
        raise RatingRefused("artifacts must be a whole number from 0 to 5.", "BadRequest")


def _too_many(message: str) -> RatingRefused:
    return RatingRefused(message, "TooManyRatings", status=429)


def check_rating_throttle(*, rater: User, now: dt.datetime) -> None:
    """Refuse a rating that comes too soon after the rater's last one, or past the per-minute cap.

    Call it holding the rater's trust-row lock (as image_rate does): read without the lock,
    two simultaneous ratings would both see room for one.
    """
    interval = settings.AESTHETICS_MIN_RATING_INTERVAL_SECONDS
    per_minute = settings.AESTHETICS_MAX_RATINGS_PER_MINUTE
    if interval <= 0 and per_minute <= 0:
        return
    # One read on the (rater, -created_at) index: the last minute's count and the latest.
    row = ImageRating.objects.filter(
        rater=rater, created_at__gt=now - dt.timedelta(seconds=60), created_at__lte=now
    ).aggregate(count=Count("id"), last=Max("created_at"))
    if row["last"] is not None and interval > 0:
        since = (now - row["last"]).total_seconds()
        if since < interval:
            raise _too_many(
                f"Ratings must be at least {interval:g}s apart; wait {interval - since:.1f}s and rate again."
            )
    if per_minute > 0 and row["count"] >= per_minute:
        raise _too_many(f"At most {per_minute} image ratings a minute; wait a little and rate again.")


def image_rate(
    *, rater: User, image_id: uuid.UUID | str, rating: int, artifacts: int | None, now: dt.datetime | None = None
) -> ImageRating:
    """Store one rater's rating of one image and pay its reward (once).

    Throttled per rater (429 TooManyRatings: nothing stored, nothing paid)."""
    _check_values(rating, artifacts)
    image, requester = _image(image_id)
    if requester == rater.pk:
        # Their own generation: an owner's opinion of their own image is not a crowd rating.
        raise RatingRefused("You cannot rate an image you generated.", "NotOwner", status=403)
    now = now or timezone.now()
    is_check = image.control_rating is not None
    try:
        with transaction.atomic():
            # The rater's ratings commit one at a time: two at once cannot both pass the throttle.
            trust = rater_trust_locked(rater=rater)
            check_rating_throttle(rater=rater, now=now)
            reward = settings.AESTHETICS_RATING_REWARD if not (trust.excluded or trust.flagged) else 0
            # The insert comes first: when the unique constraint refuses it (a second rating,
            # also a concurrent one), the whole block rolls back before anything is counted or paid.
            row = ImageRating.objects.create(
                image=image,
                rater=rater,
                rating=rating,
                artifacts=artifacts,
                is_check=is_check,
                kudos_paid=reward,
                created_at=now,
            )
            # F() in the same transaction as the insert: the counter is exact under concurrent raters.
            SetImage.objects.filter(pk=image.pk).update(
                rating_count=F("rating_count") + 1, rating_sum=F("rating_sum") + rating
            )
            if reward:
                kudos_rebate(
                    user=rater, amount=reward, event_key=f"image-rating:{image.pk}:{rater.pk}", memo="Image rating"
                )
    except IntegrityError as exc:
        # Only the insert can break a constraint here (values were checked above).
        raise RatingRefused("You have already rated this image.", "RatingAlreadySubmitted") from exc
    if is_check:
        # A control answer moves trust the most: a failing rater stops earning at once.
        from ratings.services.trust import rater_trust_recompute

        rater_trust_recompute(user=rater, now=now)
    return row
