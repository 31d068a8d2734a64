"""The async body has one rule set: the documented serializer, run by request_validate for the
API and the generate page alike."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from generation.models import GenerationRequest
from generation.serializers import GenerationInputSerializer, error_rc, first_error
from generation.services import RequestRefused, request_validate

pytestmark = pytest.mark.django_db

GOOD = {"prompt": "a fox", "models": ["stable_diffusion"], "params": {"width": 512, "height": 512}}


@pytest.fixture
def demo(db):
    call_command("seed_demo", stdout=io.StringIO())


@pytest.mark.parametrize(
    ("change", "rc", "field"),
    [
        ({"prompt": "   "}, "MissingPrompt", "prompt"),
        ({"prompt": ["a fox"]}, "BadRequest", "prompt"),
        ({"params": {"width": 500}}, "InvalidSize", "params.width"),
        ({"params": {"width": 512.0}}, "BadRequest", "params.width"),
        ({"params": {"steps": True}}, "BadRequest", "params.steps"),
        ({"params": {"cfg_scale": "7"}}, "BadRequest", "params.cfg_scale"),
        ({"params": {"clip_skip": 13}}, "BadRequest", "params.clip_skip"),
        ({"params": {"sampler_name": 3}}, "UnsupportedSampler", "params.sampler_name"),
        ({"params": {"seed": "٣"}}, "BadRequest", "params.seed"),
        ({"params": {"loras": [{"name": "x"}]}}, "BadRequest", "params.loras"),
        ({"params": []}, "BadRequest", "params"),
        ({"models": [1]}, "BadRequest", "models"),
        ({"models": ["x"] * 21}, "BadRequest", "models"),
        ({"workers": [7]}, "BadRequest", "workers"),
        ({"r2": "false"}, "BadRequest", "r2"),
        ({"source_processing": "img2img"}, "BadRequest", "source_processing"),
    ],
)
def test_the_serializer_the_service_and_the_api_refuse_a_bad_body_alike(demo, client, alice, change, rc, field):
    body = {**GOOD, **change}
    serializer = GenerationInputSerializer(data=body)
    assert not serializer.is_valid()
    found_field, _message, code = first_error(serializer.errors)
    assert (error_rc(code), found_field) == (rc, field)

    with pytest.raises(RequestRefused) as refused:
        request_validate(user=alice[0], body=body)
    assert (refused.value.rc, refused.value.field) == (rc, field)

    answer = client.post(
        "/api/v2/generate/async", data=json.dumps(body), content_type="application/json", HTTP_APIKEY=alice[1]
    )
    assert answer.status_code == 400
    assert answer.json()["rc"] == rc
    if rc == "BadRequest":  # a payload validation failure names its field in `errors`
        assert answer.json()["errors"] == {field: refused.value.message}
    else:  # a named refusal carries no `errors`, as on the AI Horde (an SDK would raise on it)
        assert "errors" not in answer.json()
    assert GenerationRequest.objects.count() == 0


def test_what_the_serializer_takes_the_model_rules_may_still_refuse(demo, alice):
    # 4096 is a multiple of 64 (the serializer's rule) but above stable_diffusion's maximum.
    body = {**GOOD, "params": {"width": 4096, "height": 512}}
    assert GenerationInputSerializer(data=body).is_valid()
    with pytest.raises(RequestRefused) as refused:
        request_validate(user=alice[0], body=body)
    assert (refused.value.rc, refused.value.field) == ("InvalidSize", "params.width")


def test_a_good_body_passes_both_and_keeps_the_prompt_as_sent(demo, alice):
    body = {**GOOD, "prompt": "  a fox ### blurry  "}
    assert GenerationInputSerializer(data=body).is_valid()
    assert request_validate(user=alice[0], body=body).prompt == "  a fox ### blurry  "
