"""The unchanged `horde_sdk` (0.18.0) drives a full round trip against a live Horde.

The requester side uses the SDK's simple client (submit, check polling,
status, image download); the worker side uses its manual client with the
pop and submit request models (one image sent as base64, one through the
R2 upload URL), so our answers must satisfy the SDK's pydantic models.
"""

from __future__ import annotations

import base64
import io
import threading
import time

import pytest
import requests
from PIL import Image

from generation.models import GenerationRequest, Job

from .conftest import SD

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def horde_sdk_at(live_server, monkeypatch, settings):
    settings.HORDE_CELERY_DISPATCH = False  # the SDK's worker does the work here
    import horde_sdk.ai_horde_api.apimodels.base as sdk_base

    monkeypatch.setattr(sdk_base, "AI_HORDE_BASE_URL", live_server.url + "/api/")
    return live_server.url


def sdk_worker(apikey: str, stop: threading.Event, results: list, errors: list) -> None:
    from horde_sdk.ai_horde_api.ai_horde_clients import AIHordeAPIManualClient
    from horde_sdk.ai_horde_api.apimodels import (
        ImageGenerateJobPopRequest,
        ImageGenerateJobPopResponse,
        ImageGenerationJobSubmitRequest,
        JobSubmitResponse,
    )

    try:
        client = AIHordeAPIManualClient()
        while not stop.is_set() and len(results) < 2:
            pop = client.submit_request(
                ImageGenerateJobPopRequest(apikey=apikey, name="sdk-worker", models=[SD], max_pixels=512 * 512),
                ImageGenerateJobPopResponse,
            )
            assert isinstance(pop, ImageGenerateJobPopResponse), pop
            if pop.id_ is None:
                time.sleep(0.2)
                continue
            payload = pop.payload
            picture = Image.new("RGB", (payload.width, payload.height), (10, 120, 200))
            out = io.BytesIO()
            picture.save(out, format="WEBP")
            if not results:  # the first image inline, as base64
                generation = base64.b64encode(out.getvalue()).decode()
            else:  # the second through the upload URL, as to the AI Horde's R2
                assert requests.put(pop.r2_upload, data=out.getvalue(), timeout=10).status_code == 200
                generation = "R2"
            submitted = client.submit_request(
                ImageGenerationJobSubmitRequest(
                    apikey=apikey, id=pop.id_, generation=generation, state="ok", seed=int(payload.seed)
                ),
                JobSubmitResponse,
            )
            assert isinstance(submitted, JobSubmitResponse), submitted
            results.append((str(pop.id_), submitted.reward))
    except Exception as exc:  # reported to the test thread
        errors.append(exc)


def test_the_horde_sdk_round_trip_works_unchanged(demo_models, horde_sdk_at, alice, bob):
    from horde_sdk.ai_horde_api.ai_horde_clients import AIHordeAPIManualClient, AIHordeAPISimpleClient
    from horde_sdk.ai_horde_api.apimodels import (
        ImageGenerateAsyncRequest,
        ImageGenerateCheckResponse,
        ImageGenerationInputPayload,
    )

    stop, results, errors = threading.Event(), [], []
    worker = threading.Thread(target=sdk_worker, args=(bob[1], stop, results, errors), daemon=True)
    worker.start()
    try:
        simple = AIHordeAPISimpleClient()
        status, job_id = simple.image_generate_request(
            ImageGenerateAsyncRequest(
                apikey=alice[1],
                prompt="a watercolour of a heron",
                models=[SD],
                params=ImageGenerationInputPayload(width=512, height=512, steps=12, n=2, sampler_name="k_euler"),
            ),
            timeout=60,
        )
    finally:
        stop.set()
        worker.join(timeout=10)
    assert not errors, errors
    assert len(results) == 2
    assert len(status.generations) == 2
    assert GenerationRequest.objects.get(pk=str(job_id)).status == GenerationRequest.Status.DONE
    for generation in status.generations:
        image = simple.download_image_from_generation(generation)
        assert image.size == (512, 512)
        assert generation.model == SD
        assert generation.worker_name == "sdk-worker"
    manual = AIHordeAPIManualClient()
    check = manual.get_generate_check(job_id)
    assert isinstance(check, ImageGenerateCheckResponse)
    assert (check.done, check.finished, check.kudos) == (True, 2, 8.0)
    assert sorted(Job.objects.values_list("status", flat=True)) == [Job.Status.DONE, Job.Status.DONE]
