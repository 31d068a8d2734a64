"""PUT /api/v2/sharedkeys, GET/PATCH/DELETE /api/v2/sharedkeys/{id}: the AI Horde's shapes and rc names."""

from __future__ import annotations

import json
import uuid

import pytest
from django.utils import timezone

from accounts.apikeys import apikey_hash
from accounts.models import ANONYMOUS_APIKEY, SharedKey

pytestmark = pytest.mark.django_db


def put(api_client, key, body):
    return api_client.put(
        "/api/v2/sharedkeys", data=json.dumps(body), content_type="application/json", headers={"apikey": key}
    )


def patch(api_client, key, shared, body):
    return api_client.patch(
        f"/api/v2/sharedkeys/{shared}", data=json.dumps(body), content_type="application/json", headers={"apikey": key}
    )


def test_a_user_creates_a_shared_key_and_gets_it_once_as_its_id(api_client, alice):
    user, key = alice
    response = put(api_client, key, {"name": "for my friend", "kudos": 300, "expiry": 7, "max_image_steps": 30})
    assert response.status_code == 200
    body = response.json()
    shared = body["id"]
    assert str(uuid.UUID(shared)) == shared
    assert body["username"] == f"alice#{user.pk}"
    assert (body["name"], body["kudos"], body["utilized"]) == ("for my friend", 300, 0)
    assert (body["max_image_steps"], body["max_image_pixels"], body["max_text_tokens"]) == (30, -1, -1)
    expiry = timezone.datetime.fromisoformat(body["expiry"])
    assert 6.9 < (expiry - timezone.now()).total_seconds() / 86400 <= 7
    stored = SharedKey.objects.get(user=user)
    # Only the hash is kept: the key is nowhere in the row.
    assert stored.key_hash == apikey_hash(shared)
    assert shared not in {str(value) for value in stored.__dict__.values()}


def test_a_shared_key_takes_the_ai_hordes_defaults(api_client, alice):
    body = put(api_client, alice[1], {}).json()
    assert (body["kudos"], body["expiry"], body["name"], body["max_image_pixels"]) == (5000, None, "", -1)


def test_anyone_holding_the_key_reads_it_in_any_spelling(api_client, alice):
    shared = put(api_client, alice[1], {"name": "k", "kudos": -1}).json()["id"]
    for spelling in (shared, shared.upper(), shared.replace("-", "")):
        response = api_client.get(f"/api/v2/sharedkeys/{spelling}")
        assert response.status_code == 200, spelling
        assert response.json()["id"] == shared
        assert response.json()["kudos"] == -1


@pytest.mark.parametrize("wrong", [str(uuid.uuid4()), "not-a-key", "0" * 200, "١٢٣"])
def test_a_key_that_opens_nothing_is_invalid_apikey(api_client, alice, wrong):
    put(api_client, alice[1], {})
    for method in ("get", "patch", "delete"):
        response = getattr(api_client, method)(f"/api/v2/sharedkeys/{wrong}", headers={"apikey": alice[1]})
        assert response.status_code == 401, (method, wrong)
        assert response.json()["rc"] == "InvalidAPIKey"
    assert SharedKey.objects.count() == 1


def test_the_owner_edits_only_what_they_send(api_client, alice):
    shared = put(api_client, alice[1], {"name": "k", "kudos": 100, "max_image_steps": 20}).json()["id"]
    response = patch(api_client, alice[1], shared, {"kudos": 50, "expiry": -1})
    assert response.status_code == 200
    body = response.json()
    assert (body["kudos"], body["name"], body["max_image_steps"], body["expiry"]) == (50, "k", 20, None)
    assert SharedKey.objects.get().kudos == 50


def test_an_edit_with_nothing_to_change_is_no_shared_key_mod_selected(api_client, alice):
    shared = put(api_client, alice[1], {"kudos": 100}).json()["id"]
    response = patch(api_client, alice[1], shared, {"unknown": 1})
    assert response.status_code == 400
    assert response.json()["rc"] == "NoSharedKeyModSelected"


