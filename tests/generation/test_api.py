from __future__ import annotations

import base64
import json
import uuid

import pytest

from generation.models import GenerationRequest, Image, Job, Worker
from kudos.selectors import user_balance

from .conftest import SD, SDXL, body, webp

pytestmark = pytest.mark.django_db


def post(client, url, data, key=None, **extra):
    headers = {"HTTP_APIKEY": key} if key else {}
    return client.post(url, data=json.dumps(data), content_type="application/json", **headers, **extra)


def submit_async(client, key, data=None):
    return post(client, "/api/v2/generate/async", data or body(), key)


def pop(client, key, name="volunteer-1", models=(SD, SDXL), **extra):
    return post(
        client,
        "/api/v2/generate/pop",
        {"name": name, "models": list(models), "max_pixels": 4 * 1024 * 1024, **extra},
        key,
    )


def test_async_answers_202_with_id_and_price(demo_models, api_client, alice):
    response = submit_async(api_client, alice[1])
    assert response.status_code == 202
    data = response.json()
    assert uuid.UUID(data["id"])
    assert data["kudos"] == 6.0  # 512x512x20 steps
    assert "warnings" not in data
    assert GenerationRequest.objects.get(pk=data["id"]).user == alice[0]


def test_async_dry_run_answers_the_price_only(demo_models, api_client, alice):
    response = submit_async(api_client, alice[1], body(dry_run=True))
    assert response.status_code == 200
    assert response.json() == {"kudos": 6.0}
    assert GenerationRequest.objects.count() == 0


def test_async_for_the_beta_warns_when_n_is_not_2(demo_models, api_client, alice):
    response = submit_async(api_client, alice[1], body(models=[SDXL], params={"width": 1024, "height": 1024, "n": 1}))
    assert response.status_code == 202
    assert response.json()["warnings"][0]["code"] == "FixedImageCount"


def test_anonymous_gets_403_beta_anon_forbidden(demo_models, api_client):
    response = submit_async(api_client, "0000000000", body(models=[SDXL], params={"width": 1024, "height": 1024}))
    assert response.status_code == 403
    assert response.json()["rc"] == "BetaAnonForbidden"


def test_anonymous_may_use_stable_diffusion(demo_models, api_client):
    assert submit_async(api_client, "0000000000").status_code == 202


def test_async_without_apikey_is_401(demo_models, api_client):
    response = submit_async(api_client, None)
    assert response.status_code == 401
    assert response.json()["rc"] == "InvalidAPIKey"


def test_malformed_json_is_a_clear_400(demo_models, api_client, alice):
    response = api_client.post(
        "/api/v2/generate/async", data="{not json", content_type="application/json", HTTP_APIKEY=alice[1]
    )
    assert response.status_code == 400
    assert response.json()["rc"] == "BadRequest"
    assert GenerationRequest.objects.count() == 0


def test_an_oversize_body_is_refused_unread(demo_models, api_client, alice):
    data = body(prompt="x" * 100, padding="y" * 70_000)
    response = submit_async(api_client, alice[1], data)
    assert response.status_code == 400
    assert "at most" in response.json()["message"]
    assert GenerationRequest.objects.count() == 0


def test_a_json_list_body_is_refused(demo_models, api_client, alice):
    response = submit_async(api_client, alice[1], ["prompt"])
    assert response.status_code == 400
    assert response.json()["rc"] == "BadRequest"


def test_invalid_size_carries_rc_and_field(demo_models, api_client, alice):
    response = submit_async(api_client, alice[1], body(params={"width": 520}))
    assert response.status_code == 400
    assert response.json()["rc"] == "InvalidSize"
    assert "params.width" in response.json()["message"]
    assert "errors" not in response.json()  # a named refusal, not a payload validation failure


def test_check_reports_waiting_progress(demo_models, api_client, alice, make_worker):
    make_worker(alice[0])
    request_id = submit_async(api_client, alice[1], body(params={"n": 2})).json()["id"]
    data = api_client.get(f"/api/v2/generate/check/{request_id}").json()
    assert data["waiting"] == 2
    assert data["finished"] == 0
    assert data["processing"] == 0
    assert data["done"] is False
    assert data["faulted"] is False
    assert data["is_possible"] is True
    assert data["queue_position"] == 0
    assert data["wait_time"] >= 1
    assert set(data) == {
        "finished", "processing", "restarted", "waiting", "done", "faulted",
        "wait_time", "queue_position", "kudos", "is_possible",
    }  # fmt: skip


