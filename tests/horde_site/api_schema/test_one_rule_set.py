"""One rule set per operation: the documented serializer, run for the API and the page alike.

The async body through request_validate (API and generate page), the transfer through
KudosTransferInputSerializer and the ledger (API and kudos page), the own-pair verdict through
OwnPairRateSerializer and judgement_from_horde (API and judge page): the same input is
accepted or refused by both."""

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


# --- The kudos transfer: the page's form goes through the API's serializer and the ledger ---

TRANSFERS = [
    ("bob", 10, True),
    ("bob", 500, True),  # twice: the whole balance
    ("nobody", 10, False),
    ("bob#999999", 10, False),
    ("", 10, False),
    ("x" * 201, 10, False),
    ("alice", 10, False),
    ("Anonymous", 10, False),
    ("bob", 0, False),
    ("bob", -5, False),
    ("bob", 1.5, False),
    ("bob", "ten", False),
    ("bob", 10**12, False),
    ("bob", 1001, False),
]


@pytest.mark.parametrize(("username", "amount", "accepted"), TRANSFERS)
def test_the_kudos_page_and_the_transfer_api_accept_and_refuse_alike(client, alice, bob, username, amount, accepted):
    from kudos.selectors import user_balance

    api = client.post(
        "/api/v2/kudos/transfer",
        data=json.dumps({"username": username, "amount": amount}),
        content_type="application/json",
        HTTP_APIKEY=alice[1],
    )
    client.force_login(alice[0])
    page = client.post("/kudos/", {"recipient": username, "amount": str(amount)})
    if accepted:
        assert (api.status_code, page.status_code) == (200, 302)
        assert user_balance(user=alice[0]) == 1000 - 2 * amount
        return
    assert (api.status_code, page.status_code) == (400, 400)
    # The page says what the API says: the serializer's or the ledger's own words.
    page_errors = [error for errors in page.context["form"].errors.values() for error in errors]
    assert page_errors and page_errors[0] in api.json()["message"], (page_errors, api.json())
    assert user_balance(user=alice[0]) == 1000 and user_balance(user=bob[0]) == 1000


# --- Judging one's own pair: the judge page sends the API's body through its serializer ---

from tests.ratings import conftest as ratings_fixtures  # noqa: E402

sdxl_model = ratings_fixtures.sdxl_model
make_pair = ratings_fixtures.make_pair

# (choice, left aesthetic, right aesthetic, left artifacts, right artifacts), as the page posts them.
VERDICTS = [
    ("left", None, None, None, None, True),
    ("tie", 6, None, None, 2, True),
    (None, 5, 7, None, None, True),  # two ratings name the better image
    ("both_bad", 1, 1, 5, 5, True),
    ("sideways", None, None, None, None, False),
    ("left", 11, None, None, None, False),
    ("left", 0, None, None, None, False),
    ("left", None, None, 6, None, False),
    ("left", None, None, -1, None, False),
    ("right", 5.5, None, None, None, False),
    ("right", "good", None, None, None, False),
    (None, 5, None, None, None, False),  # no winner named
    (None, None, None, None, None, False),
]


def _api_verdict(pair, choice, scores) -> dict:
    left, right = ratings_fixtures.shown_pair(pair)
    ratings = []
    for image, rating, artifacts in ((left, scores[0], scores[2]), (right, scores[1], scores[3])):
        if rating is not None or artifacts is not None:
            ratings.append({"id": str(image.id), "rating": rating, "artifacts": artifacts})
    return {"ratings": ratings, **({"choice": choice} if choice else {})}


def _page_verdict(choice, scores) -> dict:
    names = ("left_aesthetic", "right_aesthetic", "left_artifacts", "right_artifacts")
    return {
        **({"choice": choice} if choice else {}),
        **{name: str(value) for name, value in zip(names, scores, strict=True) if value is not None},
    }


@pytest.mark.parametrize(("choice", "la", "ra", "lx", "rx", "accepted"), VERDICTS)
def test_the_judge_page_and_the_rate_api_accept_and_refuse_alike(
    client, alice, make_pair, choice, la, ra, lx, rx, accepted
):
    from ratings.models import Vote

    scores = (la, ra, lx, rx)
    api_pair, page_pair = make_pair(alice[0]), make_pair(alice[0])
    api = client.post(
        f"/api/v2/generate/rate/{api_pair.id}",
        data=json.dumps(_api_verdict(api_pair, choice, scores)),
        content_type="application/json",
        HTTP_APIKEY=alice[1],
    )
    client.force_login(alice[0])
    page = client.post(f"/ratings/judge/{page_pair.id}", _page_verdict(choice, scores))
    if accepted:
        assert (api.status_code, page.status_code) == (200, 302), api.json()
        api_vote, page_vote = Vote.objects.get(request=api_pair), Vote.objects.get(request=page_pair)
        fields = ("choice", "left_aesthetic", "right_aesthetic", "left_artifacts", "right_artifacts", "kudos_paid")
        assert [getattr(api_vote, name) for name in fields] == [getattr(page_vote, name) for name in fields]
        return
    assert (api.status_code, page.status_code) == (400, 400), api.json()
    assert api.json()["rc"]
    assert not Vote.objects.exists()
