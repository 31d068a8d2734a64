"""NSFW separation: a censored submit stores a placeholder of the same size and says censored in
the status; the gallery shows NSFW requests only to viewers who opted in on their profile."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image as PILImage

from generation.models import GenerationRequest, Image
from generation.services import request_submit
from tests.generation.conftest import SD, body, webp

pytestmark = pytest.mark.django_db
RED = (220, 20, 20)


@pytest.fixture(autouse=True)
def _no_celery(settings):
    settings.HORDE_CELERY_DISPATCH = False


def pop_and_submit(call, alice, bob, **submit) -> dict:
    made = call("post", "/api/v2/generate/async", alice[1], body(params={"width": 512, "height": 768}))
    assert made.status_code == 202
    popped = call("post", "/api/v2/generate/pop", bob[1], {"name": "bob-http", "models": [SD], "max_pixels": 10**6})
    generation = base64.b64encode(webp(512, 768, RED)).decode()
    done = call(
        "post", "/api/v2/generate/submit", bob[1], {"id": popped.json()["id"], "generation": generation, **submit}
    )
    assert done.status_code == 200, done.json()
    return call("get", f"/api/v2/generate/status/{made.json()['id']}", alice[1]).json()


@pytest.mark.parametrize(
    "submit",
    [
        {"gen_metadata": [{"type": "censorship", "value": "csam"}]},
        {"gen_metadata": [{"type": "censorship", "value": "nsfw"}, {"type": "lora", "value": "download_failed"}]},
        {"censored": True},
        {"state": "censored"},
        {"state": "csam"},
    ],
)
def test_a_censored_submit_stores_a_placeholder_of_the_same_size(demo_models, call, alice, bob, submit):
    status = pop_and_submit(call, alice, bob, **submit)
    generation = status["generations"][0]
    assert generation["censored"] is True and generation["state"] == "censored"
    image = Image.objects.get()
    assert image.censored
    with image.file.open("rb") as handle, PILImage.open(io.BytesIO(handle.read())) as stored:
        assert stored.size == (512, 768)
        red, green, blue = stored.convert("RGB").getpixel((256, 100))
        assert abs(red - green) < 30 and abs(green - blue) < 30  # grey: none of the worker's red


def test_an_uncensored_submit_keeps_the_workers_image(demo_models, call, alice, bob):
    status = pop_and_submit(call, alice, bob, gen_metadata=[{"type": "lora", "value": "download_failed"}])
    assert status["generations"][0]["censored"] is False
    with Image.objects.get().file.open("rb") as handle, PILImage.open(io.BytesIO(handle.read())) as stored:
        assert stored.convert("RGB").getpixel((256, 100))[0] > 180


@pytest.mark.parametrize("metadata", ["censorship", [{"type": 5}], [{"type": "censorship"}], [{}] * 51])
def test_bad_gen_metadata_is_refused(demo_models, call, alice, bob, metadata):
    call("post", "/api/v2/generate/async", alice[1], body())
    popped = call("post", "/api/v2/generate/pop", bob[1], {"name": "bob-http", "models": [SD], "max_pixels": 10**6})
    generation = base64.b64encode(webp(512, 512)).decode()
    done = call(
        "post",
        "/api/v2/generate/submit",
        bob[1],
        {"id": popped.json()["id"], "generation": generation, "gen_metadata": metadata},
    )
    assert done.status_code == 400 and done.json()["rc"] == "BadRequest"
    assert not Image.objects.exists()


def _finished(user, *, nsfw: bool, prompt: str) -> GenerationRequest:
    request = request_submit(user=user, body=body(prompt=prompt, nsfw=nsfw, shared=True)).request
    GenerationRequest.objects.filter(pk=request.pk).update(status=GenerationRequest.Status.DONE)
    job = request.jobs.get()
    job.status = "done"
    job.save(update_fields=["status"])
    from django.core.files.base import ContentFile

    image = Image(job=job, request=request, width=512, height=512, seed=1)
    image.file.save(f"{job.pk}.webp", ContentFile(webp(512, 512)))
    return request


def test_the_gallery_shows_nsfw_only_to_viewers_who_opted_in(demo_models, client, alice, make_user):
    _finished(alice[0], nsfw=True, prompt="the nsfw one")
    _finished(alice[0], nsfw=False, prompt="the safe one")
    anonymous_page = client.get("/gallery").content.decode()
    assert "the safe one" in anonymous_page and "the nsfw one" not in anonymous_page
    viewer, _ = make_user("vera", password="pw-123456789")
    client.force_login(viewer)
    assert "the nsfw one" not in client.get("/gallery").content.decode()
    profile = client.get("/profile/").content.decode()
    assert "Show NSFW images" in profile
    assert client.post("/profile/nsfw", {"show_nsfw": "1"}).status_code == 302
    viewer.refresh_from_db()
    assert viewer.show_nsfw
    page = client.get("/gallery").content.decode()
    assert "the nsfw one" in page and "the safe one" in page
    client.post("/profile/nsfw", {"show_nsfw": "0"})
    assert "the nsfw one" not in client.get("/gallery").content.decode()


def test_the_preference_takes_a_post_from_a_signed_in_user_only(client, alice):
    assert client.post("/profile/nsfw", {"show_nsfw": "1"}).status_code == 302  # to the log-in
    alice[0].refresh_from_db()
    assert not alice[0].show_nsfw
    client.force_login(alice[0])
    assert client.get("/profile/nsfw").status_code == 405


def test_someone_elses_nsfw_request_page_is_for_viewers_who_opted_in(demo_models, client, alice, make_user):
    nsfw = _finished(alice[0], nsfw=True, prompt="the nsfw one")
    viewer, _ = make_user("vera", password="pw-123456789")
    client.force_login(viewer)
    assert client.get(f"/requests/{nsfw.pk}").status_code == 404
    viewer.show_nsfw = True
    viewer.save(update_fields=["show_nsfw"])
    assert client.get(f"/requests/{nsfw.pk}").status_code == 200
    client.force_login(alice[0])
    assert client.get(f"/requests/{nsfw.pk}").status_code == 200  # the owner always


@pytest.mark.parametrize(
    ("nsfw", "censor", "expected"), [(False, True, True), (False, False, False), (True, True, False)]
)
def test_the_pop_asks_for_the_censor_as_the_ai_horde_does(demo_models, call, alice, bob, nsfw, censor, expected):
    call("post", "/api/v2/generate/async", alice[1], body(nsfw=nsfw, censor_nsfw=censor))
    pop = {"name": "bob-http", "models": [SD], "max_pixels": 10**6, "nsfw": True}
    popped = call("post", "/api/v2/generate/pop", bob[1], pop).json()
    assert popped["payload"]["use_nsfw_censor"] is expected
