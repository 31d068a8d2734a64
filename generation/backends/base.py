"""The inference backend interface."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from PIL import Image


@dataclass(frozen=True)
class JobSpec:
    """Everything a backend needs to draw one image (no database objects)."""

    job_id: str
    model_name: str
    pipeline_name: str
    pipeline_version: str
    recipe: dict[str, Any]
    prompt: str
    negative_prompt: str
    width: int
    height: int
    steps: int
    seed: int
    cfg_scale: float = 7.5
    sampler_name: str = "k_euler"
    extra: dict[str, Any] = field(default_factory=dict)


class InferenceBackend(Protocol):
    name: str

    def generate(self, spec: JobSpec) -> Image.Image:
        """Draw the image; same spec, same image. Runs outside any DB transaction."""
        ...

    def device_info(self) -> dict[str, Any]:
        """What the heartbeat reports: device, memory in use, loaded pipelines."""
        ...
