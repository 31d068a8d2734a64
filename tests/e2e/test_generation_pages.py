"""The generation pages in a real browser: the live price, submitting, and a
request page that updates itself while a worker makes the images."""

from __future__ import annotations

import io
import re

import pytest
from django.core.cache import cache
from django.core.management import call_command

from generation import pricing
from generation.backends import get_backend
from generation.models import GenerationRequest, Job, Worker
from generation.services import job_claim, job_complete
from generation.tasks import job_spec, webp_bytes

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SDXL_BETA = "SDXL_beta::stability.ai#6901"
PASSWORD = "a-long-browser-password"


@pytest.fixture
def erin(make_user, settings):
    # No Celery worker consumes the queues here: the test itself plays the GPU worker.
    settings.HORDE_CELERY_DISPATCH = False
    # Queue figures are cached in Redis for a few seconds: none from another test, none left behind.
    cache.clear()
    call_command("seed_demo", stdout=io.StringIO())
    user, _ = make_user("erin", kudos=2000, password=PASSWORD)
    yield user
    cache.clear()


def log_in(page, username: str) -> None:
    # Through the allauth form, coming back to the generate page (as its log-in prompt does).
    page.goto("/accounts/login/?next=/generate")
    page.fill("input[name=login]", username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit]").first.click()
    page.wait_for_url("**/generate")
    assert page.locator(".account .who").inner_text() == username


def run_jobs_as_a_worker(generation: GenerationRequest, owner) -> int:
    """Claim and complete every job of the request through the workers' own path (procedural backend)."""
    worker, _ = Worker.objects.get_or_create(
        name="e2e-gpu", defaults={"owner": owner, "kind": Worker.Kind.CELERY, "model_names": [generation.model.name]}
    )
    backend = get_backend("procedural")
    done = 0
    while True:
        job = job_claim(worker=worker, models=[generation.model.name], max_pixels=4096 * 4096)
        if job is None:
            return done
        image = backend.generate(job_spec(job))
        job_complete(job=job, worker=worker, image_bytes=webp_bytes(image), seed=job.seed)
        done += 1


def price_of(width: int, height: int, steps: int, images: int) -> str:
    return str(pricing.request_kudos(width=width, height=height, steps=steps, images=images))


def test_a_user_generates_a_pair_and_watches_it_arrive_without_reloading(page, erin, make_user):
    log_in(page, "erin")
    page.goto("/generate")
    page.select_option("select[name=model]", SDXL_BETA)
    page.fill("textarea[name=prompt]", "a lighthouse at dawn, oil painting")
    page.fill("input[name=steps]", "20")
    price = page.locator("#price")
    page.wait_for_function(
        "want => document.getElementById('price').textContent === want", arg=price_of(1024, 1024, 20, 2)
    )

    # The live price follows the size without a reload.
    page.select_option("select[name=width]", "1536")
    page.wait_for_function(
        "want => document.getElementById('price').textContent === want", arg=price_of(1536, 1024, 20, 2)
    )
    assert price.inner_text() != price_of(1024, 1024, 20, 2)

    page.get_by_role("button", name="Generate").click()
    page.wait_for_url(re.compile(r"/requests/[0-9a-f-]{36}$"))
    generation = GenerationRequest.objects.get(user=erin)
    assert (generation.width, generation.height, generation.steps) == (1536, 1024, 20)
    assert page.locator("#queue-position").is_visible()
    assert page.locator("#request-progress").inner_text() == "0 / 2"
    assert page.locator("#cancel-request").is_visible()

    # A marker that a reload would wipe out.
    page.evaluate("window.__still_the_same_page = true")
    worker_owner, _ = make_user("gpu-owner")
    assert run_jobs_as_a_worker(generation, worker_owner) == 2

    page.wait_for_selector(".request-image img", state="attached")
    page.wait_for_function("document.querySelectorAll('.request-image img').length === 2")
    assert page.evaluate("window.__still_the_same_page") is True
    assert page.locator("#request-state").inner_text() == "Done"
    assert page.locator("#request-progress").inner_text() == "2 / 2"
    captions = page.locator(".request-image figcaption").all_inner_texts()
    assert [caption.split(" · ")[0] for caption in captions] == ["Left", "Right"]
    assert all(f"seed {generation.seed}" in caption for caption in captions)
    page.wait_for_function(
        "Array.from(document.querySelectorAll('.request-image img')).every(img => img.complete && img.naturalWidth > 0)"
    )
    assert page.locator(".request-image img").first.evaluate("img => img.naturalWidth") == 1536
    # The verdict is offered right under the pair (the judge page stays one link away).
    page.wait_for_selector("#verdict #judge-form")
    assert page.locator("#verdict button[value=left]").is_visible()
    assert page.locator("#judge-page-link").get_attribute("href") == f"/ratings/judge/{generation.id}"
    assert page.locator("#cancel-request").count() == 0
    # Judging is blind: no pipeline name on the page.
    html = page.content()
    for job in Job.objects.filter(request=generation).select_related("pipeline"):
        assert job.pipeline.name not in html


