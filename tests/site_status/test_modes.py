"""Maintenance and worker invite-only mode: staff switch them in the admin and they take effect."""

from __future__ import annotations

import base64
import json

import pytest

from generation.models import GenerationRequest, Worker
from kudos.selectors import user_balance
from site_status.models import HordeModes, WorkerInvite
from site_status.services import modes_set
from tests.generation.conftest import SD, body, webp

pytestmark = pytest.mark.django_db


def post(client, url, data, key):
    return client.post(url, data=json.dumps(data), content_type="application/json", HTTP_APIKEY=key)


def pop(client, key, name="bob-box"):
    return post(client, "/api/v2/generate/pop", {"name": name, "models": [SD]}, key)


def test_modes_are_off_until_staff_switch_them(api_client):
    assert api_client.get("/api/v2/status/modes").json() == {"maintenance_mode": False, "invite_only_mode": False}


def test_staff_switch_maintenance_in_the_admin_and_the_api_says_so(staff_client, api_client):
    response = staff_client.post("/admin/site_status/hordemodes/add/", {"maintenance": "on"})
    assert response.status_code == 302, response.content[:500]
    assert HordeModes.objects.get().maintenance is True
    assert api_client.get("/api/v2/status/modes").json() == {"maintenance_mode": True, "invite_only_mode": False}
    staff_client.post("/admin/site_status/hordemodes/1/change/", {"invite_only": "on"})
    assert api_client.get("/api/v2/status/modes").json() == {"maintenance_mode": False, "invite_only_mode": True}
    assert HordeModes.objects.count() == 1


def test_maintenance_refuses_new_requests_and_changes_nothing(demo_models, api_client, alice):
    modes_set(maintenance=True, invite_only=False)
    before = user_balance(user=alice[0])
    for data in (body(), body(dry_run=True)):
        response = post(api_client, "/api/v2/generate/async", data, alice[1])
        assert response.status_code == 400
        assert response.json()["rc"] == "MaintenanceMode"
        assert "errors" not in response.json()  # a refusal, not a payload validation failure
    assert GenerationRequest.objects.count() == 0
    assert user_balance(user=alice[0]) == before
    modes_set(maintenance=False, invite_only=False)
    assert post(api_client, "/api/v2/generate/async", body(), alice[1]).status_code == 202


def test_maintenance_cancels_what_has_not_started_and_lets_workers_finish_what_they_hold(
    demo_models, api_client, alice, bob
):
    from generation.models import Job
    from generation.services.maintenance import requests_abort_for_maintenance

    request_id = post(api_client, "/api/v2/generate/async", body(params={"n": 3}), alice[1]).json()["id"]
    assert requests_abort_for_maintenance() == 0  # the mode is off: nothing happens
    held = pop(api_client, bob[1]).json()["id"]
    paid = user_balance(user=alice[0])
    modes_set(maintenance=True, invite_only=False)
    assert requests_abort_for_maintenance() == 2  # as the AI Horde: the images not started are dropped
    assert user_balance(user=alice[0]) == paid + 2 * 6  # and refunded (6 kudos each)
    assert Job.objects.get(pk=held).status == Job.Status.CLAIMED
    assert pop(api_client, bob[1]).json()["id"] is None  # nothing left to take
    image = base64.b64encode(webp(512, 512)).decode()
    done = post(api_client, "/api/v2/generate/submit", {"id": held, "generation": image}, bob[1])
    assert done.status_code == 200 and done.json()["reward"] == 6.0  # the held image finishes, paid
    assert api_client.get(f"/api/v2/generate/check/{request_id}").json()["finished"] == 1
    assert requests_abort_for_maintenance() == 0  # once each


def test_the_beat_schedule_aborts_queued_work_in_maintenance(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["generation-maintenance-abort"]
    assert (entry["task"], entry["options"]) == ("generation.maintenance_abort", {"queue": "housekeeping"})


def test_maintenance_refuses_the_generate_page_too(demo_models, client, make_user):
    user, _key = make_user("paige", password="pw-paige-123", kudos=100)
    client.force_login(user)
    modes_set(maintenance=True, invite_only=False)
    data = {"model": SD, "prompt": "a lighthouse at dawn", "width": 512, "height": 512, "steps": 20, "n": 1}
    response = client.post("/generate", data)
    assert response.status_code == 200  # the form again, saying why
    assert GenerationRequest.objects.count() == 0
    assert b"maintenance" in response.content.lower()


def test_invite_only_refuses_a_new_worker_of_a_user_without_an_invitation(demo_models, api_client, bob):
    modes_set(maintenance=False, invite_only=True)
    response = pop(api_client, bob[1])
    assert response.status_code == 403
    assert response.json()["rc"] == "WorkerInviteOnly"
    assert not Worker.objects.exists()


def test_invite_only_keeps_existing_workers_and_counts_invitations(demo_models, api_client, alice, bob):
    assert pop(api_client, bob[1], name="old-box").status_code == 200  # joined before the switch
    modes_set(maintenance=False, invite_only=True)
    assert pop(api_client, bob[1], name="old-box").status_code == 200
    assert pop(api_client, bob[1], name="second-box").json()["rc"] == "WorkerInviteOnly"
    WorkerInvite.objects.create(user=bob[0], workers=2)
    assert pop(api_client, bob[1], name="second-box").status_code == 200
    third = pop(api_client, bob[1], name="third-box")
    assert (third.status_code, third.json()["rc"]) == (403, "WorkerInviteOnly")
    assert sorted(Worker.objects.values_list("name", flat=True)) == ["old-box", "second-box"]
    modes_set(maintenance=False, invite_only=False)
    assert pop(api_client, bob[1], name="third-box").status_code == 200


def test_the_modes_endpoint_takes_no_bad_input(api_client):
    response = api_client.get("/api/v2/status/modes?x=%00")
    assert (response.status_code, response.json()["rc"]) == (400, "BadRequest")
    assert not HordeModes.objects.exists()


def test_the_modes_are_one_query(demo_models, api_client, django_assert_num_queries):
    modes_set(maintenance=True, invite_only=True)
    with django_assert_num_queries(1):
        assert api_client.get("/api/v2/status/modes").json() == {"maintenance_mode": True, "invite_only_mode": True}
