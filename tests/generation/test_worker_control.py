"""Worker control over the API: PUT /v2/workers/{id} (maintenance, pause, info, name, team),
DELETE (retire), workers/name/{name}; the claims that follow (HTTP pop and the claim itself).

Alice owns the worker, Bob is another user, staff is staff."""

from __future__ import annotations

import json

import pytest

from generation.models import Job, Team, Worker
from generation.services import job_claim, request_submit

from .conftest import SD, body, webp

pytestmark = pytest.mark.django_db


def call(client, method, url, data=None, key=None):
    headers = {"HTTP_APIKEY": key} if key else {}
    if data is not None:
        return getattr(client, method)(url, data=json.dumps(data), content_type="application/json", **headers)
    return getattr(client, method)(url, **headers)


def pop(client, key, name="alices-box", **extra):
    return call(
        client, "post", "/api/v2/generate/pop", {"name": name, "models": [SD], "max_pixels": 512 * 512, **extra}, key
    )


@pytest.fixture
def staff(make_user):
    return make_user("staffer", is_staff=True)


@pytest.fixture
def box(demo_models, api_client, alice):
    """Alice's HTTP worker, registered by its first pop."""
    assert pop(api_client, alice[1]).status_code == 200
    return Worker.objects.get(name="alices-box")


def snapshot(worker: Worker) -> tuple:
    worker.refresh_from_db()
    return (worker.name, worker.maintenance, worker.maintenance_msg, worker.paused, worker.note, worker.team_id)


def test_the_owner_puts_the_worker_in_maintenance_and_its_pops_are_refused_until_it_is_off(api_client, alice, bob, box):
    request_submit(user=bob[0], body=body(params={"width": 512, "height": 512}))
    url = f"/api/v2/workers/{box.pk}"
    answer = call(api_client, "put", url, {"maintenance": True, "maintenance_msg": "new GPU"}, alice[1])
    assert (answer.status_code, answer.json()) == (200, {"maintenance": True})
    refused = pop(api_client, alice[1])
    assert (refused.status_code, refused.json()) == (403, {"message": "new GPU", "rc": "WorkerMaintenance"})
    assert Job.objects.get().status == Job.Status.QUEUED  # nothing was claimed
    assert call(api_client, "get", url).json()["maintenance_mode"] is True

    assert call(api_client, "put", url, {"maintenance": False}, alice[1]).json() == {"maintenance": False}
    popped = pop(api_client, alice[1]).json()
    assert popped["id"] == str(Job.objects.get().pk)
    box.refresh_from_db()
    assert box.maintenance_msg == ""  # a message is for one stretch of maintenance


def test_a_paused_worker_gets_nothing_and_only_staff_may_pause(api_client, alice, bob, staff, box):
    request_submit(user=bob[0], body=body())
    url = f"/api/v2/workers/{box.pk}"
    refused = call(api_client, "put", url, {"paused": True}, alice[1])
    assert (refused.status_code, refused.json()["rc"]) == (403, "NotModerator")
    assert box.paused is False
    assert call(api_client, "put", url, {"paused": True}, staff[1]).json() == {"paused": True}
    empty = pop(api_client, alice[1]).json()
    assert (empty["id"], empty["ids"], empty["skipped"]) == (None, [], {})
    assert call(api_client, "put", url, {"paused": False}, staff[1]).status_code == 200
    assert pop(api_client, alice[1]).json()["id"] is not None


@pytest.mark.parametrize("state", [{"maintenance": True}, {"paused": True}])
def test_the_claim_itself_refuses_a_worker_in_maintenance_or_paused_even_from_a_stale_object(
    demo_models, alice, bob, make_worker, state
):
    # A Celery process holds the worker object it loaded at start: the claim must read the row.
    worker = make_worker(alice[0], name="gpu-stale", models=[SD])
    request_submit(user=bob[0], body=body())
    Worker.objects.filter(pk=worker.pk).update(**state)
    assert job_claim(worker=worker, models=[SD], max_pixels=worker.max_pixels) is None
    Worker.objects.filter(pk=worker.pk).update(maintenance=False, paused=False)
    assert job_claim(worker=worker, models=[SD], max_pixels=worker.max_pixels) is not None


