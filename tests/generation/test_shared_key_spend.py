"""A shared key generates for its owner: the owner is charged, the key's allowance pays,
and it is refused past its allowance, its expiry and its per-job limits, with the AI
Horde's rc names. It cannot transfer, run a worker or rate (as on the AI Horde)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import SharedKey
from accounts.services import shared_key_create
from generation.models import GenerationRequest
from kudos.selectors import user_balance

from .conftest import SD, body

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_celery(settings):
    settings.HORDE_CELERY_DISPATCH = False


def post(client, url, data, key):
    return client.post(url, data=json.dumps(data), content_type="application/json", HTTP_APIKEY=key)


def price(client, key) -> int:
    return int(post(client, "/api/v2/generate/async", {**body(), "dry_run": True}, key).json()["kudos"])


def new_key(owner, **settings) -> tuple[SharedKey, str]:
    return shared_key_create(user=owner, settings=settings)


def test_a_shared_key_generates_for_its_owner_and_spends_its_allowance(demo_models, api_client, alice):
    owner, own_key = alice
    cost = price(api_client, own_key)
    shared_key, key = new_key(owner, kudos=cost * 3, name="friend")
    response = post(api_client, "/api/v2/generate/async", body(), key)
    assert response.status_code == 202, response.content
    made = GenerationRequest.objects.get(pk=response.json()["id"])
    assert made.user_id == owner.pk and made.shared_key_id == shared_key.pk
    assert user_balance(user=owner) == 1000 - cost
    shared_key.refresh_from_db()
    assert (shared_key.kudos, shared_key.utilized) == (cost * 2, cost)


def test_an_unlimited_key_stays_unlimited_and_counts_what_it_spent(demo_models, api_client, alice):
    cost = price(api_client, alice[1])
    shared_key, key = new_key(alice[0], kudos=-1)
    for _ in range(2):
        assert post(api_client, "/api/v2/generate/async", body(), key).status_code == 202
    shared_key.refresh_from_db()
    assert (shared_key.kudos, shared_key.utilized) == (-1, 2 * cost)


def test_a_key_is_refused_past_its_allowance_and_then_when_empty(demo_models, api_client, alice):
    cost = price(api_client, alice[1])
    shared_key, key = new_key(alice[0], kudos=cost + cost // 2)
    assert post(api_client, "/api/v2/generate/async", body(), key).status_code == 202
    short = post(api_client, "/api/v2/generate/async", body(), key)
    assert short.status_code == 403 and short.json()["rc"] == "SharedKeyInsufficientKudos"
    assert GenerationRequest.objects.count() == 1
    SharedKey.objects.filter(pk=shared_key.pk).update(kudos=0)
    empty = post(api_client, "/api/v2/generate/async", body(), key)
    assert empty.status_code == 403 and empty.json()["rc"] == "SharedKeyEmpty"
    assert GenerationRequest.objects.count() == 1
    assert user_balance(user=alice[0]) == 1000 - cost


def test_an_expired_key_is_refused_and_charges_nothing(demo_models, api_client, alice):
    shared_key, key = new_key(alice[0], kudos=-1)
    SharedKey.objects.filter(pk=shared_key.pk).update(expiry=timezone.now() - timedelta(seconds=1))
    for data in (body(), {**body(), "dry_run": True}):
        response = post(api_client, "/api/v2/generate/async", data, key)
        assert response.status_code == 403 and response.json()["rc"] == "SharedKeyExpired"
    assert not GenerationRequest.objects.exists()
    assert user_balance(user=alice[0]) == 1000


def test_a_key_keeps_to_its_per_job_limits(demo_models, api_client, alice):
    _, key = new_key(alice[0], kudos=-1, max_image_steps=10, max_image_pixels=512 * 512)
    steps = post(api_client, "/api/v2/generate/async", body(params={"steps": 11}), key)
    assert steps.status_code == 400 and steps.json()["rc"] == "BadRequest"
    assert "10 steps" in steps.json()["message"]
    pixels = post(api_client, "/api/v2/generate/async", body(params={"steps": 10, "width": 576}), key)
    assert pixels.status_code == 400 and "pixels" in pixels.json()["message"]
    assert not GenerationRequest.objects.exists()
    assert post(api_client, "/api/v2/generate/async", body(params={"steps": 10}), key).status_code == 202


def test_a_cancelled_request_gives_its_refund_back_to_the_key(demo_models, api_client, alice):
    cost = price(api_client, alice[1])
    shared_key, key = new_key(alice[0], kudos=cost)
    request_id = post(api_client, "/api/v2/generate/async", body(), key).json()["id"]
    assert api_client.delete(f"/api/v2/generate/status/{request_id}", HTTP_APIKEY=alice[1]).status_code == 200
    shared_key.refresh_from_db()
    assert (shared_key.kudos, shared_key.utilized) == (cost, 0)
    assert user_balance(user=alice[0]) == 1000
    assert post(api_client, "/api/v2/generate/async", body(), key).status_code == 202


def test_find_user_with_a_shared_key_names_the_owner_and_the_key(demo_models, api_client, alice):
    _, key = new_key(alice[0], name="party")
    response = api_client.get("/api/v2/find_user", HTTP_APIKEY=key)
    assert response.status_code == 200
    assert response.json()["id"] == alice[0].pk
    assert response.json()["username"] == f"alice#{alice[0].pk} (Shared Key: party)"


def test_a_shared_key_cannot_transfer_run_a_worker_or_rate(demo_models, api_client, alice, bob):
    _, key = new_key(alice[0], kudos=-1)
    request_id = post(api_client, "/api/v2/generate/async", body(), key).json()["id"]
    refused = [
        post(api_client, "/api/v2/kudos/transfer", {"username": "bob", "amount": 10}, key),
        post(api_client, "/api/v2/generate/pop", {"name": "sk-worker", "models": [SD]}, key),
        post(api_client, f"/api/v2/generate/rate/{request_id}", {"best": request_id}, key),
        api_client.get("/api/v2/ratings/arena/next", HTTP_APIKEY=key),
        post(api_client, "/api/v2/kudos/award", {"username": "bob", "amount": 10}, key),
    ]
    for response in refused:
        assert response.status_code == 401, response.content
        assert response.json()["rc"] == "InvalidAPIKey"
    assert user_balance(user=bob[0]) == 1000
    from generation.models import Worker

    assert not Worker.objects.filter(name="sk-worker").exists()


def test_a_deleted_owner_account_closes_its_keys(demo_models, api_client, alice):
    _, key = new_key(alice[0])
    alice[0].is_active = False
    alice[0].save(update_fields=["is_active"])
    response = post(api_client, "/api/v2/generate/async", body(), key)
    assert response.status_code == 401 and response.json()["rc"] == "InvalidAPIKey"
