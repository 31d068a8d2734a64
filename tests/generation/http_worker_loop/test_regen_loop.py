"""A worker that speaks the AI Horde protocol end to end, as the reGen worker does, over real HTTP.

Bob (trusted) runs the worker; Alice asks for images and judges her pair. The loop pops with
several models and `amount`, PUTs each image to the pop's R2 upload URL, submits R2, and
follows the AI Horde's answers: maintenance on (pops refused WorkerMaintenance, nothing
claimed) and off again, a faulted job handed back and served again, one id per generation
from pop to status to rate.
"""

from __future__ import annotations

import io

import pytest
import requests
from PIL import Image

from generation.models import GenerationRequest, Job
from generation.models import Image as StoredImage

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SD = "stable_diffusion"
SDXL = "SDXL_beta::stability.ai#6901"
AGENT = "AI Horde Worker reGen:9.1.0:https://github.com/Haidra-Org/horde-worker-reGen"


def webp(width: int, height: int, colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, format="WEBP")
    return out.getvalue()


class Worker:
    """The reGen loop's calls: pop, upload to R2, submit; every answer checked."""

    def __init__(self, base: str, apikey: str) -> None:
        self.base, self.session = base, requests.Session()
        self.session.headers.update({"apikey": apikey, "Client-Agent": AGENT})
        self.popped: list[str] = []

    def pop(self, *, amount: int = 2) -> requests.Response:
        body = {
            "name": "regen-box",
            "models": [SD, SDXL, "a-model-nobody-serves"],
            "max_pixels": 1024 * 1024,
            "amount": amount,
            "nsfw": False,
            "threads": 1,
            "bridge_agent": AGENT,
        }
        return self.session.post(f"{self.base}/api/v2/generate/pop", json=body, timeout=30)

    def serve(self, popped: dict, *, state: str = "ok") -> list[float]:
        """Draw, upload and submit every job of one pop; the rewards."""
        assert popped["id"] == popped["ids"][0] and len(popped["ids"]) <= 2
        payload = popped["payload"]
        rewards = []
        for job_id, upload in zip(popped["ids"], popped["r2_uploads"], strict=True):
            self.popped.append(job_id)
            body = {"id": job_id, "generation": "R2", "state": state, "seed": int(payload["seed"])}
            if state == "ok":
                image = webp(payload["width"], payload["height"], (len(self.popped) * 40 % 255, 90, 160))
                put = requests.put(upload, data=image, headers={"Content-Type": "image/webp"}, timeout=30)
                assert put.status_code == 200, put.text
            else:
                body["generation"] = ""
            done = self.session.post(f"{self.base}/api/v2/generate/submit", json=body, timeout=30)
            assert done.status_code == 200, done.text
            rewards.append(done.json()["reward"])
        return rewards

    def serve_all(self) -> int:
        served = 0
        while True:
            answer = self.pop()
            assert answer.status_code == 200, answer.text
            if answer.json()["id"] is None:
                return served
            served += len(self.serve(answer.json()))


def test_a_regen_style_worker_serves_the_queue_end_to_end_over_http(horde_server, people, settings):
    settings.RATINGS_MIN_SECONDS_TO_VOTE = 0  # judge at once (the speed check has its own tests)
    alice = requests.Session()
    alice.headers.update({"apikey": people["alice"][1], "Client-Agent": "test-client:1:alice"})
    base = horde_server
    worker = Worker(base, people["bob"][1])

    plain = alice.post(
        f"{base}/api/v2/generate/async",
        json={"prompt": "a red fox", "models": [SD], "params": {"width": 512, "height": 512, "steps": 10, "n": 2}},
        timeout=30,
    ).json()["id"]
    pair = alice.post(
        f"{base}/api/v2/generate/async",
        json={"prompt": "a lighthouse", "models": [SDXL], "params": {"width": 1024, "height": 1024}},
        timeout=30,
    ).json()["id"]
    assert worker.serve_all() == 4
    for request_id, model in ((plain, SD), (pair, SDXL)):
        status = alice.get(f"{base}/api/v2/generate/status/{request_id}", timeout=30).json()
        assert status["done"] and status["finished"] == 2
        jobs = {str(pk) for pk in Job.objects.filter(request_id=request_id).values_list("pk", flat=True)}
        assert jobs <= set(worker.popped)
        images = {str(pk) for pk in StoredImage.objects.filter(request_id=request_id).values_list("pk", flat=True)}
        # One id per generation: the status names each image by the id the worker popped, but a
        # pair's by image id, and the pair's worker only once Alice judged it (blind judging).
        assert {generation["id"] for generation in status["generations"]} == (images if model == SDXL else jobs)
        for generation in status["generations"]:
            assert generation["model"] == model
            assert generation["worker_name"] == ("" if model == SDXL else "regen-box")
            image = requests.get(generation["img"], timeout=30)
            assert image.status_code == 200 and image.content[8:12] == b"WEBP"
    best = alice.get(f"{base}/api/v2/generate/status/{pair}", timeout=30).json()["generations"][0]["id"]
    rated = alice.post(f"{base}/api/v2/generate/rate/{pair}", json={"best": best}, timeout=30)
    assert rated.status_code == 200 and set(rated.json()) == {"reward"}, rated.text
    judged = alice.get(f"{base}/api/v2/generate/status/{pair}", timeout=30).json()["generations"]
    assert {generation["worker_name"] for generation in judged} == {"regen-box"}

    # Maintenance on: pops are refused with the owner's message and nothing is claimed.
    details = worker.session.get(f"{base}/api/v2/workers/name/regen-box", timeout=30).json()
    url = f"{base}/api/v2/workers/{details['id']}"
    on = worker.session.put(url, json={"maintenance": True, "maintenance_msg": "driver update"}, timeout=30)
    assert on.json() == {"maintenance": True}
    waiting = alice.post(
        f"{base}/api/v2/generate/async",
        json={"prompt": "a snowy owl", "models": [SD], "params": {"width": 512, "height": 512, "steps": 10}},
        timeout=30,
    ).json()["id"]
    for _ in range(3):
        refused = worker.pop()
        assert (refused.status_code, refused.json()) == (403, {"message": "driver update", "rc": "WorkerMaintenance"})
    assert Job.objects.get(request_id=waiting).status == Job.Status.QUEUED
    assert worker.session.get(url, timeout=30).json()["maintenance_mode"] is True
    # Off again: it works again.
    assert worker.session.put(url, json={"maintenance": False}, timeout=30).json() == {"maintenance": False}

    # A faulted job, as the AI Horde handles it: handed back to the queue (the request counts a
    # restart), served again, and the request finishes.
    popped = worker.pop().json()
    assert popped["ids"] == [str(Job.objects.get(request_id=waiting).pk)]
    assert worker.serve(popped, state="faulted") == [0.0]
    check = alice.get(f"{base}/api/v2/generate/check/{waiting}", timeout=30).json()
    assert (check["done"], check["restarted"], check["waiting"]) == (False, 1, 1)
    again = worker.pop().json()
    assert again["ids"] == popped["ids"]  # the same generation, a new claim
    assert worker.serve(again)[0] > 0
    status = alice.get(f"{base}/api/v2/generate/status/{waiting}", timeout=30).json()
    assert status["done"] and [g["id"] for g in status["generations"]] == popped["ids"]
    assert GenerationRequest.objects.get(pk=waiting).status == GenerationRequest.Status.DONE
    assert worker.pop().json()["id"] is None  # nothing left
