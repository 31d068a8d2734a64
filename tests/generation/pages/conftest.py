"""Fixtures of the generation page tests: the demo models and finished requests."""

from __future__ import annotations

import io

import pytest
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.utils import timezone
from PIL import Image as PILImage

from generation.models import GenerationRequest, Image, ImageModel, Job

SDXL_BETA = "SDXL_beta::stability.ai#6901"


@pytest.fixture(autouse=True)
def _no_celery_dispatch(settings):
    # Page tests look at rows; no Celery worker consumes the queues here.
    settings.HORDE_CELERY_DISPATCH = False


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Queue figures (worker capacity) are cached in Redis for a few seconds: start and
    # end each test without another test's figures.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def demo_models(db) -> dict[str, ImageModel]:
    call_command("seed_demo", stdout=io.StringIO())
    return {
        "sd": ImageModel.objects.get(name="stable_diffusion"),
        "sdxl": ImageModel.objects.get(name=SDXL_BETA),
    }


def webp_bytes(width: int, height: int, color: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", (width, height), color).save(buffer, format="WEBP", quality=50)
    return buffer.getvalue()


def store_images(generation: GenerationRequest) -> list[Image]:
    """Give each unfinished job of a request a real webp image and mark it all done (plain rows)."""
    images = []
    jobs = list(generation.jobs.order_by("index"))
    for job in jobs:
        if hasattr(job, "image"):
            continue
        color = (40 + 90 * job.position, 120, 200 - 60 * job.position)
        image = Image(job=job, request=generation, width=generation.width, height=generation.height, seed=job.seed)
        image.file.save(
            f"{job.id}.webp", ContentFile(webp_bytes(generation.width, generation.height, color)), save=False
        )
        image.save()
        images.append(image)
    now = timezone.now()
    Job.objects.filter(request=generation).update(status=Job.Status.DONE, finished_at=now)
    GenerationRequest.objects.filter(pk=generation.pk).update(status=GenerationRequest.Status.DONE, finished_at=now)
    generation.refresh_from_db()
    return images


def submit(user, model: ImageModel, **params) -> GenerationRequest:
    """A request made the real way (the same service the form and the API call)."""
    from generation.services import request_submit

    body = {"prompt": params.pop("prompt", "a red fox in the snow"), "params": params, "models": [model.name]}
    return request_submit(user=user, body=body).request
