"""Fixtures of the generation tests: the demo models, workers, a helper to submit."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from PIL import Image

SD = "stable_diffusion"
SDXL = "SDXL_beta::stability.ai#6901"


@pytest.fixture
def demo_models(db):
    from django.core.cache import cache

    # The model-capacity figures are cached for seconds in Redis, which outlives a test:
    # a worker of an earlier test must not count as serving this one's models. (Only this
    # key: the broker shares the Redis database, and a flush would drop its queue bindings.)
    cache.delete("generation:model-capacity")
    call_command("seed_demo", stdout=io.StringIO())
    from generation.models import ImageModel

    return {model.name: model for model in ImageModel.objects.all()}


@pytest.fixture
def anonymous(db):
    from accounts.models import ANONYMOUS_APIKEY
    from accounts.selectors import user_by_apikey

    return user_by_apikey(key=ANONYMOUS_APIKEY)  # whom the API serves the anonymous key as


@pytest.fixture
def make_worker(db):
    from django.utils import timezone

    from generation.models import Worker

    def make(owner, name: str = "worker-1", models: list[str] | None = None, **kwargs):
        return Worker.objects.create(
            name=name,
            owner=owner,
            model_names=models if models is not None else [SD, SDXL],
            max_pixels=kwargs.pop("max_pixels", 2048 * 2048),
            last_seen=timezone.now(),
            **kwargs,
        )

    return make


def webp(width: int, height: int, colour=(200, 30, 30), fmt: str = "WEBP") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, format=fmt)
    return out.getvalue()


def body(**overrides):
    params = overrides.pop("params", {})
    data = {"prompt": "a red fox in the snow", "params": {"width": 512, "height": 512, "steps": 20, **params}}
    data["models"] = overrides.pop("models", [SD])
    data.update(overrides)
    return data
