"""Real Celery GPU workers (`manage.py gpu_worker` subprocesses) on Redis and the test database.

Each test gives the models fresh queue names, so nothing left on the broker by
another run reaches these workers.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from django.conf import settings as django_settings
from django.db import connection
from django.utils import timezone

from generation.models import Image, ImageModel, Job, Worker
from generation.services import jobs_redispatch, jobs_requeue_expired, request_submit
from kudos.models import Transaction

from .conftest import SD, SDXL, body

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]


def worker_database_url() -> str:
    conf = connection.settings_dict
    user = quote(conf.get("USER") or "")
    password = f":{quote(conf['PASSWORD'])}" if conf.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    return f"postgres://{auth}{conf.get('HOST') or '127.0.0.1'}:{conf.get('PORT') or 5432}/{conf['NAME']}"


def wait_until(predicate, timeout: float = 40.0, every: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every)
    return predicate()


@pytest.fixture
def celery_models(demo_models):
    suffix = uuid.uuid4().hex[:8]
    for model in ImageModel.objects.all():
        model.queue = f"{model.queue}.test-{suffix}"
        model.save(update_fields=["queue"])
    return {model.name: model for model in ImageModel.objects.all()}


@pytest.fixture
def spawn_worker(tmp_path):
    started: list[subprocess.Popen] = []
    logs: list = []

    def spawn(name: str, owner: str, *, models=(SD, SDXL), env: dict | None = None, concurrency: int = 1, args=()):
        command = [sys.executable, "manage.py", "gpu_worker", "--models", *models, "--owner", owner]
        command += ["--name", name, "--concurrency", str(concurrency), "--heartbeat", "1", "--loglevel", "info"]
        command += list(args)
        log = open(tmp_path / f"{name}.log", "w")  # noqa: SIM115 - closed at teardown
        logs.append(log)
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={
                **os.environ,
                "DATABASE_URL": worker_database_url(),
                "MEDIA_ROOT": str(django_settings.MEDIA_ROOT),
                "CELERY_BROKER_URL": django_settings.CELERY_BROKER_URL,
                **(env or {}),
            },
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        process.log_path = tmp_path / f"{name}.log"
        started.append(process)
        assert wait_until(lambda: Worker.objects.filter(name=name).exists(), timeout=30), process.log_path.read_text()
        return process

    yield spawn
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    for log in logs:
        log.close()


def all_done(request) -> bool:
    return not request.jobs.exclude(status=Job.Status.DONE).exists()


def test_a_gpu_worker_makes_the_images_of_submitted_requests(celery_models, alice, bob, spawn_worker):
    # Bob's: a comparison is never served by a worker of its requester.
    worker_process = spawn_worker("gpu-a", "bob", concurrency=2)
    plain = request_submit(user=alice[0], body=body(params={"n": 2})).request
    pair = request_submit(user=alice[0], body=body(models=[SDXL], params={"width": 1024, "height": 1024})).request
    assert wait_until(lambda: all_done(plain) and all_done(pair)), worker_process.log_path.read_text()
    assert Image.objects.count() == 4
    worker = Worker.objects.get(name="gpu-a")
    assert worker.kind == Worker.Kind.CELERY
    assert worker.owner == bob[0]
    assert worker.info["device"] == "cpu"
    assert worker.jobs_done == 4
    # The heartbeat keeps last_seen fresh while the worker idles.
    seen = worker.last_seen
    assert wait_until(lambda: Worker.objects.get(pk=worker.pk).last_seen > seen, timeout=10)
    for image in Image.objects.all():
        assert Path(django_settings.MEDIA_ROOT, image.file.name).stat().st_size > 0


def test_a_message_delivered_twice_runs_the_job_once(celery_models, alice, spawn_worker):
    from generation.tasks import job_run

    spawn_worker("gpu-twice", "alice")
    request = request_submit(user=alice[0], body=body()).request
    job = request.jobs.get()
    job_run.apply_async(args=[str(job.pk)], queue=celery_models[SD].queue)  # the duplicate
    assert wait_until(lambda: all_done(request))
    time.sleep(1.5)  # give the duplicate time to run (and find nothing)
    assert Image.objects.count() == 1
    assert Transaction.objects.filter(event_key=f"job-charge:{job.pk}").count() == 1
    assert Job.objects.get(pk=job.pk).attempts == 1


def test_a_worker_killed_mid_job_loses_nothing(celery_models, alice, spawn_worker, settings):
    slow = spawn_worker("gpu-slow", "alice", env={"HORDE_PROCEDURAL_SECONDS": "120", "HORDE_JOB_TTL_SECONDS": "3"})
    request = request_submit(user=alice[0], body=body()).request
    job = request.jobs.get()
    assert wait_until(lambda: Job.objects.get(pk=job.pk).status == Job.Status.CLAIMED), slow.log_path.read_text()
    os.killpg(slow.pid, signal.SIGKILL)  # mid-job: no goodbye, no ack
    slow.wait(timeout=10)
    spawn_worker("gpu-rescue", "alice")
    time.sleep(2)
    assert Job.objects.get(pk=job.pk).status == Job.Status.CLAIMED  # still held by the dead worker...
    expires = Job.objects.get(pk=job.pk).expires_at
    assert wait_until(lambda: timezone.now() > expires, timeout=10)
    assert jobs_requeue_expired() == 1  # ...until its time-to-live ran out (the beat task's work)
    assert wait_until(lambda: all_done(request))
    job.refresh_from_db()
    assert job.worker.name == "gpu-rescue"
    assert job.attempts == 2
    assert Image.objects.count() == 1


def test_a_broker_that_lost_its_messages_loses_no_work(celery_models, alice, spawn_worker, settings):
    requests_ = [request_submit(user=alice[0], body=body()).request for _ in range(4)]
    broker = redis.Redis.from_url(django_settings.CELERY_BROKER_URL)
    queue = celery_models[SD].queue
    assert wait_until(lambda: broker.llen(queue) == 4, timeout=5)
    for key in broker.scan_iter(match=f"{queue}*"):
        broker.delete(key)  # the broker restarted empty
    spawn_worker("gpu-after-restart", "alice")
    time.sleep(3)
    assert Job.objects.filter(status=Job.Status.QUEUED).count() == 4  # no message, no work...
    settings.HORDE_REDISPATCH_AFTER_SECONDS = 0
    Job.objects.update(dispatched_at=timezone.now() - timedelta(seconds=1))
    assert jobs_redispatch() == 4  # ...until housekeeping re-dispatches from PostgreSQL
    assert wait_until(lambda: all(all_done(request) for request in requests_))
    assert Image.objects.count() == 4


def test_a_celery_worker_serves_the_beta_while_an_untrusted_http_workers_pop_skips_it(
    celery_models, alice, bob, charlie, spawn_worker, api_client, settings
):
    import json

    pair = request_submit(user=alice[0], body=body(models=[SDXL], params={"width": 1024, "height": 1024})).request
    broker = redis.Redis.from_url(django_settings.CELERY_BROKER_URL)
    queue = celery_models[SDXL].queue
    assert wait_until(lambda: broker.llen(queue) == 2, timeout=5)

    # Alice's own GPU worker takes the messages but not the jobs: not her own comparison.
    own = spawn_worker("gpu-alice", "alice", models=(SDXL,))
    assert wait_until(lambda: broker.llen(queue) == 0, timeout=30), own.log_path.read_text()
    time.sleep(1.5)
    assert set(pair.jobs.values_list("status", flat=True)) == {Job.Status.QUEUED}

    # Charlie's HTTP worker (untrusted) pops: nothing, and it is told why.
    popped = api_client.post(
        "/api/v2/generate/pop",
        data=json.dumps({"name": "charlie-box", "models": [SDXL], "max_pixels": 1024 * 1024, "amount": 2}),
        content_type="application/json",
        HTTP_APIKEY=charlie[1],
    ).json()
    assert (popped["id"], popped["skipped"]) == (None, {"untrusted": 2})

    # Bob's GPU worker serves it, once housekeeping re-sends the messages Alice's worker used up
    # (stopped first: it would take its share of the new messages and drop them again).
    os.killpg(own.pid, signal.SIGKILL)
    own.wait(timeout=10)
    spawn_worker("gpu-bob", "bob", models=(SDXL,))
    settings.HORDE_REDISPATCH_AFTER_SECONDS = 0
    Job.objects.update(dispatched_at=timezone.now() - timedelta(seconds=1))
    assert jobs_redispatch() == 2
    assert wait_until(lambda: all_done(pair))
    assert set(Image.objects.filter(request=pair).values_list("worker__name", flat=True)) == {"gpu-bob"}
    assert set(pair.jobs.values_list("attempts", flat=True)) == {1}


def test_a_gpu_worker_put_in_maintenance_stops_taking_tasks_within_seconds_and_resumes_after(
    celery_models, alice, bob, spawn_worker
):
    from generation.services.worker_control import WorkerChange, worker_modify

    process = spawn_worker("gpu-maint", "bob", models=(SD,), args=("--control-seconds", "0.5"))
    worker = Worker.objects.get(name="gpu-maint")
    started = time.monotonic()
    worker_modify(worker=worker, user=bob[0], change=WorkerChange(maintenance=True))
    stopped = lambda: "stopped consuming" in process.log_path.read_text()  # noqa: E731
    assert wait_until(stopped, timeout=15), process.log_path.read_text()
    assert time.monotonic() - started < 10  # within seconds

    request = request_submit(user=alice[0], body=body()).request
    queue = celery_models[SD].queue
    time.sleep(3)  # long enough for a consuming worker to have taken and finished it
    assert request.jobs.get().status == Job.Status.QUEUED
    broker = redis.Redis.from_url(django_settings.CELERY_BROKER_URL)
    assert broker.llen(queue) == 1  # its message waits on the broker, for any other worker

    worker_modify(worker=worker, user=bob[0], change=WorkerChange(maintenance=False))
    assert wait_until(lambda: all_done(request), timeout=30), process.log_path.read_text()
    assert "back in service" in process.log_path.read_text()
    assert request.jobs.get().worker_id == worker.pk