def test_switching_the_model_resets_the_sizes_to_its_defaults_and_limits(page, erin):
    log_in(page, "erin")
    page.goto(f"/generate?model={SDXL_BETA.replace('#', '%23')}")
    assert page.locator("select[name=width]").input_value() == "1024"
    assert page.locator("select[name=width] option").first.get_attribute("value") == "1024"
    assert not page.locator("#n-field").is_visible()

    page.select_option("select[name=model]", "stable_diffusion")
    assert page.locator("select[name=width]").input_value() == "512"
    options = page.locator("select[name=width] option").evaluate_all("nodes => nodes.map(n => Number(n.value))")
    assert options == list(range(64, 1025, 64))
    assert page.locator("#n-field").is_visible()
    page.select_option("select[name=n]", "3")
    page.wait_for_function(
        "want => document.getElementById('price').textContent === want", arg=price_of(512, 512, 30, 3)
    )


def test_a_refused_form_shows_the_error_and_keeps_the_user_on_the_form(page, erin):
    log_in(page, "erin")
    page.goto("/generate")
    page.select_option("select[name=model]", SDXL_BETA)
    page.fill("textarea[name=prompt]", "too many steps")
    page.fill("input[name=steps]", "61")  # the SDXL beta allows 60: request_submit says no
    page.eval_on_selector("input[name=steps]", "el => el.removeAttribute('max')")
    page.get_by_role("button", name="Generate").click()
    page.wait_for_selector(".errorlist")
    assert "60" in page.locator(".errorlist").inner_text()
    assert GenerationRequest.objects.count() == 0


def test_an_anonymous_visitor_sees_prices_and_is_asked_to_log_in(page, erin):
    page.goto("/generate?model=stable_diffusion")
    page.wait_for_function(
        "want => document.getElementById('price').textContent === want", arg=price_of(512, 512, 30, 1)
    )
    assert page.get_by_role("button", name="Generate").count() == 0
    page.get_by_role("link", name="Log in to generate").click()
    page.wait_for_url("**/accounts/login/?next=/generate")


def test_the_character_counter_counts_the_negative_too_and_stops_a_prompt_past_the_limit(page, erin, settings):
    settings.HORDE_MAX_PROMPT_CHARS = 40
    log_in(page, "erin")
    page.fill("#id_prompt", "x" * 30)
    assert page.locator("#char-count").inner_text().startswith("30 / 40 characters")
    assert page.locator("#generate-form button[type=submit]").is_enabled()
    page.fill("#id_negative_prompt", "y" * 10)  # sent as "prompt ### negative": 30 + 5 + 10
    counter = page.locator("#char-count").inner_text()
    assert counter.startswith("45 / 40 characters") and "may be at most 40 characters" in counter
    assert page.locator("#generate-form button[type=submit]").is_disabled()
    page.fill("#id_negative_prompt", "")
    assert page.locator("#generate-form button[type=submit]").is_enabled()


def test_same_seed_again_from_a_finished_request_fills_the_form(page, erin, make_user):
    log_in(page, "erin")
    page.select_option("#id_model", "stable_diffusion")
    page.fill("#id_prompt", "a red fox in snow")
    page.fill("#id_negative_prompt", "blurry")
    page.select_option("#id_sampler_name", "k_heun")
    page.fill("#id_cfg_scale", "6")
    page.fill("#id_seed", "31337")
    page.locator("#generate-form button[type=submit]").click()
    page.wait_for_url("**/requests/*")
    generation = GenerationRequest.objects.get(user=erin)
    worker_owner, _ = make_user("gpu-owner")
    assert run_jobs_as_a_worker(generation, worker_owner) == 1
    page.wait_for_selector("#same-seed")
    page.locator("#same-seed").click()
    page.wait_for_url("**/generate?again=*")
    assert page.locator("#id_prompt").input_value() == "a red fox in snow"
    assert page.locator("#id_negative_prompt").input_value() == "blurry"
    assert page.locator("#id_sampler_name").input_value() == "k_heun"
    assert page.locator("#id_seed").input_value() == "31337"
    assert page.locator("#id_model").input_value() == "stable_diffusion"
