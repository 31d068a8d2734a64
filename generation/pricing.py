"""The one pricing function: a request's size and steps to kudos.

Like the AI Horde's megapixelsteps: cost grows with pixels x steps. Whole
kudos (the ledger counts in integers), at least 1 per image.
"""

from __future__ import annotations

import math

from django.conf import settings

# Kudos per megapixel-step; 512x512 at 30 steps is about 8 kudos.
KUDOS_PER_MEGAPIXELSTEP = float(getattr(settings, "HORDE_KUDOS_PER_MEGAPIXELSTEP", 1.0))


def megapixelsteps(*, width: int, height: int, steps: int) -> float:
    return width * height * steps / 1_000_000


def job_kudos(*, width: int, height: int, steps: int) -> int:
    """The price of one image."""
    return max(1, math.ceil(megapixelsteps(width=width, height=height, steps=steps) * KUDOS_PER_MEGAPIXELSTEP))


def request_kudos(*, width: int, height: int, steps: int, images: int) -> int:
    """The price of a request: its images' prices added up."""
    return images * job_kudos(width=width, height=height, steps=steps)
