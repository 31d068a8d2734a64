"""Plain builders for leaderboard and export tests (the fixtures in conftest.py wrap them).

The generation and voting services are built elsewhere, so the data is made
directly with the ORM, with real small webp files in default storage.
"""

from __future__ import annotations

import io
import itertools
from datetime import datetime

from django.core.files.base import ContentFile
from PIL import Image as PILImage

_counter = itertools.count(1)


def webp_bytes(color: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", (16, 16), color).save(buffer, format="WEBP")
    return buffer.getvalue()


def make_model(name: str = "SDXL_beta::stability.ai#6901"):
    from generation.models import ImageModel

    return ImageModel.objects.create(
        name=name,
        queue=f"q-{next(_counter)}",
        compare_pipelines=True,
        # The comparison rules are database constraints.
        images_per_request=2,
        always_shared=True,
        anonymous_allowed=False,
        min_width=1024,
        min_height=1024,
    )


def make_pipeline(model, name: str, version: str = "1"):
    from generation.models import Pipeline

    return Pipeline.objects.create(model=model, name=name, version=version)


def make_pair(model, pipeline_a, pipeline_b, *, owner, files: bool = False, prompt: str = "a bee on a flower"):
    """A finished request whose two images come from `pipeline_a` (position 0) and `pipeline_b`.

    Returns (request, image_a, image_b). With `files=True` each image is a real webp in default storage.
    """
    from generation.models import GenerationRequest, Image, Job

    seed = next(_counter)
    request = GenerationRequest.objects.create(
        user=owner,
        model=model,
        prompt=prompt,
        params={"sampler_name": "k_euler", "cfg_scale": 7.0},
        width=1024,
        height=1024,
        steps=30,
        seed=seed,
        n=2,
        shared=True,
        kudos=20,
        status=GenerationRequest.Status.DONE,
    )
    images = []
    for index, pipeline in enumerate((pipeline_a, pipeline_b)):
        job = Job.objects.create(
            request=request,
            index=index,
            position=index,
            model=model,
            pipeline=pipeline,
            seed=seed,
            kudos=10,
            status=Job.Status.DONE,
            pipeline_version=pipeline.version,
        )
        image = Image(job=job, request=request, width=1024, height=1024, seed=seed)
        if files:
            image.file.save(f"{job.pk}.webp", ContentFile(webp_bytes((40 * index, 90, 160))), save=False)
        else:
            image.file.name = f"images/none/{job.pk}.webp"
        image.save()
        images.append(image)
    return request, images[0], images[1]


def make_vote(request, rater, left, right, choice: str, *, created_at: datetime | None = None, **fields):
    """A vote on `request` showing `left` then `right`; `created_at` may be set for --since tests."""
    from ratings.models import Vote

    fields.setdefault("source", Vote.Source.ARENA)
    vote = Vote.objects.create(
        request=request, rater=rater, left_image=left, right_image=right, choice=choice, **fields
    )
    if created_at is not None:
        Vote.objects.filter(pk=vote.pk).update(created_at=created_at)
        vote.refresh_from_db()
    return vote


def calibrated(user, **fields):
    """Give `user` the trust row of a rater who passed calibration (their votes weigh in)."""
    from django.conf import settings

    from ratings.models import RaterTrust

    figures = {
        "gold_votes": settings.RATINGS_CALIBRATION_CHECKS,
        "gold_agreement": 1.0,
        "arena_votes": settings.RATINGS_CALIBRATION_PAIRS,
        **fields,
    }
    RaterTrust.objects.update_or_create(user=user, defaults=figures)
    return user
