"""Hypothesis over the request validators: any JSON body, hostile strings included, is either
taken or refused with an rc, never a crash, and a refused body stores nothing."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generation.models import GenerationRequest
from generation.services import RequestRefused, request_validate
from kudos.models import Transaction

SD = "stable_diffusion"
SDXL = "SDXL_beta::stability.ai#6901"
FUZZ = settings(
    max_examples=300,
    derandomize=True,  # seeded: the same examples on every run and in CI
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Text with what used to crash: NUL, lone surrogates, digits int() does not take. Half the
# strings carry one of them on purpose (random code points alone almost never do).
HOSTILE = ["\x00", "\ud800", "\udfff", "²", "٣٤", "#²", "\ufeff", "\u202e"]
plain = st.text(st.characters(), max_size=20)
text = st.one_of(plain, st.builds(lambda a, bad, b: a + bad + b, plain, st.sampled_from(HOSTILE), plain))
numbers = st.one_of(st.integers(min_value=-(2**70), max_value=2**70), st.floats(allow_nan=False, allow_infinity=False))
scalars = st.one_of(st.none(), st.booleans(), numbers, text, st.sampled_from([SD, SDXL, "k_euler", "1024", "²"]))
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(text, inner, max_size=4)),
    max_leaves=8,
)
# Near-valid values with a hostile twist reach the deeper checks (and the database).
names = st.one_of(st.sampled_from([SD, SDXL]), text, st.builds(str.__add__, st.sampled_from([SD, SDXL]), text))
sizes = st.one_of(st.sampled_from([512, 1024, 64, 2048, 100]), json_values)
PARAM_KEYS = ("steps", "n", "seed", "sampler_name", "cfg_scale", "clip_skip", "karras")
params = st.fixed_dictionaries(
    {}, optional={"width": sizes, "height": sizes, **dict.fromkeys(PARAM_KEYS, st.one_of(text, json_values))}
)
async_bodies = st.fixed_dictionaries(
    {},
    optional={
        "prompt": st.one_of(st.just("a lighthouse at dusk"), text, st.builds(str.__add__, st.just("a cat "), text)),
        "models": st.one_of(st.lists(names, min_size=1, max_size=3), json_values),
        "params": st.one_of(params, json_values),
        "nsfw": json_values,
        "shared": json_values,
        "workers": json_values,
        "dry_run": json_values,
    },
)


def _with(body: dict, path: tuple, value) -> dict:
    """A deep copy of `body` with the value at `path` (keys, or 0 for a list's first item) replaced."""
    body = json.loads(json.dumps(body))
    *parents, last = path
    node = body
    for key in parents:
        node = node[key]
    node[last] = value
    return body


VALID = {
    "prompt": "a lighthouse at dusk",
    "models": [SD],
    "params": {"width": 512, "height": 512, "steps": 10, "seed": "42", "sampler_name": "k_euler"},
    "nsfw": False,
    "workers": [],
}
PATHS = [
    ("prompt",),
    ("models", 0),
    ("params", "seed"),
    ("params", "sampler_name"),
    ("params", "width"),
    ("params", "steps"),
    ("params", "n"),
    ("params", "cfg_scale"),
    ("nsfw",),
    ("workers",),
    ("params", "extra key"),
    ("extra key",),
]
# A valid body with one value made hostile: it passes every check but the one under test.
one_bad_value = st.builds(_with, st.just(VALID), st.sampled_from(PATHS), st.one_of(text, json_values))
async_bodies = st.one_of(async_bodies, one_bad_value)


@pytest.fixture(autouse=True)
def no_waiting_cap(settings):
    # Hypothesis runs every example in one test's transaction: the accepted requests pile up,
    # and the waiting-request cap (its own tests: tests/generation) would answer the rest 429.
    settings.HORDE_MAX_WAITING_REQUESTS = 100_000


@pytest.fixture
def demo_models(db):
    call_command("seed_demo", stdout=io.StringIO())


@FUZZ
@given(body=async_bodies)
def test_the_async_validator_takes_or_refuses_any_body(demo_models, alice, body):
    try:
        valid = request_validate(user=alice[0], body=body)
    except RequestRefused as refused:
        assert refused.status_code in (400, 403) and refused.rc
    else:
        assert valid.width % 64 == 0 and valid.height % 64 == 0 and valid.images >= 1


@FUZZ
@given(body=async_bodies)
def test_the_async_api_answers_any_body_with_202_or_an_rc(client, demo_models, alice, body):
    before = GenerationRequest.objects.count()
    response = client.post(
        "/api/v2/generate/async", data=json.dumps(body), content_type="application/json", HTTP_APIKEY=alice[1]
    )
    assert response.status_code in (200, 202, 400, 403), response.content
    if response.status_code >= 400:
        assert response.json()["rc"]
        assert GenerationRequest.objects.count() == before
    elif not body.get("dry_run"):
        assert GenerationRequest.objects.count() == before + 1


@FUZZ
@given(
    body=st.fixed_dictionaries(
        {},
        optional={
            "username": st.one_of(st.just("bob"), text, st.builds(str.__add__, st.just("bob#"), text)),
            "amount": json_values,
        },
    )
)
def test_the_transfer_api_answers_any_body_with_a_transfer_or_an_rc(client, alice, bob, body):
    before = Transaction.objects.count()
    response = client.post(
        "/api/v2/kudos/transfer", data=json.dumps(body), content_type="application/json", HTTP_APIKEY=alice[1]
    )
    assert response.status_code in (200, 400, 404), response.content
    if response.status_code >= 400:
        assert response.json()["rc"]
        assert Transaction.objects.count() == before
    else:
        assert Transaction.objects.count() == before + 1


@FUZZ
@given(
    body=st.fixed_dictionaries(
        {},
        optional=dict.fromkeys(
            ("name", "models", "max_pixels", "nsfw", "amount", "bridge_agent", "priority_usernames"), json_values
        ),
    )
)
def test_the_pop_api_answers_any_body_with_a_pop_or_an_rc(client, demo_models, alice, body):
    response = client.post(
        "/api/v2/generate/pop", data=json.dumps(body), content_type="application/json", HTTP_APIKEY=alice[1]
    )
    assert response.status_code in (200, 400, 403), response.content
    if response.status_code >= 400:
        assert response.json()["rc"]
