"""Hostile input anywhere in an endpoint's input: a 4xx with an rc, never a 500, nothing stored.

NUL bytes and lone surrogates cannot be stored by PostgreSQL (or encoded as UTF-8), and non-ASCII
digits ("²") pass `str.isdigit()` but not `int()`: each used to crash an endpoint.
"""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from generation.models import GenerationRequest
from kudos.models import Transaction

SD = "stable_diffusion"


@pytest.fixture
def demo_models(db):
    call_command("seed_demo", stdout=io.StringIO())


def post_json(client, path: str, body, key: str | None = None):
    """Send the body as JSON text exactly as given (json.dumps escapes a lone surrogate as \\ud800)."""
    headers = {"HTTP_APIKEY": key} if key else {}
    return client.post(path, data=json.dumps(body), content_type="application/json", **headers)


def assert_refused(response, status: int = 400):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) >= {"message", "rc"} and body["rc"]


ASYNC_BODIES = {
    "NUL at the end of a model name": {"prompt": "a cat", "models": [f"{SD}\u0000"]},
    "NUL inside a model name": {"prompt": "a cat", "models": ["a\u0000b"]},
    "lone surrogate in a model name": {"prompt": "a cat", "models": [f"{SD}\ud800"]},
    "lone surrogate in the prompt": {"prompt": "a cat \ud800", "models": [SD]},
    "lone surrogate in the seed": {"prompt": "a cat", "models": [SD], "params": {"seed": "\udfff"}},
    "superscript two as the seed": {"prompt": "a cat", "models": [SD], "params": {"seed": "²"}},
    "arabic-indic digits as the seed": {"prompt": "a cat", "models": [SD], "params": {"seed": "٣٤"}},
    "NUL in a sampler name": {"prompt": "a cat", "models": [SD], "params": {"sampler_name": "k_euler\u0000"}},
    "lone surrogate in a key": {"prompt": "a cat", "models": [SD], "params": {"\ud800": 1}},
    "NUL in a worker id": {"prompt": "a cat", "models": [SD], "workers": ["\u0000"]},
}


@pytest.mark.parametrize("body", ASYNC_BODIES.values(), ids=ASYNC_BODIES.keys())
def test_async_refuses_hostile_strings_and_stores_nothing(client, demo_models, alice, body):
    assert_refused(post_json(client, "/api/v2/generate/async", body, alice[1]))
    assert not GenerationRequest.objects.exists()


def test_a_word_seed_of_plain_text_is_still_hashed(client, demo_models, alice):
    response = post_json(
        client, "/api/v2/generate/async", {"prompt": "a cat", "models": [SD], "params": {"seed": "abc"}}, alice[1]
    )
    assert response.status_code == 202, response.content


@pytest.mark.parametrize("username", ["bob#²", "bob#٣", "bob\u0000", "bob\ud800", "bob#\u0000"])
def test_transfer_refuses_hostile_usernames_and_moves_nothing(client, alice, bob, username):
    before = Transaction.objects.count()
    response = post_json(client, "/api/v2/kudos/transfer", {"username": username, "amount": 10}, alice[1])
    assert_refused(response)
    assert Transaction.objects.count() == before


@pytest.mark.parametrize("user_id", ["%C2%B2", "%D9%A3", "%00", "%ED%A0%80", "1%00"])
def test_a_user_id_that_is_no_ascii_number_is_not_found(client, db, user_id):
    assert_refused(client.get(f"/api/v2/users/{user_id}"), status=404)


@pytest.mark.parametrize("path", ["/api/v2/generate/check/%00", "/api/v2/generate/status/%ED%A0%80"])
def test_hostile_ids_in_paths_are_not_found(client, db, path):
    assert_refused(client.get(path), status=404)


def test_a_nul_in_a_query_string_is_refused(client, db):
    assert_refused(client.get("/api/v2/workers?name=a%00b"))


def test_json_nested_too_deep_is_refused(client, demo_models, alice):
    response = client.post(
        "/api/v2/generate/async", data="[" * 100_000, content_type="application/json", HTTP_APIKEY=alice[1]
    )
    assert_refused(response)


def test_a_nul_in_the_apikey_header_is_an_invalid_key(client, demo_models):
    response = post_json(client, "/api/v2/generate/async", {"prompt": "a cat", "models": [SD]}, "abc\u0000def")
    assert_refused(response, status=401)


LONG = "x" * 5000


@pytest.mark.parametrize(
    "path, body",
    [
        ("/api/v2/generate/async", {"prompt": LONG, "models": [SD]}),
        ("/api/v2/generate/async", {"prompt": "a cat", "models": [LONG]}),
        ("/api/v2/generate/async", {"prompt": "a cat", "models": [SD], "params": {"sampler_name": LONG}}),
        ("/api/v2/generate/async", {"prompt": "a cat", "models": [SD], "params": {"seed": LONG}}),
        ("/api/v2/generate/pop", {"name": LONG, "models": [SD]}),
        ("/api/v2/generate/pop", {"name": "w1", "models": [LONG]}),
        ("/api/v2/generate/pop", {"name": "w1", "models": [SD], "bridge_agent": LONG}),
        ("/api/v2/kudos/transfer", {"username": LONG, "amount": 1}),
    ],
)
def test_over_long_strings_are_refused_not_crashed(client, demo_models, alice, path, body):
    before = (GenerationRequest.objects.count(), Transaction.objects.count())
    response = post_json(client, path, body, alice[1])
    assert_refused(response)
    assert (GenerationRequest.objects.count(), Transaction.objects.count()) == before


@pytest.mark.parametrize("length", ["²", "٣", "1" * 5000, "-1", "12 "])
def test_async_refuses_a_content_length_that_is_no_ascii_number(client, demo_models, alice, length):
    body = json.dumps({"prompt": "a cat", "models": [SD]})
    response = client.post(
        "/api/v2/generate/async",
        data=body,
        content_type="application/json",
        HTTP_APIKEY=alice[1],
        CONTENT_LENGTH=length,
    )
    assert_refused(response)
    assert not GenerationRequest.objects.exists()


def test_a_client_agent_with_nul_surrogate_or_control_characters_is_stored_without_them(client, demo_models, alice):
    body = json.dumps({"prompt": "a cat", "models": [SD]})
    agent = "my\x00client\ud800:1\n:" + "x" * 300
    response = client.post(
        "/api/v2/generate/async",
        data=body,
        content_type="application/json",
        HTTP_APIKEY=alice[1],
        HTTP_CLIENT_AGENT=agent,
    )
    assert response.status_code == 202, response.content
    stored = GenerationRequest.objects.get().client_agent
    assert stored.startswith("myclient:1:x") and len(stored) == 200
    assert all(char.isprintable() for char in stored)
