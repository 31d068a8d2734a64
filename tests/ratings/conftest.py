"""Finished pairs built straight with the ORM (the generation services live on another branch).

A pair is what the SDXL beta makes: one request, two done jobs from two
different pipelines shown in a stored order, two real webp images, and the
requester charged for each job in the ledger (event `job-charge:<job id>`).
"""

from __future__ import annotations

import datetime as dt
import io
import itertools

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image as PILImage
from PIL import ImageDraw

from generation.models import GenerationRequest, Image, ImageModel, Job, Pipeline
from kudos.models import Entry, Transaction
from kudos.services import kudos_charge

_colors = itertools.cycle([(200, 60, 60), (60, 160, 90), (60, 90, 200), (220, 180, 40), (150, 70, 180)])


def webp_bytes(*, color: tuple[int, int, int], text: str = "") -> bytes:
    picture = PILImage.new("RGB", (96, 96), color)
    if text:
        ImageDraw.Draw(picture).text((6, 40), text, fill=(255, 255, 255))
    buffer = io.BytesIO()
    picture.save(buffer, format="WEBP")
    return buffer.getvalue()


@pytest.fixture
def sdxl_model(db):
    model = ImageModel.objects.create(
        name="SDXL_beta::test",
        queue="sdxl_beta_test",
        compare_pipelines=True,
        always_shared=True,
        images_per_request=2,
        anonymous_allowed=False,
        min_width=1024,  # the comparison rules are database constraints
        min_height=1024,
    )
    Pipeline.objects.create(model=model, name="base", version="1")
    Pipeline.objects.create(model=model, name="refiner", version="2")
    return model


@pytest.fixture
def plain_model(db):
    return ImageModel.objects.create(name="stable_diffusion", queue="sd15_test")


@pytest.fixture
def make_pair(sdxl_model):
    """make_pair(user, shared=True, status="done", finished_ago=60, job_kudos=30, texts=(...)) -> request."""

    def make(
        user,
        *,
        shared: bool = True,
        status: str = GenerationRequest.Status.DONE,
        finished_ago: float = 60,
        job_kudos: int = 30,
        model: ImageModel | None = None,
        texts: tuple[str, str] = ("", ""),
        charge: bool = True,
    ) -> GenerationRequest:
        model = model or sdxl_model
        now = timezone.now()
        done = status == GenerationRequest.Status.DONE
        request = GenerationRequest.objects.create(
            user=user,
            model=model,
            prompt="a lighthouse at dusk",
            params={"sampler_name": "k_euler", "cfg_scale": 7},
            width=1024,
            height=1024,
            steps=30,
            seed=1234,
            n=2,
            shared=shared,
            kudos=2 * job_kudos,
            status=status,
            finished_at=now - dt.timedelta(seconds=finished_ago) if done else None,
        )
        pipelines = list(Pipeline.objects.filter(model=model)) or [None, None]
        # Shown order differs from creation order, as the generation branch draws it at random.
        for index, position in enumerate((1, 0)):
            job = Job.objects.create(
                request=request,
                index=index,
                position=position,
                model=model,
                pipeline=pipelines[index],
                seed=1234,
                kudos=job_kudos,
                status=Job.Status.DONE if done else Job.Status.QUEUED,
                finished_at=request.finished_at,
            )
            if charge:
                kudos_charge(user=user, amount=job_kudos, event_key=f"job-charge:{job.id}")
            if done:
                image = Image(job=job, request=request, width=96, height=96, seed=1234)
                image.file.save(f"{job.id}.webp", ContentFile(webp_bytes(color=next(_colors), text=texts[position])))
        return request

    return make


def ledger_counts() -> tuple[int, int]:
    return Transaction.objects.count(), Entry.objects.count()


def shown_pair(request: GenerationRequest) -> tuple[Image, Image]:
    """The pair in its stored shown order (position 0 = left)."""
    images = list(Image.objects.filter(request=request).order_by("job__position"))
    return images[0], images[1]
