"""Who may serve a comparison, and one payload per pop (issue 8, points 1 and 3).

A comparison job (the SDXL beta) goes only to workers staff trust for it: the platform's
Celery GPU workers and HTTP workers of trusted owners, never to a worker of its
requester. A pop skips what it may not take and says why (`skipped`, the AI Horde's
keys), never names the pipeline, and batches only jobs of one payload, so the two images
of a pair are never drawn by one recipe under one payload.

Services-level tests run both claim strategies (PostgreSQL's SKIP LOCKED statement and
the compare-and-swap path SQLite uses) on the real PostgreSQL database.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import pytest

from generation.models import Job, Worker
from generation.services import claim, job_claim, jobs_claim, jobs_skipped, request_submit
from kudos.selectors import user_balance

from .conftest import SD, SDXL, body

pytestmark = pytest.mark.django_db
BIG = 4096 * 4096
PAIR = {"models": [SDXL], "params": {"width": 1024, "height": 1024}}


@pytest.fixture(autouse=True)
def _no_celery(settings):
    settings.HORDE_CELERY_DISPATCH = False  # the workers here are the tests' own


@pytest.fixture(params=["skip-locked", "compare-and-swap"])
def strategy(request, monkeypatch):
    """Both claim paths: the one PostgreSQL statement, and SQLite's compare-and-swap."""
    monkeypatch.setattr(claim, "_use_skip_locked", lambda: request.param == "skip-locked")
    return request.param


def post(client, url, data, key):
    return client.post(url, data=json.dumps(data), content_type="application/json", HTTP_APIKEY=key)


def pop(client, key, name, models=(SD, SDXL), **extra):
    data = {"name": name, "models": list(models), "max_pixels": 4 * 1024 * 1024, **extra}
    return post(client, "/api/v2/generate/pop", data, key)


def submit_pair(client, key) -> str:
    response = post(client, "/api/v2/generate/async", body(**PAIR), key)
    assert response.status_code == 202, response.json()
    return response.json()["id"]


def trust(user) -> None:
    user.trusted = True
    user.save(update_fields=["trusted"])


# --- who may serve a comparison -------------------------------------------------------------


def test_an_untrusted_http_worker_is_not_handed_comparison_jobs_and_is_told_why(demo_models, api_client, alice, bob):
    request_id = submit_pair(api_client, alice[1])
    data = pop(api_client, bob[1], "bob-box", amount=2).json()
    assert data["id"] is None
    assert data["ids"] == []
    assert data["skipped"] == {"untrusted": 2}
    assert set(Job.objects.filter(request_id=request_id).values_list("status", flat=True)) == {Job.Status.QUEUED}


def test_a_requester_with_no_kudos_cannot_pop_their_own_pair_and_rate_it(demo_models, api_client, charlie, bob):
    # The exploit: a 0-kudos user runs an HTTP worker, pops their own beta jobs,
    # submits flat images and rates them (+25 per pair, and they pick the winner).
    request_id = submit_pair(api_client, charlie[1])
    data = pop(api_client, charlie[1], "charlie-box").json()
    assert (data["id"], data["skipped"]) == (None, {"untrusted": 2})
    trust(charlie[0])  # not even when staff trust them: never their own requests
    data = pop(api_client, charlie[1], "charlie-box").json()
    assert (data["id"], data["skipped"]) == (None, {"untrusted": 2})
    rated = post(api_client, f"/api/v2/generate/rate/{request_id}", {"choice": "left"}, charlie[1])
    assert rated.status_code == 400  # nothing was drawn, nothing to rate
    assert user_balance(user=charlie[0]) <= 0
    # Someone else's trusted worker serves it.
    trust(bob[0])
    assert pop(api_client, bob[1], "bob-box").json()["id"] is not None


