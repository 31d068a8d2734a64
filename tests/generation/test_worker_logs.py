"""Celery workers log JSON lines in production, through the project's LOGGING, each line of
a task's run carrying the task's id: the housekeeping worker and `manage.py gpu_worker`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from generation.models import ImageModel, Job
from generation.services import request_submit
from horde_site.celery import app

from .conftest import SD, body
from .test_celery_workers import wait_until, worker_database_url

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def start(tmp_path):
    """Starts a worker process with production settings (DEBUG off: JSON logs), stderr to a file."""
    started: list[subprocess.Popen] = []

    def run(*command: str) -> subprocess.Popen:
        err = tmp_path / f"worker-{len(started)}.err"
        # The production default (JSON), whatever the shell running the tests says.
        env = {key: value for key, value in os.environ.items() if key not in ("LOG_FORMAT", "LOG_LEVEL")}
        env = {
            **env,
            "DEBUG": "0",
            "DATABASE_URL": worker_database_url(),
            "MEDIA_ROOT": str(django_settings.MEDIA_ROOT),
            "CELERY_BROKER_URL": django_settings.CELERY_BROKER_URL,
        }
        with open(err, "w") as stderr:
            process = subprocess.Popen(
                [sys.executable, *command], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=stderr
            )
        process.err_path = err
        started.append(process)
        return process

    yield run
    for process in started:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def json_lines(path: Path) -> list[dict]:
    """Every stderr line as JSON (a line that is not JSON fails the test, naming it)."""
    records = []
    for line in path.read_text().splitlines():
        if line.strip():
            try:
                records.append(json.loads(line))
            except ValueError:
                raise AssertionError(f"not a JSON log line: {line!r}") from None
    return records


def lines_of(path: Path, task_id: str) -> list[dict]:
    return [r for r in json_lines(path) if r.get("task_id") == task_id]


def test_the_housekeeping_worker_logs_json_lines_with_the_task_id(start):
    queue = f"housekeeping.test-{uuid.uuid4().hex[:8]}"
    worker = start("-m", "celery", "-A", "horde_site", "worker", "-Q", queue, "--pool", "solo", "--loglevel", "INFO")
    task_id = app.send_task("generation.requeue_expired", queue=queue).id
    succeeded = lambda: any("succeeded" in r["message"] for r in lines_of(worker.err_path, task_id))  # noqa: E731
    assert wait_until(succeeded, timeout=60), worker.err_path.read_text()

    records = json_lines(worker.err_path)
    assert all({"time", "level", "logger", "message", "task_id", "request_id"} <= set(r) for r in records)
    assert any(r["logger"] == "celery.apps.worker" and "ready." in r["message"] for r in records)
    mine = lines_of(worker.err_path, task_id)
    assert {r["logger"] for r in mine} >= {"celery.worker.strategy", "celery.app.trace"}
    assert all(r["level"] == "INFO" for r in mine)


def test_a_gpu_worker_logs_json_lines_with_the_task_id(start, demo_models, alice, bob, settings):
    suffix = uuid.uuid4().hex[:8]
    ImageModel.objects.filter(name=SD).update(queue=f"{SD}.test-{suffix}")
    worker = start(
        "manage.py", "gpu_worker", "--models", SD, "--owner", "bob", "--name", "gpu-logs", "--heartbeat", "1"
    )
    assert wait_until(lambda: any("serving" in r["message"] for r in json_lines(worker.err_path)), timeout=60), (
        worker.err_path.read_text()
    )
    request = request_submit(user=alice[0], body=body()).request
    job = request.jobs.get()
    assert wait_until(lambda: Job.objects.get(pk=job.pk).status == Job.Status.DONE, timeout=60), (
        worker.err_path.read_text()
    )
    assert wait_until(lambda: any(f"job {job.pk} started" in r["message"] for r in json_lines(worker.err_path)))

    started = next(r for r in json_lines(worker.err_path) if f"job {job.pk} started" in r["message"])
    assert started["logger"] == "generation.tasks"
    assert started["level"] == "INFO"
    task_id = started["task_id"]
    assert task_id  # the Celery message's id, on a line the task itself wrote
    assert any("succeeded" in r["message"] for r in lines_of(worker.err_path, task_id))
    # The command's own lines go through the same logging.
    assert any(r["logger"] == "generation.management.commands.gpu_worker" for r in json_lines(worker.err_path))
