"""Reads of image sets and single-image ratings."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import uuid

from django.conf import settings
from django.db.models import BooleanField, Case, F, FloatField, Q, QuerySet, Value, When
from django.db.models.expressions import RawSQL
from django.db.models.functions import Abs, Cast
from django.utils import timezone

from accounts.models import User
from generation.models import Image

from .models import ImageRating, SetImage


def _pool(*, rater: User, dataset_id: uuid.UUID | None) -> QuerySet[SetImage]:
    images = (
        SetImage.objects.filter(rating_set__active=True)
        .exclude(
            # NOT EXISTS on the (image, rater) unique index: one probe per candidate looked at.
            pk__in=ImageRating.objects.filter(rater=rater).values("image_id")
        )
        # A shared image a moderator hid leaves the pool at once (hidden ones are few: a hashed subplan).
        .exclude(generated_id__in=Image.objects.filter(hidden_at__isnull=False).values("id"))
    )
    if dataset_id is not None:
        images = images.filter(rating_set_id=dataset_id)
    return images


def from_start(images: QuerySet[SetImage], *, start: uuid.UUID) -> QuerySet[SetImage]:
    """Images at or after (lowest tier, start) in (rating_count, id) order. A row comparison
    is one seek in that index; `id >= start` alone would scan the lowest tier up to start."""
    return images.filter(
        RawSQL(
            '("aesthetics_setimage"."rating_count", "aesthetics_setimage"."id") >= (0, %s)',
            (start,),
            output_field=BooleanField(),
        )
    )


def rating_next(
    *, rater: User, dataset_id: uuid.UUID | None = None, rng: random.Random | None = None
) -> SetImage | None:
    """An image this rater has not rated, fewest ratings first (below the target), or None.

    Never a count over ratings: the stored `rating_count` is read through the
    (rating_count, id) index, from a random point in the id order so raters asking at
    the same moment get different images of the lowest tier (an image does not collect
    a crowd of ratings past its target while the first ones are still being given).
    About one call in AESTHETICS_CONTROL_EVERY serves a control image instead, chosen
    and shown exactly like any other image.
    """
    rng = rng or random.Random()
    pool = _pool(rater=rater, dataset_id=dataset_id)
    every = settings.AESTHETICS_CONTROL_EVERY
    if every > 0 and rng.random() < 1 / every:
        control = pool.filter(control_rating__isnull=False).order_by("?").first()
        if control is not None:
            return control
    # Raters pool: real images below the target (control images stay available through the draw above).
    pool = pool.filter(control_rating__isnull=True, rating_count__lt=settings.AESTHETICS_TARGET_RATINGS)
    start = uuid.UUID(int=rng.getrandbits(128))
    ordered = pool.order_by("rating_count", "id")
    after = from_start(ordered, start=start).first()
    # The lowest tier may hold images only before `start`: the first of all, also one seek.
    first = ordered.first() if after is None or after.rating_count > 0 else None
    found = [image for image in (after, first) if image is not None]
    return min(found, key=lambda image: image.rating_count) if found else None


def with_divergence(ratings: QuerySet[ImageRating]) -> QuerySet[ImageRating]:
    """Each rating with `others_mean` (the image's other ratings, from the stored counters)
    and `divergence` = |rating - others_mean| (null while nobody else rated the image)."""
    others = F("image__rating_count") - 1
    others_mean = Case(
        When(image__rating_count__gt=1, then=Cast(F("image__rating_sum") - F("rating"), FloatField()) / others),
        default=Value(None, output_field=FloatField()),
        output_field=FloatField(),
    )
    return ratings.annotate(others_mean=others_mean).annotate(divergence=Abs(F("rating") - F("others_mean")))


def _compare(field: str, value: int | None, comparison: str | None) -> Q:
    if value is None:
        return Q()
    return Q(**{f"{field}__{ {'ge': 'gte', 'le': 'lte', 'eq': 'exact'}[comparison or 'eq'] }": value})


@dataclasses.dataclass(frozen=True)
class RatingFilter:
    """The filters horde-sdk's ratings client sends (`rating` / `artifacts` with a ge|le|eq
    comparison, `min_ratings` of the image, `diverge`: at least this far from the others)."""

    rating: int | None = None
    rating_comparison: str | None = None
    artifacts: int | None = None
    artifacts_comparison: str | None = None
    min_ratings: int | None = None
    diverge: float | None = None

    def apply(self, ratings: QuerySet[ImageRating]) -> QuerySet[ImageRating]:
        ratings = with_divergence(ratings).filter(
            _compare("rating", self.rating, self.rating_comparison),
            _compare("artifacts", self.artifacts, self.artifacts_comparison),
        )
        if self.min_ratings is not None:
            ratings = ratings.filter(image__rating_count__gte=self.min_ratings)
        if self.diverge is not None:
            ratings = ratings.filter(divergence__gte=self.diverge)
        return ratings


def user_ratings(*, user: User, filters: RatingFilter) -> QuerySet[ImageRating]:
    return (
        filters.apply(ImageRating.objects.filter(rater=user))
        .select_related("image", "rater")
        .order_by("-created_at", "id")
    )


def image_ratings(*, image: SetImage) -> QuerySet[ImageRating]:
    return ImageRating.objects.filter(image=image).select_related("rater").order_by("created_at", "id")


def user_check(*, user: User, minutes: int, divergence: float, now: dt.datetime | None = None) -> dict:
    """The ratings service's `user/check` figures of one rater."""
    now = now or timezone.now()
    mine = ImageRating.objects.filter(rater=user)
    in_timeframe = mine.filter(created_at__gte=now - dt.timedelta(minutes=minutes)).count()
    three_hours = mine.filter(created_at__gte=now - dt.timedelta(hours=3)).count()
    real = with_divergence(mine.filter(is_check=False))
    return {
        "ratings_in_timeframe": in_timeframe,
        "ratings_per_minute_in_timeframe": round(in_timeframe / minutes, 4),
        "ratings_past_three_hours": three_hours,
        "ratings_per_minute_for_past_three_hours": round(three_hours / 180, 4),
        "suspect_divergences": real.filter(divergence__gt=divergence).count(),
        "captchas_failed": mine.filter(is_check=True).exclude(rating=F("image__control_rating")).count(),
    }


def not_waiting_for_ratings() -> Q:
    """A Q on GenerationRequest: none of the request's images waits for single-image ratings
    (in an active set, below the target). For ratings.selectors.retired_conditions."""
    waiting = SetImage.objects.filter(
        generated__isnull=False, rating_set__active=True, rating_count__lt=settings.AESTHETICS_TARGET_RATINGS
    ).values("generated__request_id")
    return ~Q(pk__in=waiting)
