"""Every AI Horde answer Horde gives validates against the newest horde-sdk in strict mode.

The answers come from a real flow (a plain request and an SDXL beta pair, popped and
submitted by a trusted HTTP worker, polled, rated, cancelled; users, workers, models,
transfers); horde-sdk's own response models judge each one with TESTS_ONGOING=1
(unknown fields and wrong types are errors). Horde's extensions live in fields the SDK
models or on Horde's own endpoints, never as extra fields here.
"""

from __future__ import annotations

import base64
import datetime
import io
import json

import pytest
from django.core.management import call_command
from PIL import Image

from generation.models import Style
from site_status.models import NewsItem

from .strict import sdk_version, strict_errors

pytestmark = pytest.mark.django_db
SD = "stable_diffusion"
SDXL = "SDXL_beta::stability.ai#6901"


def webp(width: int, height: int, colour=(200, 40, 40)) -> str:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, format="WEBP")
    return base64.b64encode(out.getvalue()).decode()


@pytest.fixture
def answers(api_client, alice, bob, make_user, settings):
    """(SDK model name, answer) for every AI Horde operation Horde serves, from one flow."""
    call_command("seed_demo", stdout=io.StringIO())
    settings.HORDE_CELERY_DISPATCH = False
    settings.RATINGS_MIN_SECONDS_TO_VOTE = 0
    bob[0].trusted = True  # a worker staff trust, so it may serve the beta pair
    bob[0].save(update_fields=["trusted"])
    got: list[tuple[str, object]] = []

    def call(model: str, method: str, path: str, key: str | None = None, body=None, status: int = 200):
        headers = {"HTTP_APIKEY": key} if key else {}
        if body is not None:
            headers["content_type"] = "application/json"
        response = getattr(api_client, method)(path, data=json.dumps(body) if body is not None else None, **headers)
        assert response.status_code == status, (path, response.content)
        got.append((model, response.json()))
        return response.json()

    call("AIHordeHeartbeatResponse", "get", "/api/v2/status/heartbeat")
    call("UserDetailsResponse", "get", "/api/v2/find_user", alice[1])
    call("UserDetailsResponse", "get", f"/api/v2/users/{alice[0].pk}")
    sd = {"prompt": "a red fox", "models": [SD], "params": {"width": 512, "height": 512, "steps": 10, "n": 2}}
    call("ImageGenerateAsyncDryRunResponse", "post", "/api/v2/generate/async", alice[1], {**sd, "dry_run": True})
    plain = call("ImageGenerateAsyncResponse", "post", "/api/v2/generate/async", alice[1], sd, status=202)
    beta = {"prompt": "a lighthouse", "models": [SDXL], "params": {"width": 1024, "height": 1024}}
    pair = call("ImageGenerateAsyncResponse", "post", "/api/v2/generate/async", alice[1], beta, status=202)
    call("ImageGenerateCheckResponse", "get", f"/api/v2/generate/check/{plain['id']}")
    call("HordeStatusModelsAllResponse", "get", "/api/v2/status/models")
    worker = {"name": "bob-box", "models": [SD, SDXL], "max_pixels": 4 * 1024 * 1024, "bridge_agent": "t:1:t"}
    for _ in range(2):  # the beta pair: one image (one recipe) per pop
        popped = call(
            "ImageGenerateJobPopResponse", "post", "/api/v2/generate/pop", bob[1], {**worker, "models": [SDXL]}
        )
        done = {"id": popped["id"], "generation": webp(1024, 1024), "state": "ok", "seed": 7}
        call("JobSubmitResponse", "post", "/api/v2/generate/submit", bob[1], done)
    popped = call("ImageGenerateJobPopResponse", "post", "/api/v2/generate/pop", bob[1], worker)
    call(
        "JobSubmitResponse",
        "post",
        "/api/v2/generate/submit",
        bob[1],
        {"id": popped["id"], "generation": webp(512, 512)},
    )
    call("ImageGenerateJobPopResponse", "post", "/api/v2/generate/pop", bob[1], {**worker, "models": ["no-such-model"]})
    call("ImageGenerateStatusResponse", "get", f"/api/v2/generate/status/{plain['id']}")
    status = call("ImageGenerateStatusResponse", "get", f"/api/v2/generate/status/{pair['id']}")
    best = status["generations"][0]["id"]
    call("RateResponse", "post", f"/api/v2/generate/rate/{pair['id']}", alice[1], {"best": best})
    # A moderator hides one image of the pair: the status answers it without its URL, as censored.
    from generation.models import Image as StoredImage
    from moderation.hiding import image_hide

    # A pair's generation id is its image id.
    image_hide(image=StoredImage.objects.get(pk=best), by=None, reason="a report")
    hidden = call("ImageGenerateStatusResponse", "get", f"/api/v2/generate/status/{pair['id']}", alice[1])
    assert [g["img"] for g in hidden["generations"] if g["id"] == best] == [""]
    call("ImageGenerateStatusResponse", "delete", f"/api/v2/generate/status/{plain['id']}", alice[1])
    workers = call("AllWorkersDetailsResponse", "get", "/api/v2/workers")
    call("SingleWorkerDetailsResponse", "get", f"/api/v2/workers/{workers[0]['id']}")
    # Worker control, teams and staff's messages (bob is trusted: he may create a team).
    box = workers[0]
    call("SingleWorkerDetailsResponse", "get", f"/api/v2/workers/name/{box['name']}")
    team = call("ModifyTeam", "post", "/api/v2/teams", bob[1], {"name": "Foxes", "info": "we draw foxes"})
    call("ModifyTeam", "patch", f"/api/v2/teams/{team['id']}", bob[1], {"info": "we draw red foxes"})
    modify = {"maintenance": True, "maintenance_msg": "new GPU", "info": "RTX", "team": team["id"]}
    call("ModifyWorkerResponse", "put", f"/api/v2/workers/{box['id']}", bob[1], modify)
    call("ModifyWorkerResponse", "put", f"/api/v2/workers/{box['id']}", bob[1], {"maintenance": False, "team": ""})
    call("ModifyWorkerResponse", "put", f"/api/v2/workers/{box['id']}", bob[1], {"team": team["id"]})
    call("TeamDetails", "get", f"/api/v2/teams/{team['id']}")
    call("AllTeamDetailsResponse", "get", "/api/v2/teams")
    staff = make_user("staffer", is_staff=True)
    message = {"worker_id": box["id"], "message": "Please update", "expiry": 24}
    call("ResponseModelMessage", "post", "/api/v2/workers/messages", staff[1], message)
    call("ResponseModelMessages", "get", "/api/v2/workers/messages", bob[1])
    # The worker's pop carries the message (with its id), with a job and without.
    alice_sd = {"prompt": "a fox", "models": [SD], "params": {"width": 512, "height": 512, "steps": 10}}
    call("ImageGenerateAsyncResponse", "post", "/api/v2/generate/async", alice[1], alice_sd, status=202)
    with_job = call("ImageGenerateJobPopResponse", "post", "/api/v2/generate/pop", bob[1], worker)
    assert with_job["id"] and with_job["messages"][0]["message"] == "Please update"
    empty = call("ImageGenerateJobPopResponse", "post", "/api/v2/generate/pop", bob[1], {**worker, "models": ["x"]})
    assert empty["id"] is None and len(empty["messages"]) == 1
    from generation.models import WorkerMessage

    message_id = WorkerMessage.objects.get().pk
    call("ResponseModelMessage", "get", f"/api/v2/workers/messages/{message_id}")
    call("DeleteWorkerMessageResponse", "delete", f"/api/v2/workers/messages/{message_id}", staff[1])
    call("DeleteWorkerResponse", "delete", f"/api/v2/workers/{box['id']}", bob[1])
    call("DeleteTeamResponse", "delete", f"/api/v2/teams/{team['id']}", bob[1])
    call("KudosTransferResponse", "post", "/api/v2/kudos/transfer", alice[1], {"username": "bob", "amount": 10})
    # As the SDK sends it: a float.
    call("KudosTransferResponse", "post", "/api/v2/kudos/transfer", alice[1], {"username": "bob", "amount": 5.0})
    # Statistics (after the jobs above finished, so the counters hold something), news, modes, styles.
    NewsItem.objects.create(
        title="Beta",
        newspiece="The SDXL beta compares pipelines.",
        date_published=datetime.date(2026, 11, 30),
        tags=["sdxl"],
        more_info_urls=["https://example.org/beta"],
    )
    style = Style.objects.create(
        name="cinematic",
        prompt="{p}, cinematic###{np}",
        model_names=[SD],
        tags=["film"],
        params={"steps": 12, "cfg_scale": 5.0, "sampler_name": "k_euler", "width": 512, "height": 512, "karras": True},
    )
    call("HordePerformanceResponse", "get", "/api/v2/status/performance")
    call("ImageStatsModelsResponse", "get", "/api/v2/stats/img/models")
    call("ImageStatsModelsTotalResponse", "get", "/api/v2/stats/img/totals")
    call("NewsResponse", "get", "/api/v2/status/news")
    call("HordeModes", "get", "/api/v2/status/modes")
    call("ImageGenerateAsyncResponse", "post", "/api/v2/generate/async", alice[1], {**sd, "style": "cinematic"}, 202)
    call("AllStylesImageResponse", "get", "/api/v2/styles/image")
    call("StyleStable", "get", f"/api/v2/styles/image/{style.id}")
    call("StyleStable", "get", "/api/v2/styles/image_by_name/cinematic")
    # The prompt filters, with a moderator's key.
    _staff, mod = make_user("molly", is_staff=True)
    new = {"regex": r"\bghost\b", "filter_type": 10, "description": "a test"}
    added = call("FilterDetails", "put", "/api/v2/filters", mod, new, status=201)
    call("FiltersListResponse", "get", "/api/v2/filters", mod)
    call("FilterDetails", "get", f"/api/v2/filters/{added['id']}", mod)
    call("FilterDetails", "patch", f"/api/v2/filters/{added['id']}", mod, {"replacement": "spirit"})
    call("FilterPromptSuspicionResponse", "post", "/api/v2/filters", mod, {"prompt": "a ghost"})
    call("DeleteFilterResponse", "delete", f"/api/v2/filters/{added['id']}", mod)
    return got


