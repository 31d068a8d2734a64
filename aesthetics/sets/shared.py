"""Shared SDXL beta images join the built-in set `shared-comparisons` by themselves.

A housekeeping task (Celery beat) adds the finished images of shared comparison
requests that are not in the set yet, a batch at a time; the claim and complete
code is untouched. The stored file is already re-encoded without metadata
(generation.services.images), so the set row points at the same file.
"""

from __future__ import annotations

import hashlib

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef

from generation.models import GenerationRequest, Image

from ..models import RatingSet, SetImage

BATCH = 500


def shared_comparison_set() -> RatingSet:
    rating_set, _ = RatingSet.objects.get_or_create(
        name=RatingSet.SHARED_COMPARISONS,
        defaults={"description": "Images of shared SDXL beta comparisons, added by housekeeping."},
    )
    return rating_set


def shared_comparisons_join(*, batch: int = BATCH) -> int:
    """Add up to `batch` finished shared comparison images to the built-in set; returns how many."""
    rating_set = shared_comparison_set()
    already = SetImage.objects.filter(rating_set=rating_set, generated=OuterRef("pk"))
    images = (
        Image.objects.filter(
            request__model__compare_pipelines=True,
            request__shared=True,
            request__status=GenerationRequest.Status.DONE,
            hidden_at__isnull=True,
            # A retired pair may already be shown unblinded (the leaderboard's examples): its
            # images must not start being rated now.
            request__arena_retired_at__isnull=True,
        )
        .exclude(Exists(already))
        .select_related("request")
        .order_by("created_at", "id")[:batch]
    )
    added = 0
    for image in images:
        try:
            with image.file.open("rb") as handle:
                digest = hashlib.sha256(handle.read()).hexdigest()
        except OSError:
            continue  # the file is not there (yet): a later run tries again
        try:
            with transaction.atomic():
                SetImage.objects.create(
                    rating_set=rating_set,
                    file=image.file.name,
                    content_hash=digest,
                    prompt=image.request.prompt,
                    width=image.width,
                    height=image.height,
                    generated=image,
                )
        except IntegrityError:
            continue  # added by a concurrent run, or the same picture already in the set
        added += 1
    return added