def test_only_the_owner_edits_or_deletes_a_key(api_client, alice, bob):
    shared = put(api_client, alice[1], {"name": "mine", "kudos": 100}).json()["id"]
    assert patch(api_client, bob[1], shared, {"kudos": 999999}).status_code == 403
    assert patch(api_client, ANONYMOUS_APIKEY, shared, {"kudos": 999999}).json()["rc"] == "Forbidden"
    response = api_client.delete(f"/api/v2/sharedkeys/{shared}", headers={"apikey": bob[1]})
    assert response.status_code == 403 and response.json()["rc"] == "Forbidden"
    assert SharedKey.objects.get().kudos == 100
    # Not even with the key itself as the apikey: editing needs the owner's own key.
    response = patch(api_client, shared, shared, {"kudos": 999999})
    assert response.status_code == 401 and response.json()["rc"] == "InvalidAPIKey"
    assert SharedKey.objects.get().kudos == 100


def test_the_owner_deletes_a_key_and_it_stops_working(api_client, alice):
    shared = put(api_client, alice[1], {}).json()["id"]
    response = api_client.delete(f"/api/v2/sharedkeys/{shared}", headers={"apikey": alice[1]})
    assert response.status_code == 200
    assert response.json() == {"message": "OK"}
    assert not SharedKey.objects.exists()
    assert api_client.get("/api/v2/find_user", headers={"apikey": shared}).status_code == 401


def test_a_user_has_three_keys_a_trusted_user_ten(api_client, alice, bob):
    for _ in range(3):
        assert put(api_client, alice[1], {}).status_code == 200
    response = put(api_client, alice[1], {})
    assert response.status_code == 403 and response.json()["rc"] == "Forbidden"
    bob[0].trusted = True
    bob[0].save(update_fields=["trusted"])
    assert [put(api_client, bob[1], {}).status_code for _ in range(11)] == [200] * 10 + [403]
    assert SharedKey.objects.filter(user=alice[0]).count() == 3


def test_the_anonymous_user_and_strangers_cannot_create_keys(api_client, alice):
    response = put(api_client, ANONYMOUS_APIKEY, {})
    assert response.status_code == 403 and response.json()["rc"] == "AnonForbidden"
    assert put(api_client, None, {}).status_code == 401
    assert put(api_client, "x" * 22, {}).status_code == 401
    shared = put(api_client, alice[1], {}).json()["id"]
    # A shared key cannot make more shared keys (the AI Horde finds no user for it there).
    response = put(api_client, shared, {})
    assert response.status_code == 401 and response.json()["rc"] == "InvalidAPIKey"
    assert SharedKey.objects.count() == 1


BAD_BODIES = [
    {"kudos": "100"},
    {"kudos": 1.5},
    {"kudos": True},
    {"kudos": -2},
    {"kudos": 10**30},
    {"expiry": -5},
    {"expiry": 10**9},
    {"expiry": "7"},
    {"name": 5},
    {"name": "x" * 256},
    {"max_image_pixels": -2},
    {"max_image_steps": 2**31},
    {"max_text_tokens": None},
]


@pytest.mark.parametrize("bad", BAD_BODIES, ids=[json.dumps(bad)[:40] for bad in BAD_BODIES])
def test_bad_input_is_a_bad_request_and_changes_nothing(api_client, alice, bad):
    shared = put(api_client, alice[1], {"name": "k", "kudos": 100}).json()["id"]
    before = SharedKey.objects.values().get()
    created = put(api_client, alice[1], bad)
    edited = patch(api_client, alice[1], shared, bad)
    for response in (created, edited):
        assert response.status_code == 400, response.content
        assert response.json()["rc"] == "BadRequest"
        assert response.json()["errors"]
    assert SharedKey.objects.count() == 1
    assert SharedKey.objects.values().get() == before


@pytest.mark.parametrize("raw", ['{"name": "a\\u0000b"}', '{"name": "\\ud800"}', "[1, 2]", "not json"])
def test_hostile_bodies_are_refused_and_change_nothing(api_client, alice, raw):
    response = api_client.put(
        "/api/v2/sharedkeys", data=raw, content_type="application/json", headers={"apikey": alice[1]}
    )
    assert response.status_code == 400
    assert response.json()["rc"] == "BadRequest"
    assert not SharedKey.objects.exists()
