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
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from kudos.services import kudos_rebate
from ratings.models import RaterTrust

from .errors import RatingRefused
from .models import ImageRating, SetImage


def _image(image_id: uuid.UUID | str) -> SetImage:
    try:
        image = (
            SetImage.objects.select_related("rating_set", "generated__request")
            .filter(pk=uuid.UUID(str(image_id)))
            .first()
        )
    except ValueError:
        image = None
    hidden = image is not None and image.generated is not None and image.generated.hidden_at is not None
    if image is None or not image.rating_set.active or hidden:
        raise RatingRefused(f"Image with ID '{image_id}' not found.", "ImageNotFound", status=404)
    return image


def _check_values(rating: object, artifacts: object) -> None:
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 10:
        raise RatingRefused("rating must be a whole number from 1 to 10.", "BadRequest")
    if artifacts is not None and (
        isinstance(artifacts, bool) or not isinstance(artifacts, int) or not 0 <= artifacts <= 5
    ):
        raise RatingRefused("artifacts must be a whole number from 0 to 5.", "BadRequest")


def image_rate(
    *, rater: User, image_id: uuid.UUID | str, rating: int, artifacts: int | None, now: dt.datetime | None = None
) -> ImageRating:
    """Store one rater's rating of one image and pay its reward (once)."""
    _check_values(rating, artifacts)
    image = _image(image_id)
    if image.generated_id and image.generated.request.user_id == rater.pk:
        # Their own generation: an owner's opinion of their own image is not a crowd rating.
        raise RatingRefused("You cannot rate an image you generated.", "NotOwner", status=403)
    now = now or timezone.now()
    trust, _ = RaterTrust.objects.get_or_create(user=rater)
    is_check = image.control_rating is not None
    reward = settings.AESTHETICS_RATING_REWARD if not (trust.excluded or trust.flagged) else 0
    try:
        with transaction.atomic():
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
