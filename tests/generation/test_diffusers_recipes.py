"""Pipeline recipes of the diffusers backend: validated without the GPU install."""

from __future__ import annotations

import pytest

from generation.backends.recipes import RecipeError, recipe_validate, scheduler_for
from generation.management.commands.seed_demo import MODELS, SDXL_BETA


def test_it_fills_in_the_defaults_of_a_base_only_recipe():
    assert recipe_validate({"base": "sdxl-base-1.0"}) == {
        "base": "sdxl-base-1.0",
        "refiner": None,
        "refiner_switch": None,
        "scheduler": None,
        "steps": None,
        "guidance": None,
    }


def test_a_refiner_without_a_switch_takes_over_at_eighty_percent():
    recipe = recipe_validate({"base": "sdxl-base-1.0", "refiner": "sdxl-refiner-1.0", "guidance": 7})

    assert recipe["refiner_switch"] == 0.8
    assert recipe["guidance"] == 7.0


def test_it_names_every_problem_at_once():
    with pytest.raises(RecipeError) as error:
        recipe_validate(
            {
                "base": "",
                "scheduler": "warp_drive",
                "steps": 0,
                "guidance": "high",
                "refiner_swtich": 0.8,
            }
        )

    message = str(error.value)
    for problem in ("'base'", "warp_drive", "'steps'", "'guidance'", "refiner_swtich"):
        assert problem in message


@pytest.mark.parametrize("name", ["../etc", "/abs/path", "a/../../b", "a/b/c", ".hidden", "with space"])
def test_a_checkpoint_name_cannot_leave_the_models_folder(name):
    with pytest.raises(RecipeError, match="folder name under HORDE_MODELS_DIR"):
        recipe_validate({"base": name})


def test_an_org_slash_name_checkpoint_is_allowed():
    assert recipe_validate({"base": "stabilityai/sdxl-base-1.0"})["base"] == "stabilityai/sdxl-base-1.0"


@pytest.mark.parametrize("switch", [0, 1, 1.5, -0.2, True, "0.8"])
def test_the_refiner_switch_must_lie_strictly_between_zero_and_one(switch):
    with pytest.raises(RecipeError, match="refiner_switch"):
        recipe_validate({"base": "b", "refiner": "r", "refiner_switch": switch})


def test_a_refiner_switch_without_a_refiner_is_refused():
    with pytest.raises(RecipeError, match="no 'refiner'"):
        recipe_validate({"base": "b", "refiner_switch": 0.7})


def test_a_recipe_must_be_an_object():
    with pytest.raises(RecipeError, match="JSON object"):
        recipe_validate(["sdxl-base-1.0"])


def test_the_two_sdxl_beta_recipes_of_seed_demo_are_valid_and_different():
    (sdxl,) = [model for model in MODELS if model["name"] == SDXL_BETA]
    base_only, with_refiner = (recipe_validate(p["recipe"]) for p in sdxl["pipelines"])

    assert base_only["refiner"] is None
    assert base_only["scheduler"] == "euler"
    assert with_refiner["refiner"] == "sdxl-refiner-1.0"
    assert with_refiner["scheduler"] == "dpmpp_2m_karras"
    assert with_refiner["refiner_switch"] == 0.8
    assert base_only["base"] == with_refiner["base"]


@pytest.mark.parametrize(
    ("sampler_name", "karras", "scheduler"),
    [
        ("k_euler", True, "euler"),
        ("k_euler_a", False, "euler_a"),
        ("k_dpmpp_2m", True, "dpmpp_2m_karras"),
        ("k_dpmpp_2m", False, "dpmpp_2m"),
        ("DDIM", True, "ddim"),
        ("k_dpm_fast", True, "euler"),
    ],
)
def test_a_recipe_without_a_scheduler_follows_the_requests_sampler(sampler_name, karras, scheduler):
    recipe = recipe_validate({"base": "sdxl-base-1.0"})

    assert scheduler_for(recipe, sampler_name=sampler_name, karras=karras) == scheduler


def test_a_recipe_scheduler_wins_over_the_requests_sampler():
    recipe = recipe_validate({"base": "sdxl-base-1.0", "scheduler": "ddim"})

    assert scheduler_for(recipe, sampler_name="k_dpmpp_2m", karras=True) == "ddim"
