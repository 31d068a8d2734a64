"""Real answers, over HTTP, match the schema: the whole life of a request, a pair and an arena vote.

The fuzz reaches few successes deep in a flow (a pop with a job, a submitted image, a judged
pair); here each one is made for real and its answer checked against /api/schema: a documented
status and a body that validates against that status's schema.
"""

from __future__ import annotations

import base64
import io

import pytest
import requests
from PIL import Image

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SD = "stable_diffusion"
SDXL = "SDXL_beta::stability.ai#6901"


def webp(width: int, height: int, colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, format="WEBP")
    return out.getvalue()


class Api:
    """Calls the live server and checks each answer against the live schema."""

    def __init__(self, base_url: str, schema) -> None:
        self.base_url = base_url
        self.schema = schema

    def __call__(self, method: str, template: str, *, key: str, status: int, path=None, **kwargs):
        url = self.base_url + template.format(**(path or {}))
        response = requests.request(method, url, headers={"apikey": key}, timeout=30, **kwargs)
        assert response.status_code == status, response.text
        operation = self.schema[template][method.upper()]
        assert str(status) in operation.definition.raw["responses"]
        operation.validate_response(response)  # raises with what does not match
        return response.json() if response.content else None


@pytest.fixture
def api(horde_server, live_schema, settings):
    settings.RATINGS_MIN_SECONDS_TO_VOTE = 0  # judge at once (the speed check has its own tests)
    return Api(horde_server, live_schema)


def _pop(api, key, models, max_pixels):
    return api(
        "post",
        "/api/v2/generate/pop",
        key=key,
        status=200,
        json={"name": "bobs-box", "models": models, "max_pixels": max_pixels},
    )


def test_a_request_asked_popped_submitted_polled_and_cancelled_answers_as_documented(api, people):
    alice, bob = people["alice"][1], people["bob"][1]
    priced = api("post", "/api/v2/generate/async", key=alice, status=200, json={"prompt": "a fox", "dry_run": True})
    assert priced["kudos"] > 0
    body = {"prompt": "a fox", "models": [SD, SDXL], "params": {"width": 512, "height": 512, "n": 3}, "r2": False}
    queued = api("post", "/api/v2/generate/async", key=alice, status=202, json=body)
    assert queued["warnings"][0]["code"] == "OnlyFirstModel"
    rid = {"request_id": queued["id"]}
    assert api("get", "/api/v2/generate/check/{request_id}", key=alice, status=200, path=rid)["waiting"] == 3

    popped = _pop(api, bob, [SD], 512 * 512)
    assert popped["payload"]["width"] == 512 and popped["r2_upload"] is None
    job = {"job_id": popped["id"]}
    assert api("get", "/api/v2/generate/pipeline/{job_id}", key=bob, status=200, path=job)["name"]
    image = base64.b64encode(webp(512, 512, (10, 120, 200))).decode()
    reward = api("post", "/api/v2/generate/submit", key=bob, status=200, json={"id": popped["id"], "generation": image})
    assert reward["reward"] > 0

    status = api("get", "/api/v2/generate/status/{request_id}", key=alice, status=200, path=rid)
    assert len(status["generations"]) == 1 and status["finished"] == 1
    cancelled = api("delete", "/api/v2/generate/status/{request_id}", key=alice, status=200, path=rid)
    assert cancelled["done"] is True and "message" not in cancelled
    worker_id = status["generations"][0]["worker_id"]
    assert api("get", "/api/v2/workers/{worker_id}", key=alice, status=200, path={"worker_id": worker_id})["online"]
    assert api("get", "/api/v2/workers", key=alice, status=200)
    assert api("get", "/api/v2/status/models", key=alice, status=200)
    assert api("get", "/api/v2/status/heartbeat", key=alice, status=200)["message"] == "OK"


def test_an_r2_upload_and_its_submit_answer_as_documented(api, people):
    alice, bob = people["alice"][1], people["bob"][1]
    body = {"prompt": "a heron", "models": [SD], "params": {"width": 512, "height": 512}}
    api("post", "/api/v2/generate/async", key=alice, status=202, json=body)
    popped = _pop(api, bob, [SD], 512 * 512)
    upload = requests.put(popped["r2_upload"], data=webp(512, 512, (200, 200, 30)), timeout=30)
    assert upload.status_code == 200
    api.schema["/api/v2/generate/r2/{job_id}"]["PUT"].validate_response(upload)
    api("post", "/api/v2/generate/submit", key=bob, status=200, json={"id": popped["id"], "generation": "R2"})


