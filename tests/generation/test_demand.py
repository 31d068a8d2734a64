"""Choosing models by unmet demand (generation.demand), and a real Celery worker following it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
from django.conf import settings as django_settings

from generation.demand import models_by_demand
from generation.models import Job, Worker
from generation.services import request_submit

from .conftest import SD, SDXL, body
from .test_celery_workers import ROOT, celery_models, wait_until, worker_database_url  # noqa: F401 (fixture)


def row(name: str, *, queued: float = 0.0, performance: float = 0.0, count: int = 0) -> dict:
    return {"name": name, "queued": queued, "jobs": int(queued > 0), "performance": performance, "count": count}


def choose(stats, *, current=(), own_speed=0.0, count=1, candidates=("a", "b", "c")):
    return models_by_demand(stats=stats, candidates=candidates, current=current, own_speed=own_speed, count=count)


def test_queued_work_nobody_serves_comes_first_then_the_longest_wait():
    stats = [
        row("a", queued=50, performance=1, count=1),
        row("b", queued=5),
        row("c", queued=100, performance=10, count=2),
    ]
    # b: nobody else serves it; then a (50 s for the others) before c (10 s).
    assert choose(stats, count=3) == ["b", "a", "c"]


def test_its_own_speed_does_not_make_a_model_it_serves_look_covered():
    # It serves a alone: without it nobody serves a's queue, so a stays first.
    stats = [row("a", queued=20, performance=4, count=1), row("b", queued=60, performance=10, count=1)]
    assert choose(stats, current=["a"], own_speed=4) == ["a"]
    # Counting its own speed in, a would look covered (5 s to clear) and b (6 s) would win.
    assert choose(stats, current=[], own_speed=4) == ["b"]


def test_with_no_demand_anywhere_it_keeps_what_it_serves():
    stats = [row("a"), row("b"), row("c")]
    assert choose(stats, current=["c"]) == ["c"]
    assert choose(stats, count=2) == ["a", "b"]


def test_only_candidates_it_can_load_are_chosen():
    stats = [row("a"), row("z", queued=1000)]
    assert choose(stats, candidates=["a", "b"], count=2) == ["a", "b"]


@pytest.fixture
def dynamic_worker(tmp_path):
    started: list[subprocess.Popen] = []

    def spawn(name: str, owner: str, *, count: int, every: float):
        command = [sys.executable, "manage.py", "gpu_worker", "--dynamic-models", str(count), "--models", SD, SDXL]
        command += ["--owner", owner, "--name", name, "--reselect-seconds", str(every), "--heartbeat", "1"]
        log_path = tmp_path / f"{name}.log"
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={
                **os.environ,
                "DATABASE_URL": worker_database_url(),
                "MEDIA_ROOT": str(django_settings.MEDIA_ROOT),
                "CELERY_BROKER_URL": django_settings.CELERY_BROKER_URL,
            },
            stdout=open(log_path, "w"),  # noqa: SIM115 - the process holds it until it is killed
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        process.log_path = log_path
        started.append(process)
        assert wait_until(lambda: Worker.objects.filter(name=name).exists(), timeout=30), log_path.read_text()
        return process

    yield spawn
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def done(request) -> bool:
    return not request.jobs.exclude(status=Job.Status.DONE).exists()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_dynamic_worker_switches_to_the_model_with_demand_and_back(celery_models, alice, bob, dynamic_worker):  # noqa: F811
    process = dynamic_worker("gpu-dynamic", "bob", count=1, every=1.5)
    worker = Worker.objects.get(name="gpu-dynamic")
    first = worker.model_names
    assert len(first) == 1  # one model: nothing queued yet, so the first by name
    other = SD if first == [SDXL] else SDXL
    params = {"width": 1024, "height": 1024} if other == SDXL else {}
    request = request_submit(user=alice[0], body=body(models=[other], params=params)).request

    assert wait_until(lambda: done(request), timeout=60), process.log_path.read_text()
    assert Worker.objects.get(pk=worker.pk).model_names == [other]
    assert request.jobs.filter(worker=worker).count() == request.jobs.count()

    # Demand moves back: it drops `other` and serves the first model again.
    back_params = {"width": 1024, "height": 1024} if first == [SDXL] else {}
    back = request_submit(user=alice[0], body=body(models=first, params=back_params)).request
    assert wait_until(lambda: done(back), timeout=60), process.log_path.read_text()
    assert Worker.objects.get(pk=worker.pk).model_names == first
    assert "demand: now serving" in process.log_path.read_text()
