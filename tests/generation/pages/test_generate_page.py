"""The generate form and its live price endpoint."""

from __future__ import annotations

import pytest

from generation import pricing
from generation.forms import GenerateForm
from generation.models import GenerationRequest, Job

pytestmark = pytest.mark.django_db


def form_data(model, **overrides):
    data = {"model": model.name, "prompt": "a lighthouse at dawn", "width": 512, "height": 512, "steps": 20, "n": 1}
    data.update(overrides)
    return data


def test_an_anonymous_visitor_sees_the_form_with_a_log_in_prompt(client, demo_models):
    response = client.get("/generate")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Log in to generate" in html
    assert "/accounts/login/?next=/generate" in html
    assert 'name="prompt"' in html


def test_an_anonymous_post_goes_to_the_login_page_and_creates_nothing(client, demo_models):
    response = client.post("/generate", form_data(demo_models["sd"]))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert GenerationRequest.objects.count() == 0


def test_the_size_selects_hold_multiples_of_64_within_the_chosen_model_limits(client, alice, demo_models):
    client.force_login(alice[0])
    form = client.get("/generate?model=stable_diffusion").context["form"]
    widths = [value for value, _ in form.fields["width"].choices]
    assert widths == list(range(64, 1025, 64))
    assert form["width"].value() == 512 and form["height"].value() == 512
    assert form["steps"].value() == demo_models["sd"].default_steps

    form = client.get("/generate?model=SDXL_beta::stability.ai%236901").context["form"]
    assert [value for value, _ in form.fields["height"].choices] == list(range(1024, 2049, 64))
    assert form["width"].value() == 1024


def test_the_page_explains_the_sdxl_beta_rules(client, alice, demo_models):
    client.force_login(alice[0])
    html = client.get("/generate").content.decode()
    assert "Registered users only." in html
    assert "Always 2 images per request." in html
    assert "at least 1024×1024" in html


def test_a_valid_form_creates_the_request_and_goes_to_its_page(client, alice, demo_models):
    client.force_login(alice[0])
    response = client.post("/generate", form_data(demo_models["sd"], width=576, height=448, steps=25, n=2, seed=77))
    generation = GenerationRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/requests/{generation.id}"
    assert (generation.user, generation.width, generation.height, generation.steps) == (alice[0], 576, 448, 25)
    assert generation.seed == 77
    assert generation.jobs.count() == 2
    assert generation.kudos == pricing.request_kudos(width=576, height=448, steps=25, images=2)


def test_an_sdxl_beta_request_from_the_form_gets_two_images_and_no_warning(client, alice, demo_models):
    client.force_login(alice[0])
    data = form_data(demo_models["sdxl"], width=1024, height=1088, n=1)
    response = client.post("/generate", data, follow=True)
    generation = GenerationRequest.objects.get()
    assert generation.jobs.count() == 2
    assert generation.shared is True
    assert not [m for m in response.context["messages"] if m.level_tag == "warning"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"width": 1000}, "width"),  # not a multiple of 64
        ({"width": 512}, "width"),  # below the SDXL beta's 1024
        ({"steps": 61}, "steps"),  # above the SDXL beta's 60 (checked by request_submit)
        ({"steps": 0}, "steps"),
        ({"prompt": ""}, "prompt"),
        ({"prompt": "x" * 4001}, "prompt"),  # longer than request_submit allows
        ({"model": "no-such-model"}, "model"),
        ({"seed": "abc"}, "seed"),
    ],
)
def test_bad_input_shows_a_form_error_and_creates_nothing(client, alice, demo_models, overrides, field):
    client.force_login(alice[0])
    data = form_data(demo_models["sdxl"], width=1024, height=1024)
    data.update(overrides)
    response = client.post("/generate", data)
    assert response.status_code == 200
    assert response.context["form"].errors.get(field), response.context["form"].errors
    assert GenerationRequest.objects.count() == 0
    assert Job.objects.count() == 0


def test_sizes_are_checked_against_the_model_as_it_is_now(client, alice, demo_models):
    demo_models["sd"].max_width = 512  # staff narrowed the model after the page was drawn
    demo_models["sd"].save()
    client.force_login(alice[0])
    response = client.post("/generate", form_data(demo_models["sd"], width=1024))
    assert response.status_code == 200
    assert response.context["form"].errors.get("width")
    assert GenerationRequest.objects.count() == 0


def test_a_service_refusal_naming_no_form_field_becomes_a_non_field_error(demo_models):
    form = GenerateForm(form_data(demo_models["sd"]))
    assert form.is_valid()
    form.add_submit_error("params.clip_skip", "clip_skip must be between 1 and 12.")
    form.add_submit_error("models", "Unknown model.")
    form.add_submit_error("params.width", "Too wide.")
    # The sampler is a field of the page now: its refusal lands on it.
    form.add_submit_error("params.sampler_name", "Unknown sampler 'x'.")
    assert form.non_field_errors() == ["clip_skip must be between 1 and 12."]
    assert form.errors["model"] == ["Unknown model."]
    assert form.errors["width"] == ["Too wide."]
    assert form.errors["sampler_name"] == ["Unknown sampler 'x'."]


@pytest.mark.parametrize(
    ("model_key", "width", "height", "steps", "n"),
    [("sd", 512, 512, 30, 1), ("sd", 768, 512, 50, 3), ("sd", 64, 64, 1, 1), ("sdxl", 1024, 1024, 30, 1)],
)
def test_the_price_endpoint_gives_the_pricing_function_price(client, demo_models, model_key, width, height, steps, n):
    model = demo_models[model_key]
    response = client.get(
        "/generate/price", {"model": model.name, "width": width, "height": height, "steps": steps, "n": n}
    )
    assert response.status_code == 200
    images = model.images_per_request or n
    assert response.json() == {
        "model": model.name,
        "images": images,
        "per_image": pricing.job_kudos(width=width, height=height, steps=steps),
        "kudos": pricing.request_kudos(width=width, height=height, steps=steps, images=images),
    }


def test_the_sdxl_beta_is_always_priced_for_two_images(client, demo_models):
    response = client.get(
        "/generate/price",
        {"model": demo_models["sdxl"].name, "width": 1024, "height": 1024, "steps": 30, "n": 4},
    )
    assert response.json()["images"] == 2
    assert response.json()["kudos"] == pricing.request_kudos(width=1024, height=1024, steps=30, images=2)


@pytest.mark.parametrize(
    ("query", "status", "rc"),
    [
        ({"model": "nope", "width": 512, "height": 512, "steps": 30}, 404, "ModelNotFound"),
        ({"model": "stable_diffusion", "width": "big", "height": 512, "steps": 30}, 400, "BadRequest"),
        ({"model": "stable_diffusion", "width": 512, "height": 512, "steps": 0}, 400, "BadRequest"),
        ({"model": "stable_diffusion", "width": 512, "height": 99999, "steps": 30}, 400, "BadRequest"),
        ({"model": "stable_diffusion", "width": 512, "height": 512}, 400, "BadRequest"),
    ],
)
def test_the_price_endpoint_refuses_bad_numbers_with_a_json_error(client, demo_models, query, status, rc):
    response = client.get("/generate/price", query)
    assert response.status_code == status
    assert response.json()["rc"] == rc
    assert response.json()["message"]
