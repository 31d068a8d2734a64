"""Real jobs through a real Celery GPU worker (`manage.py gpu_worker --backend diffusers`) on the CPU.

The worker is a separate process on the test database and the test Redis broker,
serving a tiny two-pipeline comparison model whose recipes are the SDXL beta's
(base with Euler; base + refiner with DPM++ 2M Karras at 0.8) on tiny random SDXL
checkpoints.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from PIL import Image

pytestmark = [pytest.mark.gpu, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[3]
WORKER_START_TIMEOUT = 120
JOB_TIMEOUT = 180


def _database_url() -> str:
    """The test database (pytest-django's test_ name) as a URL for the worker process."""
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _worker_env(models_dir: Path, media_root: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=_database_url(),
        CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
        HORDE_MODELS_DIR=str(models_dir),
        HORDE_DIFFUSERS_DEVICE="cpu",
        MEDIA_ROOT=str(media_root),
        SECRET_KEY=settings.SECRET_KEY,
        DEBUG="0",
        # One torch thread: the tests share two cores with everything else.
        OMP_NUM_THREADS="1",
        PYTHONUNBUFFERED="1",
    )
    return env


@pytest.fixture
def tiny_beta(db, sdxl_beta_recipes):
    """A comparison model like the SDXL beta, with the beta's two recipes on tiny checkpoints.

    At the beta's smallest size: the comparison rules (at least 1024x1024) are database
    constraints. 1088x1024, so a swapped width and height would show."""
    from generation.models import ImageModel, Pipeline

    suffix = uuid.uuid4().hex[:8]
    model = ImageModel.objects.create(
        name=f"tiny_sdxl_beta_{suffix}",
        queue=f"model.tiny_sdxl_beta_{suffix}",  # its own queue: no other test's messages
        default_width=1088,
        default_height=1024,
        min_width=1024,
        max_width=1088,
        min_height=1024,
        max_height=1088,
        default_steps=4,
        max_steps=20,
        anonymous_allowed=False,
        always_shared=True,
        images_per_request=2,
        compare_pipelines=True,
    )
    Pipeline.objects.create(model=model, name="sdxl-base", version="1", recipe=sdxl_beta_recipes["sdxl-base"])
    Pipeline.objects.create(
        model=model, name="sdxl-base-refiner", version="3", recipe=sdxl_beta_recipes["sdxl-base-refiner"]
    )
    return model


def _start_worker(*, model, owner, models_dir: Path, media_root: Path, log: Path) -> subprocess.Popen:
    name = f"gpu-test-{uuid.uuid4().hex[:8]}"
    command = [
        sys.executable,
        "manage.py",
        "gpu_worker",
        "--models",
        model.name,
        "--backend",
        "diffusers",
        "--owner",
        owner.username,
        "--name",
        name,
        "--heartbeat",
        "1",
        "--loglevel",
        "info",
    ]
    with open(log, "wb") as out:
        return subprocess.Popen(
            command, cwd=ROOT, env=_worker_env(models_dir, media_root), stdout=out, stderr=subprocess.STDOUT
        )


@pytest.fixture
def gpu_worker(tiny_beta, bob, models_dir, tmp_path, settings):
    """A running `gpu_worker --backend diffusers` for the tiny beta; stopped after the test.

    Owned by Bob: a comparison is never served by a worker of its requester (Alice)."""
    from generation.models import Worker

    settings.MEDIA_ROOT = str(tmp_path / "media")
    log = tmp_path / "worker.log"
    process = _start_worker(
        model=tiny_beta, owner=bob[0], models_dir=models_dir, media_root=tmp_path / "media", log=log
    )
    try:
        deadline = time.monotonic() + WORKER_START_TIMEOUT
        while not Worker.objects.filter(model_names__contains=[tiny_beta.name]).exists():
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the GPU worker did not start:\n{log.read_text()[-4000:]}")
            time.sleep(0.5)
        yield process, log
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _submit(user, model, *, seed: int):
    from generation.services import request_submit

    body = {
        "prompt": "a red fox in the snow ### blurry",
        "models": [model.name],
        "params": {"width": 1088, "height": 1024, "steps": 4, "seed": str(seed)},
    }
    return request_submit(user=user, body=body).request


def _wait_done(request, process, log):
    from generation.models import GenerationRequest

    deadline = time.monotonic() + JOB_TIMEOUT
    while True:
        request.refresh_from_db()
        if request.status in (GenerationRequest.Status.DONE, GenerationRequest.Status.FAULTED):
            break
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"request {request.pk} is {request.status}; worker log:\n{log.read_text()[-4000:]}")
        time.sleep(0.25)
    assert request.status == GenerationRequest.Status.DONE, log.read_text()[-4000:]
    return request