def test_the_owner_sets_info_and_name_and_the_details_show_them(api_client, alice, box):
    url = f"/api/v2/workers/{box.pk}"
    answer = call(api_client, "put", url, {"info": "RTX 4090, EU", "name": "alices-4090"}, alice[1])
    assert answer.json() == {"info": "RTX 4090, EU", "name": "alices-4090"}
    details = call(api_client, "get", "/api/v2/workers/name/alices-4090").json()
    assert (details["id"], details["info"], details["name"]) == (str(box.pk), "RTX 4090, EU", "alices-4090")
    assert call(api_client, "get", "/api/v2/workers/name/alices-box").json()["rc"] == "WorkerNotFound"


def test_a_name_another_worker_has_is_refused(api_client, alice, box, make_worker):
    make_worker(alice[0], name="taken-name")
    answer = call(api_client, "put", f"/api/v2/workers/{box.pk}", {"name": "taken-name"}, alice[1])
    assert (answer.status_code, answer.json()["rc"]) == (400, "WorkerNameAlreadyExists")
    box.refresh_from_db()
    assert box.name == "alices-box"


def test_someone_else_changes_nothing(api_client, alice, bob, box):
    before = snapshot(box)
    url = f"/api/v2/workers/{box.pk}"
    for change, rc in (
        ({"maintenance": True}, "NotOwner"),
        ({"info": "mine now"}, "NotOwner"),
        ({"name": "bobs-now"}, "NotModerator"),
        ({"team": ""}, "NotModerator"),
        # A change refused in part changes nothing at all.
        ({"info": "x", "paused": True}, "NotOwner"),
    ):
        answer = call(api_client, "put", url, change, bob[1])
        assert (answer.status_code, answer.json()["rc"]) == (403, rc), change
    assert call(api_client, "put", url, {"maintenance": True}).json()["rc"] == "InvalidAPIKey"
    assert snapshot(box) == before


def test_staff_may_change_any_worker(api_client, staff, box):
    answer = call(api_client, "put", f"/api/v2/workers/{box.pk}", {"maintenance": True, "info": "checked"}, staff[1])
    assert answer.json() == {"maintenance": True, "info": "checked"}


@pytest.mark.parametrize(
    ("change", "status", "rc"),
    [
        ({}, 400, "NoWorkerModSelected"),
        ({"maintenance": None}, 400, "NoWorkerModSelected"),
        ({"maintenance": "yes"}, 400, "BadRequest"),
        ({"maintenance": 1}, 400, "BadRequest"),
        ({"paused": "false"}, 400, "BadRequest"),
        ({"info": 7}, 400, "BadRequest"),
        ({"info": "x" * 1001}, 400, "BadRequest"),
        ({"name": "abc"}, 400, "BadRequest"),
        ({"name": "   abc   "}, 400, "BadRequest"),  # trimmed, then too short
        ({"name": "n" * 101}, 400, "BadRequest"),
        ({"name": "nul\u0000name"}, 400, "BadRequest"),
        ({"name": ["alices-other"]}, 400, "BadRequest"),
        ({"team": "x" * 37}, 400, "BadRequest"),
        ({"team": "00000000-0000-0000-0000-000000000000"}, 404, "TeamNotFound"),
        ({"team": "not-a-team"}, 404, "TeamNotFound"),
        ({"maintenance_msg": "only a message"}, 400, "NoWorkerModSelected"),
    ],
)
def test_bad_input_is_a_4xx_with_an_rc_and_changes_nothing(api_client, alice, box, change, status, rc):
    before = snapshot(box)
    answer = call(api_client, "put", f"/api/v2/workers/{box.pk}", change, alice[1])
    assert (answer.status_code, answer.json()["rc"]) == (status, rc), answer.json()
    assert snapshot(box) == before


@pytest.mark.parametrize("payload", ["[1, 2]", '"maintenance"', "{bad json", "null"])
def test_a_body_that_is_no_object_is_400(api_client, alice, box, payload):
    before = snapshot(box)
    answer = api_client.put(
        f"/api/v2/workers/{box.pk}", data=payload, content_type="application/json", HTTP_APIKEY=alice[1]
    )
    assert (answer.status_code, answer.json()["rc"]) == (400, "BadRequest")
    assert snapshot(box) == before


@pytest.mark.parametrize("worker_id", ["nope", "00000000-0000-0000-0000-000000000000", "١٢٣"])
def test_an_unknown_worker_is_404_worker_not_found(api_client, alice, demo_models, worker_id):
    for method in ("get", "put", "delete"):
        data = {"maintenance": True} if method == "put" else None
        answer = call(api_client, method, f"/api/v2/workers/{worker_id}", data, alice[1])
        assert (answer.status_code, answer.json()["rc"]) == (404, "WorkerNotFound"), method


