"""The diffusers backend tests: they need the optional install (requirements-gpu.txt).

Without torch/diffusers/transformers this folder is not collected at all (the base
suite stays light and has nothing skipped); `HORDE_TEST_GPU=1 ./scripts/test.sh tests/generation/gpu`
installs them (the CPU build of torch) and runs these tests.
"""

from __future__ import annotations

import importlib.util

import pytest

GPU_DEPENDENCIES = ("torch", "diffusers", "transformers")
collect_ignore_glob = ["*"] if any(importlib.util.find_spec(name) is None for name in GPU_DEPENDENCIES) else []

BASE = "tiny-sdxl-base"
BASE_B = "tiny-sdxl-base-b"
REFINER = "tiny-sdxl-refiner"


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory):
    """A HORDE_MODELS_DIR with tiny random SDXL checkpoints: a base, a refiner and a second base."""
    from generation.backends.diffusers_testing import tiny_sdxl_save

    folder = tmp_path_factory.mktemp("models")
    tiny_sdxl_save(folder, base_name=BASE, refiner_name=REFINER, seed=0)
    tiny_sdxl_save(folder, base_name=BASE_B, refiner_name=None, seed=1)
    return folder


@pytest.fixture
def backend(models_dir):
    from generation.backends.diffusers_backend import DiffusersBackend

    return DiffusersBackend(models_dir=models_dir, device="cpu", max_resident=3)


@pytest.fixture
def sdxl_beta_recipes():
    """The two SDXL beta recipes of seed_demo, pointed at the tiny checkpoints."""
    from generation.management.commands.seed_demo import MODELS, SDXL_BETA

    (sdxl,) = [model for model in MODELS if model["name"] == SDXL_BETA]
    tiny = {"sdxl-base-1.0": BASE, "sdxl-refiner-1.0": REFINER}
    recipes = {}
    for pipeline in sdxl["pipelines"]:
        recipe = dict(pipeline["recipe"])
        recipe["base"] = tiny[recipe["base"]]
        if recipe.get("refiner"):
            recipe["refiner"] = tiny[recipe["refiner"]]
        recipes[pipeline["name"]] = recipe
    return recipes
