"""Judging is blind: nothing before the vote names a pipeline, a worker or a slot; after it, the pipelines are revealed.

The pair here is made the real way: Alice asks the SDXL beta for a pair over the
API, Bob's volunteer worker `gpu-box-7` pops both jobs and hands in webps whose
EXIF, XMP, ICC profile, a text chunk and trailing bytes all name the job's
pipeline and the worker (one as base64, one through the R2-style upload).
"""

from __future__ import annotations

import base64
import io
import json
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.test import Client

from generation.management.commands.images_strip_metadata import name_is_random
from generation.models import GenerationRequest, Image, Job, Pipeline, Worker
from generation.services.images import riff_chunks, webp_is_clean
from tests.generation.conftest import SDXL
from tests.generation.tagged_images import tagged_webp

pytestmark = pytest.mark.django_db

WORKER_NAME = "gpu-box-7"


def post(client, url, data, key):
    return client.post(url, data=json.dumps(data), content_type="application/json", HTTP_APIKEY=key)


def marker(job: Job) -> str:
    return f"made by {job.pipeline.name} v{job.pipeline.version} on {WORKER_NAME}, job {job.id} index {job.index}"


@pytest.fixture
def judged_settings(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.RATINGS_MIN_SECONDS_TO_VOTE = 0
    settings.RATINGS_GOLD_EVERY = 0


@dataclass
class Popped:
    request: GenerationRequest
    ids: list[str]
    r2_uploads: list[str]
    sent: dict[str, bytes]


@pytest.fixture
def popped_pair(judged_settings, alice, bob, api_client) -> Popped:
    """Alice's SDXL pair, both jobs popped by Bob's worker, which made files full of metadata."""
    call_command("seed_demo", stdout=io.StringIO())
    # Two versions that differ, so a reveal that mixed them up would show.
    Pipeline.objects.filter(name="sdxl-base-refiner").update(version="3")
    request_id = post(
        api_client,
        "/api/v2/generate/async",
        {"prompt": "a lighthouse at dusk", "models": [SDXL], "params": {"width": 1024, "height": 1024, "steps": 20}},
        alice[1],
    ).json()["id"]
    # Only a worker staff trust serves a comparison, one image (one recipe) per pop.
    bob[0].trusted = True
    bob[0].save(update_fields=["trusted"])
    pops = [
        post(
            api_client,
            "/api/v2/generate/pop",
            {"name": WORKER_NAME, "models": [SDXL], "max_pixels": 4 * 1024 * 1024},
            bob[1],
        ).json()
        for _ in range(2)
    ]
    popped = {"ids": [p["ids"][0] for p in pops], "r2_uploads": [p["r2_uploads"][0] for p in pops]}
    assert len(set(popped["ids"])) == 2
    jobs = {str(job.id): job for job in Job.objects.select_related("pipeline").filter(request_id=request_id)}
    sent = {job_id: tagged_webp(1024, 1024, marker=marker(jobs[job_id])) for job_id in popped["ids"]}
    request = GenerationRequest.objects.get(pk=request_id)
    return Popped(request=request, ids=popped["ids"], r2_uploads=popped["r2_uploads"], sent=sent)


def submit_base64(api_client, bob, popped: Popped, job_id: str) -> None:
    data = {"id": job_id, "generation": base64.b64encode(popped.sent[job_id]).decode(), "state": "ok"}
    response = post(api_client, "/api/v2/generate/submit", data, bob[1])
    assert response.status_code == 200, response.json()


@pytest.fixture
def worker_pair(popped_pair, bob, api_client) -> GenerationRequest:
    """The pair finished: the first image handed in as base64, the second through the R2-style upload."""
    first, second = popped_pair.ids
    submit_base64(api_client, bob, popped_pair, first)
    upload = popped_pair.r2_uploads[1].replace("http://testserver", "")
    assert api_client.put(upload, data=popped_pair.sent[second], content_type="image/webp").status_code == 200
    response = post(api_client, "/api/v2/generate/submit", {"id": second, "generation": "R2", "state": "ok"}, bob[1])
    assert response.status_code == 200, response.json()
    request = GenerationRequest.objects.get(pk=popped_pair.request.pk)
    assert request.status == GenerationRequest.Status.DONE
    return request


def secrets(request: GenerationRequest) -> list[str]:
    """What must not show before the vote: pipelines (names, descriptions), the worker, the
    jobs' ids (their creation order is the pipeline slot), the metadata markers."""
    worker = Worker.objects.get(name=WORKER_NAME)
    out = [WORKER_NAME, str(worker.id)]
    for job in Job.objects.select_related("pipeline").filter(request=request):
        out += [job.pipeline.name, job.pipeline.description, str(job.id), marker(job)]
    return out


def assert_names_none_of(text: str, request: GenerationRequest) -> None:
    lowered = text.lower()
    for secret in secrets(request):
        assert secret.lower() not in lowered, secret


def shown(request: GenerationRequest) -> tuple[Image, Image]:
    images = list(Image.objects.filter(request=request).select_related("job__pipeline").order_by("job__position"))
    return images[0], images[1]


def side(image: Image) -> dict[str, str]:
    return {
        "id": str(image.job_id),
        "image_id": str(image.id),
        "pipeline": image.job.pipeline.name,
        "version": image.job.pipeline.version,
    }


def test_the_workers_metadata_never_reaches_the_stored_files(worker_pair):
    for image in Image.objects.filter(request=worker_pair).select_related("job__pipeline"):
        with default_storage.open(image.file.name, "rb") as handle:
            data = handle.read()
        assert riff_chunks(data) == [(b"VP8 ", len(data) - 20)]
        assert webp_is_clean(data)
        assert marker(image.job).encode() not in data
        for word in (b"EXIF", b"XMP", b"ICCP", b"TEXT", WORKER_NAME.encode(), image.job.pipeline.name.encode()):
            assert word not in data


def test_stored_names_and_urls_are_random(worker_pair):
    for image in Image.objects.filter(request=worker_pair).select_related("job__pipeline", "worker"):
        name = image.file.name
        assert name_is_random(image)
        for leak in (str(image.job_id), str(worker_pair.id), str(image.worker_id), WORKER_NAME, "left", "right"):
            assert leak not in name
        assert image.job.pipeline.name not in name
        assert re.search(r"/[0-9a-f-]{36}\.webp$", image.file.url)
    assert not default_storage.listdir("r2-staging")[1]  # the upload's staging copy (named by job) is gone


def test_the_export_copies_hold_no_metadata(worker_pair, alice, api_client, tmp_path):
    left, right = shown(worker_pair)
    post(api_client, f"/api/v2/generate/rate/{worker_pair.id}", {"choice": "left"}, alice[1])
    out = tmp_path / "export"
    call_command("export_ratings", "--format", "jsonl", "--out", str(out), stdout=io.StringIO())
    copies = sorted(Path(out, "images").iterdir())
    from ratings.export import pseudonym

    # Named by their pseudonyms: the shared page's image ids link nothing.
    assert {path.name for path in copies} == {f"{pseudonym('image', image.pk)}.webp" for image in (left, right)}
    for path in copies:
        data = path.read_bytes()
        assert webp_is_clean(data)
        assert WORKER_NAME.encode() not in data and b"made by" not in data


def test_the_judge_page_before_the_vote_names_no_pipeline_worker_or_job(worker_pair, alice):
    client = Client()
    client.force_login(alice[0])
    html = client.get(f"/ratings/judge/{worker_pair.id}").content.decode()
    left, right = shown(worker_pair)
    # Left is the stored position 0, and that order is the only one on the page.
    assert html.index(left.file.url) < html.index(right.file.url)
    assert re.findall(r'alt="([^"]*)"', html) == ["left image", "right image"]
    assert 'id="reveal"' not in html
    assert_names_none_of(html, worker_pair)


def test_the_request_page_and_its_status_fragment_name_no_pipeline_or_worker(worker_pair, alice):
    client = Client()
    client.force_login(alice[0])
    for url in (f"/requests/{worker_pair.id}", f"/requests/{worker_pair.id}/status"):
        response = client.get(url)
        assert response.status_code == 200
        html = response.content.decode()
        assert re.findall(r'alt="([^"]*)"', html) == ["Left image", "Right image"]
        assert_names_none_of(html, worker_pair)


def test_the_request_page_shows_a_half_done_pair_as_neither_image(popped_pair, alice, bob, api_client):
    # The image done first came from the faster pipeline: showing it alone would tell which is which.
    submit_base64(api_client, bob, popped_pair, popped_pair.ids[0])
    client = Client()
    client.force_login(alice[0])
    for url in (f"/requests/{popped_pair.request.id}", f"/requests/{popped_pair.request.id}/status"):
        html = client.get(url).content.decode()
        assert 'id="pair-pending"' in html
        assert "<img" not in html and "/media/" not in html
        assert_names_none_of(html, popped_pair.request)


def test_the_judge_api_reveals_the_pipelines_after_the_vote_and_so_does_the_page(worker_pair, alice, api_client):
    left, right = shown(worker_pair)
    response = post(
        api_client,
        f"/api/v2/generate/rate/{worker_pair.id}",
        {"best": str(right.id), "ratings": [{"id": str(left.id), "rating": 4}, {"id": str(right.id), "rating": 8}]},
        alice[1],
    )
    assert response.status_code == 200, response.json()
    assert set(response.json()) == {"reward"}  # the AI Horde's shape: the reveal is asked for apart
    revealed = api_client.get(f"/api/v2/generate/rate/{worker_pair.id}/reveal", HTTP_APIKEY=alice[1])
    assert revealed.json() == {"left": side(left), "right": side(right)}
    assert {left.job.pipeline.version, right.job.pipeline.version} == {"1", "3"}
    client = Client()
    client.force_login(alice[0])
    html = client.get(f"/ratings/judge/{worker_pair.id}").content.decode()
    for image, slot in ((left, "left"), (right, "right")):
        expected = f"{image.job.pipeline.name} v{image.job.pipeline.version}"
        assert re.search(rf'id="{slot}-pipeline">{re.escape(expected)}</strong>', html), expected


def test_the_reveal_endpoint_says_nothing_before_the_verdict_nor_to_anyone_else(worker_pair, alice, bob, api_client):
    before = api_client.get(f"/api/v2/generate/rate/{worker_pair.id}/reveal", HTTP_APIKEY=alice[1])
    assert (before.status_code, before.json()["rc"]) == (400, "NotJudgedYet")
    assert "sdxl" not in before.content.decode().lower()
    left, _ = shown(worker_pair)
    post(api_client, f"/api/v2/generate/rate/{worker_pair.id}", {"best": str(left.id)}, alice[1])
    stranger = api_client.get(f"/api/v2/generate/rate/{worker_pair.id}/reveal", HTTP_APIKEY=bob[1])
    assert (stranger.status_code, stranger.json()["rc"]) == (403, "NotOwner")
    unknown = api_client.get(f"/api/v2/generate/rate/{uuid.uuid4()}/reveal", HTTP_APIKEY=alice[1])
    assert unknown.status_code == 404


def test_the_judge_page_form_reveals_after_its_vote(worker_pair, alice):
    client = Client()
    client.force_login(alice[0])
    html = client.post(f"/ratings/judge/{worker_pair.id}", {"choice": "tie"}, follow=True).content.decode()
    left, right = shown(worker_pair)
    assert f'id="left-pipeline">{left.job.pipeline.name} v{left.job.pipeline.version}<' in html
    assert f'id="right-pipeline">{right.job.pipeline.name} v{right.job.pipeline.version}<' in html


def test_the_arena_before_the_vote_names_no_pipeline_worker_or_job_and_reveals_after(worker_pair, charlie, api_client):
    client = Client()
    client.force_login(charlie[0])
    page = client.get("/ratings/arena").content.decode()
    assert_names_none_of(page, worker_pair)
    issued = api_client.get("/api/v2/ratings/arena/next", HTTP_APIKEY=charlie[1])
    assert issued.status_code == 200
    raw = issued.content.decode()
    assert_names_none_of(raw, worker_pair)
    assignment = issued.json()["assignment"]
    assert set(assignment) == {"id", "prompt", "model", "left", "right", "issued_at"}
    assert set(assignment["left"]) == set(assignment["right"]) == {"id", "url"}

    voted = post(api_client, f"/api/v2/ratings/arena/{assignment['id']}", {"choice": "right"}, charlie[1])
    assert voted.status_code == 200, voted.json()
    images = {str(image.id): image for image in Image.objects.select_related("job__pipeline")}
    left, right = images[assignment["left"]["id"]], images[assignment["right"]["id"]]
    assert voted.json()["reveal"] == {"left": side(left), "right": side(right)}


def test_the_status_api_names_no_worker_or_job_before_the_vote_and_the_workers_to_the_requester_after(
    worker_pair, alice, bob, api_client
):
    url = f"/api/v2/generate/status/{worker_pair.id}"
    left, right = shown(worker_pair)
    nobody = {("00000000-0000-0000-0000-000000000000", "")}
    for key in (alice[1], bob[1], None):  # the requester, a stranger, no apikey (status needs none)
        headers = {"HTTP_APIKEY": key} if key else {}
        response = api_client.get(url, **headers)
        assert response.status_code == 200
        assert_names_none_of(response.content.decode(), worker_pair)
        generations = response.json()["generations"]
        # In the order shown, named by image id, and both images say the same of their worker.
        assert [g["id"] for g in generations] == [str(left.id), str(right.id)]
        assert {(g["worker_id"], g["worker_name"]) for g in generations} == nobody
        assert_names_none_of(
            api_client.get(f"/api/v2/generate/check/{worker_pair.id}", **headers).content.decode(), worker_pair
        )

    rated = post(api_client, f"/api/v2/generate/rate/{worker_pair.id}", {"best": str(left.id)}, alice[1])
    assert rated.status_code == 200, rated.json()
    worker = Worker.objects.get(name=WORKER_NAME)
    after = api_client.get(url, HTTP_APIKEY=alice[1]).json()["generations"]
    assert [g["id"] for g in after] == [str(left.id), str(right.id)]  # the ids do not change at the reveal
    assert {(g["worker_id"], g["worker_name"]) for g in after} == {(str(worker.id), WORKER_NAME)}
    # To anyone else the pair is still blind: it stays in the arena.
    for headers in ({"HTTP_APIKEY": bob[1]}, {}):
        response = api_client.get(url, **headers)
        assert {(g["worker_id"], g["worker_name"]) for g in response.json()["generations"]} == nobody
        assert WORKER_NAME not in response.content.decode()