def test_a_get_with_a_wrong_apikey_still_reads_the_public_details(api_client, box):
    answer = call(api_client, "get", f"/api/v2/workers/{box.pk}", key="wrong-key")
    assert answer.status_code == 200 and answer.json()["name"] == "alices-box"


def test_deleting_a_worker_requeues_its_jobs_in_flight_and_takes_it_out_of_every_list(
    api_client, alice, bob, charlie, box
):
    request = request_submit(user=bob[0], body=body(params={"n": 2})).request
    # Each job of an n=2 request has its own seed: one pop payload each.
    popped = {"ids": [pop(api_client, alice[1], amount=2).json()["id"] for _ in range(2)]}
    assert None not in popped["ids"]
    refused = call(api_client, "delete", f"/api/v2/workers/{box.pk}", key=charlie[1])
    assert (refused.status_code, refused.json()["rc"]) == (403, "NotModerator")

    answer = call(api_client, "delete", f"/api/v2/workers/{box.pk}", key=alice[1])
    assert answer.json() == {"deleted_id": str(box.pk), "deleted_name": "alices-box"}
    jobs = Job.objects.filter(request=request)
    # Back in the queue, nothing lost, no fault counted against the request.
    assert sorted(jobs.values_list("status", "worker")) == [(Job.Status.QUEUED, None)] * 2
    request.refresh_from_db()
    assert request.faults == 0
    assert call(api_client, "get", f"/api/v2/workers/{box.pk}").status_code == 404
    assert call(api_client, "get", "/api/v2/workers").json() == []
    assert call(api_client, "get", "/api/v2/find_user", key=alice[1]).json()["worker_ids"] == []
    assert call(api_client, "delete", f"/api/v2/workers/{box.pk}", key=alice[1]).status_code == 404
    # Its old claim cannot be submitted; the name is free for a new worker, which gets the jobs.
    late = call(api_client, "post", "/api/v2/generate/submit", {"id": popped["ids"][0], "generation": "R2"}, alice[1])
    assert (late.status_code, late.json()["rc"]) == (400, "AbortedGen")
    again = [pop(api_client, alice[1]).json()["id"] for _ in range(2)]
    assert sorted(again) == sorted(popped["ids"])
    assert Worker.objects.filter(name="alices-box").count() == 2
    assert Worker.objects.get(name="alices-box", retired_at__isnull=True).pk != box.pk


def test_a_retired_worker_cannot_claim_even_from_a_stale_object(demo_models, alice, bob, staff, make_worker):
    from generation.services.worker_control import worker_retire

    worker = make_worker(alice[0], name="gpu-retired", models=[SD])
    request_submit(user=bob[0], body=body())
    worker_retire(worker=worker, user=staff[0])
    assert job_claim(worker=worker, models=[SD], max_pixels=worker.max_pixels) is None


def test_a_worker_joins_and_leaves_a_team_and_the_team_counts_its_work(api_client, alice, bob, box):
    alice[0].trusted = True
    alice[0].save(update_fields=["trusted"])
    team = call(api_client, "post", "/api/v2/teams", {"name": "Foxes", "info": "we draw foxes"}, alice[1]).json()
    joined = call(api_client, "put", f"/api/v2/workers/{box.pk}", {"team": team["id"]}, alice[1])
    assert joined.json() == {"team": "Foxes"}
    assert call(api_client, "get", f"/api/v2/workers/{box.pk}").json()["team"] == {"name": "Foxes", "id": team["id"]}

    request_submit(user=bob[0], body=body(params={"width": 512, "height": 512}))
    popped = pop(api_client, alice[1]).json()
    image = __import__("base64").b64encode(webp(512, 512)).decode()
    done = call(api_client, "post", "/api/v2/generate/submit", {"id": popped["id"], "generation": image}, alice[1])
    reward = done.json()["reward"]
    details = call(api_client, "get", f"/api/v2/teams/{team['id']}").json()
    assert (details["requests_fulfilled"], details["kudos"], details["worker_count"]) == (1, reward, 1)
    assert details["workers"][0]["name"] == "alices-box"
    assert details["models"] == [{"name": SD, "count": 1}]
    assert details["creator"] == alice[0].horde_name

    left = call(api_client, "put", f"/api/v2/workers/{box.pk}", {"team": ""}, alice[1])
    assert left.json() == {"team": "None"}
    after = call(api_client, "get", f"/api/v2/teams/{team['id']}").json()
    assert (after["worker_count"], after["requests_fulfilled"]) == (0, 1)  # what it did stays counted
    assert Team.objects.get().requests_fulfilled == 1
