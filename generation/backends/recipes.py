"""Pipeline recipes of the diffusers backend: the data staff edit in the admin.

A recipe (``Pipeline.recipe``) says how one pipeline draws its images:

    {"base": "sdxl-base-1.0",          # checkpoint folder under HORDE_MODELS_DIR
     "refiner": "sdxl-refiner-1.0",    # or null: base alone
     "refiner_switch": 0.8,            # share of the steps the base runs before the refiner
     "scheduler": "dpmpp_2m_karras",   # one of SCHEDULERS; absent: the request's sampler_name
     "steps": 40,                      # optional: overrides the request's steps
     "guidance": 7.0}                  # optional: overrides the request's cfg_scale

This module imports no torch, so the admin and the web tier can validate a
recipe without the GPU install.
"""

from __future__ import annotations

import math
import re
from typing import Any

SCHEDULERS = ("euler", "euler_a", "ddim", "dpmpp_2m", "dpmpp_2m_karras", "heun", "lms", "unipc")
# A recipe without a scheduler follows the request's AI Horde sampler_name (others: euler).
HORDE_SAMPLERS = {
    "k_euler": "euler",
    "k_euler_a": "euler_a",
    "k_dpmpp_2m": "dpmpp_2m",
    "k_heun": "heun",
    "k_lms": "lms",
    "DDIM": "ddim",
}
RECIPE_KEYS = ("base", "refiner", "refiner_switch", "scheduler", "steps", "guidance")
DEFAULT_REFINER_SWITCH = 0.8
MAX_STEPS = 500
# A checkpoint is a folder under HORDE_MODELS_DIR: plain names (optionally "org/name"),
# so a recipe can never point outside that folder.
_CHECKPOINT_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


class RecipeError(ValueError):
    """A recipe that the diffusers backend cannot run; the message lists every problem."""


def _checkpoint_problem(name: Any, key: str) -> str | None:
    if not isinstance(name, str) or not name:
        return f"'{key}' must be a checkpoint folder name (a non-empty string)"
    segments = name.split("/")
    if len(segments) > 2 or any(not _CHECKPOINT_SEGMENT.match(s) or ".." in s for s in segments):
        return (
            f"'{key}' must be a folder name under HORDE_MODELS_DIR such as 'sdxl-base-1.0' or 'org/name' "
            f"(letters, digits, '.', '_', '-'), not {name!r}"
        )
    return None


def scheduler_for(recipe: dict[str, Any], *, sampler_name: str, karras: bool) -> str:
    """The scheduler a job runs: the recipe's (a comparison pins it), else the request's sampler."""
    if recipe.get("scheduler"):
        return recipe["scheduler"]
    name = HORDE_SAMPLERS.get(sampler_name, "euler")
    return "dpmpp_2m_karras" if name == "dpmpp_2m" and karras else name


def recipe_validate(recipe: Any) -> dict[str, Any]:
    """Check a recipe and return it normalised (every key present, defaults filled in).

    Raises RecipeError naming every problem at once, so staff fix a recipe in one go.
    """
    if not isinstance(recipe, dict):
        raise RecipeError(f"A recipe must be a JSON object, not {type(recipe).__name__}.")
    problems: list[str] = []
    unknown = sorted(set(recipe) - set(RECIPE_KEYS))
    if unknown:
        # Typos ("refiner_swtich") would otherwise be ignored silently.
        problems.append(f"unknown keys {', '.join(map(repr, unknown))} (allowed: {', '.join(RECIPE_KEYS)})")

    base = recipe.get("base")
    if (problem := _checkpoint_problem(base, "base")) is not None:
        problems.append(problem)

    refiner = recipe.get("refiner")
    if refiner is not None and (problem := _checkpoint_problem(refiner, "refiner")) is not None:
        problems.append(problem)

    switch = recipe.get("refiner_switch")
    if switch is None:
        switch = DEFAULT_REFINER_SWITCH if refiner else None
    elif refiner is None:
        problems.append("'refiner_switch' is set but there is no 'refiner'")
    elif isinstance(switch, bool) or not isinstance(switch, (int, float)) or not 0 < switch < 1:
        problems.append(f"'refiner_switch' must be a number between 0 and 1 (exclusive), not {switch!r}")
    else:
        switch = float(switch)

    scheduler = recipe.get("scheduler")
    if scheduler is not None and scheduler not in SCHEDULERS:
        problems.append(f"'scheduler' must be one of {', '.join(SCHEDULERS)}, not {scheduler!r}")

    steps = recipe.get("steps")
    if steps is not None and (isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= MAX_STEPS):
        problems.append(f"'steps' must be a whole number from 1 to {MAX_STEPS} (or absent), not {steps!r}")

    guidance = recipe.get("guidance")
    if guidance is not None:
        if isinstance(guidance, bool) or not isinstance(guidance, (int, float)) or not math.isfinite(guidance):
            problems.append(f"'guidance' must be a number (or absent), not {guidance!r}")
        elif not 0 <= guidance <= 30:
            problems.append(f"'guidance' must be between 0 and 30, not {guidance!r}")
        else:
            guidance = float(guidance)

    if problems:
        raise RecipeError("Invalid pipeline recipe: " + "; ".join(problems) + ".")
    return {
        "base": base,
        "refiner": refiner,
        "refiner_switch": switch,
        "scheduler": scheduler,
        "steps": steps,
        "guidance": guidance,
    }
