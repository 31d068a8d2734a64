"""The procedural backend: a CPU stand-in for a diffusion model.

Deterministic (same prompt, seed and pipeline: same picture), fast (a few
milliseconds at 512x512), and visibly tied to its inputs: colours and shapes
come from a hash of them, and the prompt and seed are written on the picture.
The two pipelines of an SDXL-beta pair hash differently (and draw in different
styles), so the two images of a pair differ. The pipeline's name is never
written: judging a pair must be blind.
"""

from __future__ import annotations

import hashlib
import os
import random
import textwrap
import time
from typing import Any

from django.conf import settings
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from .base import JobSpec


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # Pillow built without FreeType
        return ImageFont.load_default()


class ProceduralBackend:
    name = "procedural"

    def __init__(self, **options: Any) -> None:
        self.options = options
        # Simulated inference time (demos, benchmarks, crash tests): a real GPU takes seconds.
        self.seconds = float(options.get("seconds", settings.HORDE_PROCEDURAL_SECONDS))

    def _rng(self, spec: JobSpec) -> random.Random:
        parts = (spec.prompt, spec.negative_prompt, str(spec.seed), spec.pipeline_name, spec.pipeline_version)
        key = "\x00".join(parts)
        return random.Random(hashlib.sha256(key.encode()).digest())

    def generate(self, spec: JobSpec) -> Image.Image:
        if self.seconds > 0:
            time.sleep(self.seconds)
        rng = self._rng(spec)
        width, height = spec.width, spec.height

        def colour(alpha: int | None = None) -> tuple[int, ...]:
            rgb = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
            return rgb if alpha is None else (*rgb, alpha)

        # A smooth background: a 3x3 grid of colours blown up with bicubic resampling.
        grid = Image.new("RGB", (3, 3))
        grid.putdata([colour() for _ in range(9)])
        image = grid.resize((width, height), Image.Resampling.BICUBIC).convert("RGBA")

        layer = Image.new("RGBA", (width, height), (0, 0, 0, 0))
        draw = ImageDraw.Draw(layer)
        # More steps, more detail; the pipeline's recipe changes the style of shapes.
        shapes = 6 + min(spec.steps, 60) // 3
        style = int(hashlib.sha256(spec.pipeline_name.encode()).hexdigest(), 16) % 3
        for _ in range(shapes):
            x0, y0 = rng.randrange(width), rng.randrange(height)
            size = rng.randrange(max(width, height) // 12, max(width, height) // 3)
            box = (x0 - size // 2, y0 - size // 2, x0 + size // 2, y0 + size // 2)
            fill = colour(rng.randrange(90, 220))
            kind = (rng.randrange(3) + style) % 3
            if kind == 0:
                draw.ellipse(box, fill=fill)
            elif kind == 1:
                draw.rectangle(box, fill=fill, outline=colour(255), width=max(1, size // 40))
            else:
                points = [(x0 + rng.randrange(-size, size), y0 + rng.randrange(-size, size)) for _ in range(3)]
                draw.polygon(points, fill=fill)
        image = Image.alpha_composite(image, layer)
        if spec.recipe.get("refiner"):
            # A "refined" pipeline looks smoother, like a refiner pass would.
            image = image.filter(ImageFilter.SMOOTH_MORE)

        # The caption: what was asked for (not which pipeline drew it: pairs are judged blind).
        draw = ImageDraw.Draw(image)
        font_size = max(10, width // 28)
        font = _font(font_size)
        chars = max(12, int(width / (font_size * 0.55)))
        lines = textwrap.wrap(spec.prompt, width=chars)[:4] or ["(no prompt)"]
        lines.append(f"seed {spec.seed}")
        line_height = int(font_size * 1.3)
        top = height - line_height * len(lines) - font_size // 2
        draw.rectangle((0, top - font_size // 4, width, height), fill=(0, 0, 0, 150))
        for index, line in enumerate(lines):
            draw.text((font_size // 2, top + index * line_height), line, fill=(255, 255, 255, 255), font=font)
        return image.convert("RGB")

    def device_info(self) -> dict[str, Any]:
        rss_mb = 0.0
        try:
            with open(f"/proc/{os.getpid()}/status") as handle:
                for line in handle:
                    if line.startswith("VmRSS:"):
                        rss_mb = int(line.split()[1]) / 1024
        except OSError:
            pass
        return {"device": "cpu", "memory_used_mb": round(rss_mb, 1), "backend": self.name}
