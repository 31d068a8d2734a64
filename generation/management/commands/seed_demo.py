"""python manage.py seed_demo: the demo models, pipelines, demo user and GPU operator (idempotent)."""

from __future__ import annotations

import contextlib
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import User
from accounts.services import user_create
from generation.models import ImageModel, Pipeline
from kudos.services import DuplicateEvent, kudos_adjust

SDXL_BETA = "SDXL_beta::stability.ai#6901"
# Owns run.sh's GPU worker: a comparison is never served by a worker of its requester,
# so the demo user's own pairs need a worker owned by someone else. It cannot log in.
GPU_OPERATOR = "horde-gpu"
DEMO_PASSWORD = "demo-password"  # noqa: S105 - the demo account is public by design

MODELS: list[dict[str, Any]] = [
    {
        "name": "stable_diffusion",
        "queue": "model.stable_diffusion",
        "description": "Stable Diffusion 1.5: 512x512 by default, open to anonymous users.",
        "default_width": 512,
        "default_height": 512,
        "min_width": 64,
        "max_width": 1024,
        "min_height": 64,
        "max_height": 1024,
        "default_steps": 30,
        "max_steps": 100,
        "anonymous_allowed": True,
        "always_shared": False,
        "images_per_request": None,
        "compare_pipelines": False,
        "pipelines": [
            {
                "name": "sd15-base",
                "version": "1",
                "description": "SD 1.5, Euler, 30 steps",
                "recipe": {"base": "stable-diffusion-v1-5", "scheduler": "euler", "guidance": 7.5},
            },
        ],
    },
    {
        "name": SDXL_BETA,
        "queue": "model.sdxl_beta",
        "description": "The SDXL beta: two images from two different pipelines per request, to be judged.",
        "default_width": 1024,
        "default_height": 1024,
        "min_width": 1024,
        "max_width": 2048,
        "min_height": 1024,
        "max_height": 2048,
        "default_steps": 30,
        "max_steps": 60,
        "anonymous_allowed": False,
        "always_shared": True,
        "images_per_request": 2,
        "compare_pipelines": True,
        "pipelines": [
            {
                "name": "sdxl-base",
                "version": "1",
                "description": "SDXL base alone, Euler, full steps",
                "recipe": {"base": "sdxl-base-1.0", "scheduler": "euler", "guidance": 7.0, "refiner": None},
            },
            {
                "name": "sdxl-base-refiner",
                "version": "1",
                "description": "SDXL base for 80% of the steps, then the refiner (DPM++ 2M Karras)",
                "recipe": {
                    "base": "sdxl-base-1.0",
                    "scheduler": "dpmpp_2m_karras",
                    "guidance": 7.0,
                    "refiner": "sdxl-refiner-1.0",
                    "refiner_switch": 0.8,
                },
            },
        ],
    },
]


class Command(BaseCommand):
    help = "Create the demo image models, their pipelines, the demo user and the GPU operator (safe to run again)."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        for spec in MODELS:
            spec = dict(spec)
            pipelines = spec.pop("pipelines")
            model, created = ImageModel.objects.get_or_create(name=spec["name"], defaults=spec)
            self.stdout.write(f"{'created' if created else 'kept'} model {model.name}")
            for pipeline in pipelines:
                Pipeline.objects.get_or_create(
                    model=model, name=pipeline["name"], version=pipeline["version"], defaults=pipeline
                )
        demo = User.objects.filter(username="demo").first()
        if demo is None:
            demo = user_create(username="demo", email="demo@example.com", password=DEMO_PASSWORD, is_staff=True)
            demo.is_superuser = True
            demo.save(update_fields=["is_superuser"])
            self.stdout.write("created user demo (password demo-password, staff)")
        if not User.objects.filter(username=GPU_OPERATOR).exists():
            user_create(username=GPU_OPERATOR)  # no password: an owner of workers, not a person
            self.stdout.write(f"created user {GPU_OPERATOR} (owns the demo GPU worker)")
        # The event key makes the grant happen once, however often seed_demo runs.
        with contextlib.suppress(DuplicateEvent):
            kudos_adjust(
                user=demo,
                amount=5000,
                reason="demo starting kudos",
                staff_user=None,
                event_key="seed-demo:demo-grant",
            )