def _images_by_pipeline(request) -> dict[str, tuple[bytes, tuple[int, int], object]]:
    out = {}
    for job in request.jobs.select_related("pipeline", "image"):
        with job.image.file.open("rb") as handle:
            data = handle.read()
        pixels = Image.open(io.BytesIO(data))
        out[job.pipeline.name] = (pixels.convert("RGB").tobytes(), pixels.size, job)
    return out


def test_a_worker_makes_both_images_of_a_pair_at_the_requested_size_with_the_two_recipes(gpu_worker, tiny_beta, alice):
    process, log = gpu_worker
    request = _wait_done(_submit(alice[0], tiny_beta, seed=4242), process, log)

    images = _images_by_pipeline(request)

    assert set(images) == {"sdxl-base", "sdxl-base-refiner"}
    for _pixels, size, job in images.values():
        assert size == (1088, 1024)
        assert job.seed == 4242
        assert job.inference_seconds is not None and job.inference_seconds > 0
        assert job.image.width == 1088 and job.image.height == 1024
    # The job records the version of the pipeline that drew it.
    assert images["sdxl-base"][2].pipeline_version == "1"
    assert images["sdxl-base-refiner"][2].pipeline_version == "3"
    # Same seed, two recipes: two different images.
    assert images["sdxl-base"][0] != images["sdxl-base-refiner"][0]


def test_the_same_seed_gives_the_same_images_and_another_seed_others(gpu_worker, tiny_beta, alice):
    process, log = gpu_worker
    first = _images_by_pipeline(_wait_done(_submit(alice[0], tiny_beta, seed=77), process, log))
    again = _images_by_pipeline(_wait_done(_submit(alice[0], tiny_beta, seed=77), process, log))
    other = _images_by_pipeline(_wait_done(_submit(alice[0], tiny_beta, seed=78), process, log))

    for pipeline in ("sdxl-base", "sdxl-base-refiner"):
        assert first[pipeline][0] == again[pipeline][0]
        assert first[pipeline][0] != other[pipeline][0]


def test_the_heartbeat_reports_the_device_memory_and_loaded_pipelines(gpu_worker, tiny_beta, client):
    from generation.models import Worker

    process, _log = gpu_worker
    worker = Worker.objects.get(model_names__contains=[tiny_beta.name])
    registered_seen = worker.last_seen
    deadline = time.monotonic() + 30
    while worker.last_seen == registered_seen and time.monotonic() < deadline:
        time.sleep(0.5)  # the next heartbeat (every second here)
        worker.refresh_from_db()
    info = worker.info

    assert process.poll() is None
    assert worker.last_seen > registered_seen

    assert worker.backend == "diffusers"
    assert info["backend"] == "diffusers"
    assert info["device_type"] == "cpu"
    assert info["memory_used_mb"] > 0
    # Loaded at start (prepare), before any job.
    assert info["loaded_pipelines"] == ["sdxl-base v1", "sdxl-base-refiner v3"]
    # The workers page shows the device and the memory in use.
    page = client.get("/workers").content.decode()
    assert info["device"] in page
    assert "MB (process RSS)" in page  # the figure itself moves with every heartbeat


def test_a_missing_model_stops_the_worker_at_start_naming_the_folder(tiny_beta, alice, tmp_path):
    empty = tmp_path / "no-models-here"
    empty.mkdir()
    log = tmp_path / "worker.log"

    process = _start_worker(model=tiny_beta, owner=alice[0], models_dir=empty, media_root=tmp_path, log=log)
    try:
        code = process.wait(timeout=WORKER_START_TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    output = log.read_text()
    assert code != 0
    assert str(empty / "tiny-sdxl-base") in output
    assert "HORDE_MODELS_DIR" in output
