"""The generate page like the clients people use: negative prompt, sampler, CFG scale, "same
seed again", and the API's own rules and messages in the form."""

from __future__ import annotations

import pytest

from generation.models import GenerationRequest

from .conftest import store_images, submit

pytestmark = pytest.mark.django_db


def form_data(model, **overrides):
    data = {"model": model.name, "prompt": "a lighthouse at dawn", "width": 512, "height": 512, "steps": 20, "n": 1}
    data.update(overrides)
    return data


def test_negative_prompt_sampler_and_cfg_reach_the_request_as_the_ai_horde_takes_them(client, alice, demo_models):
    client.force_login(alice[0])
    response = client.post(
        "/generate",
        form_data(demo_models["sd"], negative_prompt="blurry, text", sampler_name="k_dpmpp_2m", cfg_scale="5.5"),
    )
    assert response.status_code == 302
    generation = GenerationRequest.objects.get()
    assert generation.prompt == "a lighthouse at dawn ### blurry, text"
    assert generation.params["sampler_name"] == "k_dpmpp_2m"
    assert generation.params["cfg_scale"] == 5.5


def test_a_prompt_too_long_with_its_negative_is_refused_in_the_form_with_the_apis_message(
    client, alice, demo_models, settings
):
    settings.HORDE_MAX_PROMPT_CHARS = 50
    client.force_login(alice[0])
    response = client.post("/generate", form_data(demo_models["sd"], prompt="x" * 40, negative_prompt="y" * 10))
    assert response.status_code == 200
    assert "The prompt may be at most 50 characters." in response.content.decode()
    assert not GenerationRequest.objects.exists()
    assert 'data-max-chars="50"' in client.get("/generate").content.decode()


def test_a_size_outside_the_models_limits_says_the_rule_not_select_a_valid_choice(client, alice, demo_models):
    client.force_login(alice[0])
    response = client.post("/generate", form_data(demo_models["sdxl"], width=512, height=1024))
    html = response.content.decode()
    assert "Width must be a multiple of 64 between 1024 and 2048 for SDXL_beta::stability.ai#6901." in html
    assert "Select a valid choice" not in html
    assert not GenerationRequest.objects.exists()


def test_same_seed_again_fills_the_form_as_the_earlier_request_was_made(client, alice, demo_models):
    client.force_login(alice[0])
    client.post(
        "/generate",
        form_data(demo_models["sd"], negative_prompt="fog", sampler_name="k_heun", cfg_scale="9", seed=4242, width=576),
    )
    earlier = GenerationRequest.objects.get()
    store_images(earlier)
    GenerationRequest.objects.filter(pk=earlier.pk).update(status=GenerationRequest.Status.DONE)
    page = client.get(f"/requests/{earlier.id}").content.decode()
    assert f'id="same-seed" href="/generate?again={earlier.id}"' in page
    form = client.get(f"/generate?again={earlier.id}").context["form"]
    values = {name: form[name].value() for name in ("prompt", "negative_prompt", "sampler_name", "cfg_scale", "seed")}
    assert values == {
        "prompt": "a lighthouse at dawn",
        "negative_prompt": "fog",
        "sampler_name": "k_heun",
        "cfg_scale": 9.0,
        "seed": 4242,
    }
    assert form["width"].value() == 576


def test_someone_elses_request_or_a_bad_id_fills_nothing_in(client, alice, bob, demo_models):
    theirs = submit(bob[0], demo_models["sd"], prompt="bob's secret prompt", width=64, height=64, steps=1)
    client.force_login(alice[0])
    for again in (theirs.id, "not-a-uuid"):
        response = client.get(f"/generate?again={again}")
        assert response.status_code == 200
        assert "bob's secret prompt" not in response.content.decode()