def test_check_and_status_of_unknown_ids_are_404_request_not_found(demo_models, api_client):
    for url in (f"/api/v2/generate/check/{uuid.uuid4()}", "/api/v2/generate/status/not-a-uuid"):
        response = api_client.get(url)
        assert response.status_code == 404
        assert response.json()["rc"] == "RequestNotFound"


def test_the_queue_position_counts_higher_priority_jobs_first(demo_models, api_client, alice, bob, make_user):
    _rich, rich_key = make_user("rich", kudos=50_000)
    first = submit_async(api_client, alice[1]).json()["id"]
    rich = submit_async(api_client, rich_key).json()["id"]
    anonymous = submit_async(api_client, "0000000000").json()["id"]
    positions = {
        name: api_client.get(f"/api/v2/generate/check/{rid}").json()["queue_position"]
        for name, rid in (("alice", first), ("rich", rich), ("anon", anonymous))
    }
    assert positions == {"rich": 0, "alice": 1, "anon": 2}


def test_a_worker_pops_and_submits_and_the_requester_sees_the_image(demo_models, api_client, alice, bob):
    alice_start = user_balance(user=alice[0])
    request_id = submit_async(api_client, alice[1]).json()["id"]
    # Charged at submission; the completion only rewards the worker's owner.
    assert user_balance(user=alice[0]) == alice_start - 6
    alice_before, bob_before = user_balance(user=alice[0]), user_balance(user=bob[0])
    popped = pop(api_client, bob[1]).json()
    assert popped["model"] == SD
    assert popped["ids"] == [popped["id"]]
    payload = popped["payload"]
    assert (payload["width"], payload["height"], payload["ddim_steps"]) == (512, 512, 20)
    assert payload["prompt"] == "a red fox in the snow"
    check = api_client.get(f"/api/v2/generate/check/{request_id}").json()
    assert check["processing"] == 1

    image = base64.b64encode(webp(512, 512)).decode()
    response = post(
        api_client,
        "/api/v2/generate/submit",
        {"id": popped["id"], "generation": image, "state": "ok", "seed": 7},
        bob[1],
    )
    assert response.status_code == 200, response.json()
    assert response.json() == {"reward": 6.0}
    assert user_balance(user=alice[0]) == alice_before
    assert user_balance(user=bob[0]) == bob_before + 6

    status = api_client.get(f"/api/v2/generate/status/{request_id}").json()
    assert status["done"] is True
    assert status["finished"] == 1
    generation = status["generations"][0]
    assert generation["img"].startswith("http://testserver/media/images/")
    assert generation["seed"] == "7"
    assert generation["worker_name"] == "volunteer-1"
    assert generation["model"] == SD
    assert generation["state"] == "ok"
    assert api_client.get(generation["img"].replace("http://testserver", "")).status_code == 200


def test_a_second_submit_is_duplicate_gen_and_pays_nothing(demo_models, api_client, alice, bob):
    submit_async(api_client, alice[1])
    popped = pop(api_client, bob[1]).json()
    image = base64.b64encode(webp(512, 512)).decode()
    data = {"id": popped["id"], "generation": image, "state": "ok", "seed": 1}
    assert post(api_client, "/api/v2/generate/submit", data, bob[1]).status_code == 200
    bob_after = user_balance(user=bob[0])
    again = post(api_client, "/api/v2/generate/submit", data, bob[1])
    assert again.status_code == 400
    assert again.json()["rc"] == "DuplicateGen"
    assert user_balance(user=bob[0]) == bob_after
    assert Image.objects.count() == 1


def test_submitting_an_unknown_job_is_404_invalid_job_id(demo_models, api_client, bob):
    response = post(
        api_client, "/api/v2/generate/submit", {"id": str(uuid.uuid4()), "generation": "", "state": "ok"}, bob[1]
    )
    assert response.status_code == 404
    assert response.json()["rc"] == "InvalidJobID"


