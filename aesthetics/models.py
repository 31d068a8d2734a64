"""Image sets and single-image ratings (the LAION-style aesthetics flywheel).

Invariants:
- An image is in a set at most once: its content hash (sha256 of the re-encoded,
  metadata-free webp that is stored) is unique per set, so a re-run of an import
  or an image found twice adds nothing.
- Stored image files are always `generation.services.images.webp_clean` output
  under a random name: nothing in the file or its URL tells where it came from.
- A rater rates an image at most once (a unique constraint decides, also under
  races); rating is 1-10, artifacts 0-5 (CheckConstraints).
- `SetImage.rating_count` / `rating_sum` are stored counters, updated in the same
  transaction as the rating insert (F() expressions), so picking the next image
  is an index scan, never a count over all ratings.
- A control image ("rate this image 7") has `control_rating`; its ratings are
  checks, never preferences: they feed rater trust and stay out of the dataset's
  means (`is_check`).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from generation.models import Image


class RatingSet(models.Model):
    """A named collection of images for single-image rating."""

    # The built-in set that shared SDXL beta images join by themselves (housekeeping).
    SHARED_COMPARISONS = "shared-comparisons"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    # Only active sets are served for rating.
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SetImage(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    rating_set = models.ForeignKey(RatingSet, on_delete=models.CASCADE, related_name="images")
    file = models.FileField(max_length=200)
    content_hash = models.CharField(max_length=64, help_text="sha256 of the stored (re-encoded) file.")
    # Where it came from in the import (file name or Parquet row), for resuming; never served.
    source = models.CharField(max_length=500, blank=True)
    prompt = models.TextField(blank=True)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    # A shared SDXL beta image joins the built-in set through this link (one set row per image).
    generated = models.ForeignKey(Image, null=True, blank=True, on_delete=models.SET_NULL, related_name="set_images")
    # A "rate this image N" attention check: the instruction is in the picture itself.
    control_rating = models.PositiveSmallIntegerField(null=True, blank=True)
    rating_count = models.PositiveIntegerField(default=0)
    rating_sum = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["rating_set", "content_hash"], name="setimage_unique_content"),
            models.UniqueConstraint(
                fields=["rating_set", "generated"],
                condition=Q(generated__isnull=False),
                name="setimage_unique_generated",
            ),
            models.CheckConstraint(
                name="setimage_control_range",
                condition=Q(control_rating__isnull=True) | Q(control_rating__gte=1, control_rating__lte=10),
            ),
        ]
        indexes = [
            # rating/new: fewest ratings first, an index scan from the bottom.
            models.Index(fields=["rating_count", "id"], name="setimage_pool_order"),
            models.Index(fields=["rating_set", "source"], name="setimage_source"),
            # The control draw reads only the (few) control images.
            models.Index(
                fields=["control_rating"], name="setimage_controls", condition=Q(control_rating__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rating_set_id}/{self.id}"

    @property
    def average(self) -> float:
        return self.rating_sum / self.rating_count if self.rating_count else 0.0


class ImageRating(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No index of their own: (image, rater) and (rater, -created_at) below lead with them, and
    # every index is written by each rating.
    image = models.ForeignKey(SetImage, on_delete=models.PROTECT, related_name="ratings", db_index=False)
    rater = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="image_ratings", db_index=False
    )
    rating = models.PositiveSmallIntegerField()
    artifacts = models.PositiveSmallIntegerField(null=True, blank=True)
    # Rated a control image: a check of the rater, not an opinion of the image.
    is_check = models.BooleanField(default=False)
    kudos_paid = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["image", "rater"], name="imagerating_once_per_rater"),
            models.CheckConstraint(name="imagerating_rating_range", condition=Q(rating__gte=1, rating__lte=10)),
            models.CheckConstraint(
                name="imagerating_artifacts_range", condition=Q(artifacts__isnull=True) | Q(artifacts__lte=5)
            ),
        ]
        indexes = [models.Index(fields=["rater", "-created_at"], name="imagerating_by_rater")]

    def __str__(self) -> str:
        return f"{self.rating} on {self.image_id} by {self.rater_id}"


class TrustRatingFigures(models.Model):
    """What one single-image rating adds to its rater's trust (aesthetics.trust), as the latest
    recompute that touched its image found it: recomputed for the images that changed."""

    # A cache, like ratings.TrustVoteFigures: no foreign key to check per row, UNLOGGED.
    rating = models.OneToOneField(
        ImageRating, on_delete=models.CASCADE, primary_key=True, related_name="trust_figures", db_constraint=False
    )
    # Only the primary key is indexed, and no image column, as in ratings.TrustVoteFigures (why there).
    rater_id = models.BigIntegerField()
    created_at = models.DateTimeField()
    is_check = models.BooleanField()
    check_right = models.BooleanField()
    consensus = models.BooleanField()
    agreed = models.BooleanField()

    def __str__(self) -> str:
        return f"trust part of rating {self.rating_id}"