def test_a_trusted_owners_http_worker_serves_a_comparison_and_only_it_reads_the_recipe(
    demo_models, api_client, alice, bob, charlie
):
    trust(bob[0])
    submit_pair(api_client, alice[1])
    data = pop(api_client, bob[1], "bob-box").json()
    job = Job.objects.select_related("pipeline").get(pk=data["id"])
    assert "pipeline" not in data["payload"]  # the pop does not say which side it is
    assert data["skipped"] == {}

    url = f"/api/v2/generate/pipeline/{job.pk}"
    recipe = api_client.get(url, HTTP_APIKEY=bob[1])
    assert recipe.status_code == 200
    assert recipe.json() == {"name": job.pipeline.name, "version": job.pipeline.version, "recipe": job.pipeline.recipe}

    for key in (alice[1], charlie[1]):  # the requester, a stranger
        refused = api_client.get(url, HTTP_APIKEY=key)
        assert (refused.status_code, refused.json()["rc"]) == (403, "WrongCredentials")
        assert job.pipeline.name not in refused.content.decode()
    assert api_client.get(url, HTTP_APIKEY="0000000000").status_code == 403
    assert api_client.get(url).status_code == 401
    for missing in (uuid.uuid4(), "not-a-uuid"):
        response = api_client.get(f"/api/v2/generate/pipeline/{missing}", HTTP_APIKEY=bob[1])
        assert (response.status_code, response.json()["rc"]) == (404, "InvalidJobID")
    # The other image of the pair is queued, not bob's: 403 too.
    other = Job.objects.filter(request_id=job.request_id).exclude(pk=job.pk).get()
    response = api_client.get(f"/api/v2/generate/pipeline/{other.pk}", HTTP_APIKEY=bob[1])
    assert response.status_code == 403


def test_the_recipe_is_not_served_once_the_claim_is_over(demo_models, api_client, alice, bob):
    trust(bob[0])
    submit_pair(api_client, alice[1])
    job_id = pop(api_client, bob[1], "bob-box").json()["id"]
    post(api_client, "/api/v2/generate/submit", {"id": job_id, "state": "faulted"}, bob[1])
    assert Job.objects.get(pk=job_id).status == Job.Status.QUEUED
    response = api_client.get(f"/api/v2/generate/pipeline/{job_id}", HTTP_APIKEY=bob[1])
    assert (response.status_code, response.json()["rc"]) == (403, "WrongCredentials")


def test_plain_jobs_still_go_to_any_worker(demo_models, api_client, alice, bob):
    post(api_client, "/api/v2/generate/async", body(), alice[1])
    data = pop(api_client, bob[1], "bob-box").json()
    assert data["id"] is not None
    response = api_client.get(f"/api/v2/generate/pipeline/{data['id']}", HTTP_APIKEY=bob[1])
    assert response.json()["name"] == "sd15-base"


def test_who_may_claim_a_comparison(demo_models, alice, bob, charlie, make_worker, strategy):
    request_submit(user=alice[0], body=body(**PAIR))
    untrusted_http = make_worker(bob[0], name="bob-http")
    own_celery = make_worker(alice[0], name="alice-gpu", kind=Worker.Kind.CELERY)
    trust(alice[0])
    own_trusted_http = make_worker(alice[0], name="alice-http")
    for worker in (untrusted_http, own_celery, own_trusted_http):
        assert jobs_claim(worker=worker, models=[SDXL], max_pixels=BIG, amount=2) == [], worker.name
    # A Celery worker of someone else, and a trusted owner's HTTP worker, each take one.
    celery = job_claim(worker=make_worker(charlie[0], name="charlie-gpu", kind=Worker.Kind.CELERY), **claim_args())
    trust(bob[0])
    bob_http = Worker.objects.select_related("owner").get(pk=untrusted_http.pk)
    http = job_claim(worker=bob_http, **claim_args())
    assert {celery.pipeline_id, http.pipeline_id} == set(Job.objects.values_list("pipeline_id", flat=True))


def claim_args() -> dict:
    return {"models": [SDXL], "max_pixels": BIG}