def test_another_users_worker_cannot_submit_my_job(demo_models, api_client, alice, bob, charlie):
    submit_async(api_client, alice[1])
    popped = pop(api_client, bob[1]).json()
    image = base64.b64encode(webp(512, 512)).decode()
    response = post(api_client, "/api/v2/generate/submit", {"id": popped["id"], "generation": image}, charlie[1])
    assert response.status_code == 403
    assert Job.objects.get(pk=popped["id"]).status == Job.Status.CLAIMED


def test_a_worker_name_belongs_to_its_first_owner(demo_models, api_client, bob, charlie):
    assert pop(api_client, bob[1], name="shared-name").status_code == 200
    response = pop(api_client, charlie[1], name="shared-name")
    assert response.status_code == 403
    assert Worker.objects.get(name="shared-name").owner == bob[0]


def test_anonymous_cannot_pop(demo_models, api_client):
    response = pop(api_client, "0000000000")
    assert response.status_code == 403


def test_pop_with_nothing_to_do_answers_empty(demo_models, api_client, bob):
    data = pop(api_client, bob[1]).json()
    assert data["id"] is None
    assert data["ids"] == []


def test_pop_respects_max_pixels(demo_models, api_client, alice, bob):
    submit_async(api_client, alice[1], body(params={"width": 1024, "height": 1024}))
    small = post(api_client, "/api/v2/generate/pop", {"name": "small", "models": [SD], "max_pixels": 512 * 512}, bob[1])
    assert small.json()["id"] is None
    big = post(api_client, "/api/v2/generate/pop", {"name": "big", "models": [SD], "max_pixels": 1024 * 1024}, bob[1])
    assert big.json()["id"] is not None


def test_pop_serves_only_the_workers_models(demo_models, api_client, alice, bob):
    submit_async(api_client, alice[1], body(models=[SDXL], params={"width": 1024, "height": 1024}))
    refused = pop(api_client, bob[1], models=[SD]).json()
    assert refused["id"] is None
    assert refused["skipped"] == {"models": 2}


def test_a_bad_image_is_refused_and_the_job_goes_back_to_the_queue(demo_models, api_client, alice, bob):
    submit_async(api_client, alice[1])
    popped = pop(api_client, bob[1]).json()
    wrong_size = base64.b64encode(webp(256, 256)).decode()
    response = post(api_client, "/api/v2/generate/submit", {"id": popped["id"], "generation": wrong_size}, bob[1])
    assert response.status_code == 400
    assert response.json()["rc"] == "InvalidImage"
    assert "256x256" in response.json()["message"]
    job = Job.objects.get(pk=popped["id"])
    assert job.status == Job.Status.QUEUED
    assert job.worker is None
    assert Image.objects.count() == 0


def test_a_submit_that_is_not_base64_is_refused(demo_models, api_client, alice, bob):
    submit_async(api_client, alice[1])
    popped = pop(api_client, bob[1]).json()
    response = post(api_client, "/api/v2/generate/submit", {"id": popped["id"], "generation": "%%%not base64"}, bob[1])
    assert response.status_code == 400
    assert response.json()["rc"] == "InvalidImage"
    assert Job.objects.get(pk=popped["id"]).status == Job.Status.QUEUED


def test_a_faulted_submit_requeues_the_job(demo_models, api_client, alice, bob):
    submit_async(api_client, alice[1])
    popped = pop(api_client, bob[1]).json()
    response = post(
        api_client, "/api/v2/generate/submit", {"id": popped["id"], "generation": "", "state": "faulted"}, bob[1]
    )
    assert response.status_code == 200
    assert response.json()["reward"] == 0
    assert Job.objects.get(pk=popped["id"]).status == Job.Status.QUEUED


def test_the_r2_upload_flow_stores_the_image(demo_models, api_client, alice, bob):
    request_id = submit_async(api_client, alice[1]).json()["id"]
    popped = pop(api_client, bob[1]).json()
    upload = popped["r2_upload"]
    assert upload.startswith("http://testserver/api/v2/generate/r2/")
    put = api_client.put(upload.replace("http://testserver", ""), data=webp(512, 512), content_type="image/webp")
    assert put.status_code == 200
    response = post(
        api_client, "/api/v2/generate/submit", {"id": popped["id"], "generation": "R2", "state": "ok"}, bob[1]
    )
    assert response.status_code == 200, response.json()
    assert api_client.get(f"/api/v2/generate/check/{request_id}").json()["done"] is True