def test_the_referee_is_the_newest_horde_sdk():
    assert sdk_version() == "0.33.3"


def test_every_answer_validates_in_strict_mode(answers):
    verdicts = strict_errors(answers)
    failed = [f"{model}: {verdict}" for (model, _), verdict in zip(answers, verdicts, strict=True) if verdict]
    assert failed == [], "\n\n".join(failed)


def test_strict_mode_really_refuses_an_extra_field(answers):
    model, heartbeat = answers[0]
    assert strict_errors([(model, {**heartbeat, "extension": 1})]) != [None]


@pytest.fixture
def key_answers(api_client, alice, bob, make_user):
    """(SDK model name, answer) of the shared keys, the users list, the award and the documents."""
    _, staff_key = make_user("staffer", is_staff=True)
    got: list[tuple[str, object]] = []

    def call(model: str, method: str, path: str, key: str | None = None, body=None):
        headers = {"HTTP_APIKEY": key} if key else {}
        data = json.dumps(body) if body is not None else None
        response = getattr(api_client, method)(path, data=data, content_type="application/json", **headers)
        assert response.status_code == 200, (path, response.content)
        got.append((model, response.json()))
        return response.json()

    made = call("ExpiryStrSharedKeyDetailsResponse", "put", "/api/v2/sharedkeys", alice[1], {"name": "k", "kudos": 50})
    key = made["id"]
    call("ExpiryStrSharedKeyDetailsResponse", "get", f"/api/v2/sharedkeys/{key}")
    call("ExpiryStrSharedKeyDetailsResponse", "patch", f"/api/v2/sharedkeys/{key}", alice[1], {"expiry": 2})
    call("UserDetailsResponse", "get", "/api/v2/find_user", key)
    call("ListUsersDetailsResponse", "get", "/api/v2/users?page=1&sort=age")
    call("KudosAwardResponse", "post", "/api/v2/kudos/award", staff_key, {"username": "bob", "amount": 5.0})
    for document in ("terms", "privacy"):
        call("HordeDocument", "get", f"/api/v2/documents/{document}")
        call("HordeDocument", "get", f"/api/v2/documents/{document}?format=markdown")
    call("SharedKeyDeleteResponse", "delete", f"/api/v2/sharedkeys/{key}", alice[1])
    return got


def test_every_shared_key_user_award_and_document_answer_validates_in_strict_mode(key_answers):
    verdicts = strict_errors(key_answers)
    failed = [f"{model}: {verdict}" for (model, _), verdict in zip(key_answers, verdicts, strict=True) if verdict]
    assert failed == [], "\n\n".join(failed)
    assert len(key_answers) == 11