def test_a_celery_message_naming_a_comparison_job_is_not_claimed_by_its_requesters_worker(
    demo_models, alice, bob, make_worker, strategy
):
    job = request_submit(user=alice[0], body=body(**PAIR)).request.jobs.first()
    own = make_worker(alice[0], name="alice-gpu", kind=Worker.Kind.CELERY)
    assert job_claim(worker=own, models=[SDXL], max_pixels=BIG, job_id=job.pk) is None
    other = make_worker(bob[0], name="bob-gpu", kind=Worker.Kind.CELERY)
    assert job_claim(worker=other, models=[SDXL], max_pixels=BIG, job_id=job.pk) == job


def test_skipped_counts_each_waiting_job_under_the_first_rule_it_fails(
    demo_models, alice, bob, charlie, make_worker, strategy
):
    worker = make_worker(bob[0], name="bob-http", models=[SD], max_pixels=512 * 512)
    other = make_worker(charlie[0], name="charlie-http")
    request_submit(user=alice[0], body=body(**PAIR))  # 2 x models (bob serves SD only)
    request_submit(user=alice[0], body=body(params={"width": 1024, "height": 1024}))  # max_pixels
    request_submit(user=alice[0], body=body(nsfw=True, params={"n": 2}))  # 2 x nsfw
    request_submit(user=alice[0], body=body(trusted_workers=True))  # untrusted
    request_submit(user=alice[0], body=body(workers=[str(other.pk)]))  # worker_id (only charlie's)
    request_submit(user=alice[0], body=body(workers=[str(worker.pk)], worker_blacklist=True))  # worker_id
    takeable = request_submit(user=alice[0], body=body()).request.jobs.get()

    counts = jobs_skipped(worker=worker, models=[SD], max_pixels=512 * 512)

    assert counts == {"models": 2, "max_pixels": 1, "nsfw": 2, "untrusted": 1, "worker_id": 2}
    assert job_claim(worker=worker, models=[SD], max_pixels=512 * 512) == takeable


def test_skipped_counts_comparisons_a_worker_may_not_serve_as_untrusted(demo_models, alice, bob, make_worker, strategy):
    request_submit(user=alice[0], body=body(**PAIR))
    assert jobs_skipped(worker=make_worker(bob[0], name="bob-http"), **claim_args()) == {"untrusted": 2}
    own = make_worker(alice[0], name="alice-gpu", kind=Worker.Kind.CELERY)
    assert jobs_skipped(worker=own, **claim_args()) == {"untrusted": 2}
    trusted = make_worker(bob[0], name="bob-gpu", kind=Worker.Kind.CELERY)
    assert jobs_skipped(worker=trusted, **claim_args()) == {}


def test_the_newest_horde_sdk_in_strict_mode_accepts_the_pop_answers(demo_models, api_client, alice, bob, tmp_path):
    submit_pair(api_client, alice[1])
    empty = pop(api_client, bob[1], "bob-box").json()
    assert empty["skipped"] == {"untrusted": 2}
    trust(bob[0])
    full = pop(api_client, bob[1], "bob-box", amount=2).json()
    # Short of the amount (the pair's other half is another payload), yet nothing is skipped
    # by a rule: that half is bob's to take in his next pop.
    assert (len(full["ids"]), full["skipped"]) == (1, {})
    leaky = {**full, "payload": {**full["payload"], "pipeline": {"name": "sdxl-base"}}}
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps({"empty": empty, "full": full, "leaky": leaky}))
    check = f"""
import json
from horde_sdk.ai_horde_api.apimodels import ImageGenerateJobPopResponse
answers = json.load(open({str(answers)!r}))
for name in ("empty", "full"):
    ImageGenerateJobPopResponse.model_validate(answers[name])
try:
    ImageGenerateJobPopResponse.model_validate(answers["leaky"])
except Exception:
    print("strict: refused the pipeline key")
print("accepted")
"""
    env = {**os.environ, "TESTS_ONGOING": "1"}  # horde-sdk's strict mode: unknown fields are errors
    result = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "strict: refused the pipeline key" in result.stdout  # strict mode really was on
    assert "accepted" in result.stdout


# --- one payload, one recipe ----------------------------------------------------------------