def test_a_judged_pair_an_arena_vote_its_undo_and_a_skip_answer_as_documented(api, people):
    alice, bob, charlie = (people[name][1] for name in ("alice", "bob", "charlie"))
    body = {"prompt": "a lighthouse", "models": [SDXL], "params": {"width": 1024, "height": 1024}}
    queued = api("post", "/api/v2/generate/async", key=alice, status=202, json=body)
    for colour in ((250, 20, 20), (20, 250, 20)):
        popped = _pop(api, bob, [SDXL], 1024 * 1024)
        image = base64.b64encode(webp(1024, 1024, colour)).decode()
        api("post", "/api/v2/generate/submit", key=bob, status=200, json={"id": popped["id"], "generation": image})
    rid = {"request_id": queued["id"]}
    # A second pair of Alice's, for the arena's skip after the undo.
    api("post", "/api/v2/generate/async", key=alice, status=202, json=body)
    for colour in ((20, 20, 250), (250, 250, 20)):
        popped = _pop(api, bob, [SDXL], 1024 * 1024)
        image = base64.b64encode(webp(1024, 1024, colour)).decode()
        api("post", "/api/v2/generate/submit", key=bob, status=200, json={"id": popped["id"], "generation": image})
    pair = api("get", "/api/v2/generate/status/{request_id}", key=alice, status=200, path=rid)["generations"]

    # Charlie judges Alice's shared pair in the arena (before she does: it must be in his pool).
    issued = [api("get", "/api/v2/ratings/arena/next", key=charlie, status=200)["assignment"] for _ in range(2)]
    # The arena and status name a pair's images alike, by image id (a job id is the serving worker's).
    pair_images = {gen["id"] for gen in pair}
    shown = next(a for a in issued if {a["left"]["id"], a["right"]["id"]} == pair_images)
    other = next(a for a in issued if a["id"] != shown["id"])  # Alice's second pair, held for Charlie
    aid = {"assignment_id": shown["id"]}
    voted = api(
        "post", "/api/v2/ratings/arena/{assignment_id}", key=charlie, status=200, path=aid, json={"choice": "left"}
    )
    assert voted["reveal"]["left"]["image_id"] == shown["left"]["id"]
    undone = api("post", "/api/v2/ratings/arena/{assignment_id}/undo", key=charlie, status=200, path=aid)
    assert undone["undone"] == voted["vote_id"]  # and the revealed pair is withdrawn
    aid = {"assignment_id": other["id"]}
    skipped = api("post", "/api/v2/ratings/arena/{assignment_id}/skip", key=charlie, status=200, path=aid)
    assert skipped == {"skipped": other["id"]}

    rated = api(
        "post", "/api/v2/generate/rate/{request_id}", key=alice, status=200, path=rid, json={"best": pair[0]["id"]}
    )
    assert set(rated) == {"reward"}  # the AI Horde's answer; the reveal is Horde's own endpoint
    revealed = api("get", "/api/v2/generate/rate/{request_id}/reveal", key=alice, status=200, path=rid)
    assert set(revealed) == {"left", "right"}
    # The reveal names the images by the ids status gave them (and by their job ids).
    assert [revealed["left"]["image_id"], revealed["right"]["image_id"]] == [generation["id"] for generation in pair]
    # The board may come from the cache (Redis outlives a test): its shape is what is checked.
    assert "computed_at" in api("get", "/api/v2/ratings/leaderboard", key=alice, status=200)


def test_the_user_and_kudos_answers_are_as_documented(api, people):
    alice = people["alice"][1]
    me = api("get", "/api/v2/find_user", key=alice, status=200)
    api("get", "/api/v2/users/{user_id}", key=alice, status=200, path={"user_id": me["id"]})
    sent = api("post", "/api/v2/kudos/transfer", key=alice, status=200, json={"username": "bob", "amount": 5})
    assert sent == {"transferred": 5}
    refused = api("post", "/api/v2/kudos/transfer", key=alice, status=400, json={"username": "nobody", "amount": 5})
    assert refused["rc"] == "InvalidTargetUsername"