def test_an_r2_upload_with_a_forged_token_is_refused(demo_models, api_client, alice, bob):
    submit_async(api_client, alice[1])
    popped = pop(api_client, bob[1]).json()
    response = api_client.put(
        f"/api/v2/generate/r2/{popped['id']}?token=forged", data=webp(512, 512), content_type="image/webp"
    )
    assert response.status_code == 403
    assert response.json()["rc"] == "InvalidUploadToken"


def test_delete_cancels_waiting_jobs_and_refunds_them(demo_models, api_client, alice):
    start = user_balance(user=alice[0])
    request_id = submit_async(api_client, alice[1], body(params={"n": 2})).json()["id"]
    assert user_balance(user=alice[0]) == start - 12
    response = api_client.delete(f"/api/v2/generate/status/{request_id}", HTTP_APIKEY=alice[1])
    assert response.status_code == 200
    assert response.json()["done"] is True
    assert "message" not in response.json()  # the AI Horde's status answer, nothing added
    assert user_balance(user=alice[0]) == start
    again = api_client.delete(f"/api/v2/generate/status/{request_id}", HTTP_APIKEY=alice[1])
    assert again.status_code == 200
    assert user_balance(user=alice[0]) == start  # refunded once
    assert GenerationRequest.objects.get(pk=request_id).status == GenerationRequest.Status.CANCELLED
    assert set(Job.objects.filter(request_id=request_id).values_list("status", flat=True)) == {Job.Status.CANCELLED}


def test_delete_by_another_user_is_refused(demo_models, api_client, alice, bob):
    request_id = submit_async(api_client, alice[1]).json()["id"]
    response = api_client.delete(f"/api/v2/generate/status/{request_id}", HTTP_APIKEY=bob[1])
    assert response.status_code == 403
    assert GenerationRequest.objects.get(pk=request_id).status == GenerationRequest.Status.WAITING


def test_heartbeat_models_and_workers(demo_models, api_client, alice, bob):
    assert api_client.get("/api/v2/status/heartbeat").json()["message"] == "OK"
    submit_async(api_client, alice[1], body(params={"n": 3}))
    pop(api_client, bob[1], amount=1)
    models = {row["name"]: row for row in api_client.get("/api/v2/status/models").json()}
    assert models[SD]["jobs"] == 2
    assert models[SD]["count"] == 1
    assert models[SD]["type"] == "image"
    assert models[SDXL]["jobs"] == 0
    workers = api_client.get("/api/v2/workers").json()
    assert [worker["name"] for worker in workers] == ["volunteer-1"]
    one = api_client.get(f"/api/v2/workers/{workers[0]['id']}").json()
    assert one["online"] is True
    assert one["owner"] == bob[0].horde_name
    missing = api_client.get(f"/api/v2/workers/{uuid.uuid4()}")
    assert missing.status_code == 404
    assert missing.json()["rc"] == "WorkerNotFound"


def test_check_is_one_query(demo_models, api_client, alice, make_worker, django_assert_max_num_queries):
    make_worker(alice[0])
    request_id = submit_async(api_client, alice[1], body(params={"n": 2})).json()["id"]
    api_client.get(f"/api/v2/generate/check/{request_id}")  # warms the model-capacity cache
    with django_assert_max_num_queries(1):  # request, grouped job counts and queue position together
        assert api_client.get(f"/api/v2/generate/check/{request_id}").status_code == 200


def test_pop_stays_a_handful_of_queries(demo_models, api_client, alice, bob, django_assert_max_num_queries):
    submit_async(api_client, alice[1], body(params={"n": 2}))
    pop(api_client, bob[1])  # registers the worker
    # apikey, worker, the claim (one UPDATE), then reading the claimed job with its request
    with django_assert_max_num_queries(4):
        assert pop(api_client, bob[1]).json()["id"] is not None