def test_a_batched_pop_never_hands_out_both_images_of_a_pair(demo_models, api_client, alice, bob):
    trust(bob[0])
    submit_pair(api_client, alice[1])
    first = pop(api_client, bob[1], "bob-box", amount=2).json()
    second = pop(api_client, bob[1], "bob-box", amount=2).json()
    assert len(first["ids"]) == len(second["ids"]) == 1
    assert first["payload"]["n_iter"] == second["payload"]["n_iter"] == 1
    recipes = [
        api_client.get(f"/api/v2/generate/pipeline/{data['id']}", HTTP_APIKEY=bob[1]).json() for data in (first, second)
    ]
    assert recipes[0]["name"] != recipes[1]["name"]  # each pop carries the recipe of its own job
    assert first["payload"]["seed"] == second["payload"]["seed"]  # same seed: only the pipeline differs


def test_a_batched_pop_batches_only_jobs_of_one_payload(demo_models, alice, bob, make_worker, strategy):
    worker = make_worker(bob[0], name="bob-http")
    different_seeds = request_submit(user=alice[0], body=body(params={"n": 3, "seed": "7"})).request
    claimed = jobs_claim(worker=worker, models=[SD], max_pixels=BIG, amount=3)
    assert [job.index for job in claimed] == [0]  # seeds 7, 8, 9: three payloads, one per pop
    assert different_seeds.jobs.filter(status=Job.Status.QUEUED).count() == 2


def test_jobs_of_one_payload_are_batched_in_their_order(demo_models, alice, bob, make_worker, strategy):
    worker = make_worker(bob[0], name="bob-http")
    request = request_submit(user=alice[0], body=body(params={"n": 3})).request
    request.jobs.update(seed=1234)  # one request, one pipeline, one size, one seed: one payload
    other = request_submit(user=alice[0], body=body()).request
    other.jobs.update(seed=1234)  # same seed, another request: not the same payload

    claimed = jobs_claim(worker=worker, models=[SD], max_pixels=BIG, amount=5)

    assert [job.request_id for job in claimed] == [request.pk] * 3
    assert [job.index for job in claimed] == [0, 1, 2]
    assert all(job.status == Job.Status.CLAIMED and job.attempts == 1 for job in claimed)
    assert set(Job.objects.filter(request=request).values_list("status", "attempts")) == {(Job.Status.CLAIMED, 1)}
    assert other.jobs.get().status == Job.Status.QUEUED


def test_a_batched_pop_payload_counts_its_images(demo_models, api_client, alice, bob):
    request_id = post(api_client, "/api/v2/generate/async", body(params={"n": 2}), alice[1]).json()["id"]
    Job.objects.filter(request_id=request_id).update(seed=99)
    data = pop(api_client, bob[1], "bob-box", models=[SD], amount=2).json()
    assert len(data["ids"]) == 2
    assert (data["payload"]["n_iter"], data["payload"]["seed"]) == (2, "99")
    assert len(data["r2_uploads"]) == 2


# --- blind while it runs ------------------------------------------------------------------


def test_the_status_of_a_running_pair_shows_both_images_or_none(demo_models, api_client, alice, bob):
    import base64

    from .conftest import webp

    trust(bob[0])
    request_id = submit_pair(api_client, alice[1])
    jobs = [pop(api_client, bob[1], "trusted-1", models=[SDXL]).json() for _ in range(2)]
    image = base64.b64encode(webp(1024, 1024)).decode()
    submitted = post(api_client, "/api/v2/generate/submit", {"id": jobs[0]["id"], "generation": image}, bob[1])
    assert submitted.status_code == 200, submitted.json()
    # One image is done: showing it would tell which pipeline is the faster one.
    status = api_client.get(f"/api/v2/generate/status/{request_id}").json()
    assert (status["finished"], status["generations"]) == (1, [])
    post(api_client, "/api/v2/generate/submit", {"id": jobs[1]["id"], "generation": image}, bob[1])
    status = api_client.get(f"/api/v2/generate/status/{request_id}").json()
    assert status["done"] is True
    assert len(status["generations"]) == 2