def test_an_empty_pop_counts_what_it_skipped_in_one_more_query(
    demo_models, api_client, alice, bob, django_assert_max_num_queries
):
    submit_async(api_client, alice[1], body(params={"width": 1024, "height": 1024}))
    small = {"name": "small", "models": [SD], "max_pixels": 512 * 512}
    post(api_client, "/api/v2/generate/pop", small, bob[1])  # registers the worker
    # apikey, worker, the claim (nothing), the skipped counts
    with django_assert_max_num_queries(4):
        data = post(api_client, "/api/v2/generate/pop", small, bob[1]).json()
    assert (data["id"], data["skipped"]) == (None, {"max_pixels": 1})


def test_a_failed_claim_discards_its_uploaded_r2_file(
    demo_models, api_client, alice, bob, django_capture_on_commit_callbacks
):
    from django.core.files.storage import default_storage

    from generation.services import job_fail, r2_staging_name

    submit_async(api_client, alice[1])
    popped = pop(api_client, bob[1]).json()
    api_client.put(popped["r2_upload"].replace("http://testserver", ""), data=webp(512, 512), content_type="image/webp")
    job = Job.objects.select_related("worker").get(pk=popped["id"])
    assert default_storage.exists(r2_staging_name(job))
    with django_capture_on_commit_callbacks(execute=True):
        job_fail(job=job, worker=job.worker, reason="test")
    assert not default_storage.exists(r2_staging_name(job))


def test_is_possible_says_whether_a_live_worker_could_ever_take_the_request(demo_models, api_client, alice, bob):
    from django.core.cache import cache

    from generation.models import Worker

    def possible(request_id: str) -> bool:
        cache.delete("generation:model-capacity")  # the figures are cached for seconds
        return api_client.get(f"/api/v2/generate/check/{request_id}").json()["is_possible"]

    plain = submit_async(api_client, alice[1]).json()["id"]
    wants_trusted = submit_async(api_client, alice[1], body(trusted_workers=True)).json()["id"]
    assert possible(plain) is False  # no worker at all
    pop(api_client, bob[1])  # bob's untrusted HTTP worker comes online
    assert possible(plain) is True
    assert possible(wants_trusted) is False  # no trusted worker: nobody could ever take it
    bob[0].trusted = True
    bob[0].save(update_fields=["trusted"])
    assert possible(wants_trusted) is True
    Worker.objects.update(max_pixels=256 * 256)  # too small for a 512x512 request
    assert possible(plain) is False


def test_an_anonymous_worker_is_refused_with_the_ai_hordes_rc(demo_models, api_client):
    response = pop(api_client, "0000000000")
    assert response.status_code == 403
    assert response.json()["rc"] == "AnonForbiddenWorker"


def test_status_models_takes_the_ai_hordes_filters(demo_models, api_client, alice, bob):
    from django.core.cache import cache

    pop(api_client, bob[1], models=[SD])  # one worker serving stable_diffusion only
    cache.delete("generation:model-capacity")

    def names(query: str) -> list[str]:
        response = api_client.get(f"/api/v2/status/models{query}")
        assert response.status_code == 200, response.json()
        return [row["name"] for row in response.json()]

    assert names("") == names("?type=image&model_state=all") == sorted([SD, SDXL])
    assert names("?min_count=1") == [SD]
    assert names("?max_count=0") == [SDXL]
    assert names("?type=text") == names("?model_state=custom") == []
    for bad in ("-1", "%D9%A3", "%C2%B2", "1.0", "9" * 30):  # "٣" and "²" are no digits here
        refused = api_client.get(f"/api/v2/status/models?min_count={bad}")
        assert (refused.status_code, refused.json()["rc"]) == (400, "BadRequest"), bad


def test_workers_takes_a_name_and_a_type(demo_models, api_client, bob, charlie):
    pop(api_client, bob[1], name="Bobs-Box")
    pop(api_client, charlie[1], name="charlies-box")
    one = api_client.get("/api/v2/workers?name=bobs-box").json()
    assert [worker["name"] for worker in one] == ["Bobs-Box"]
    assert api_client.get("/api/v2/workers?type=text").json() == []
    assert len(api_client.get("/api/v2/workers").json()) == 2
    assert api_client.get("/api/v2/workers?type=video").status_code == 400
