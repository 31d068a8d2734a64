"""Retiring a worker while it claims, on PostgreSQL with two connections: no claim slips past.

The claim holds its worker row FOR SHARE; the retirement is an UPDATE of that row. So a
retirement waits for a claim in flight and then gives its job back, and a claim that meets a
retirement in flight re-reads the row after it and takes nothing.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction
from django.utils import timezone

from generation.models import Job, Worker
from generation.services import jobs_claim, request_submit
from generation.services.worker_control import worker_retire

from .conftest import SD, body

pytestmark = pytest.mark.django_db(transaction=True)


class Step(threading.Thread):
    """A thread with its own database connection that remembers what it returned or raised."""

    def __init__(self, target) -> None:
        super().__init__(daemon=True)
        self.target, self.result, self.done = target, None, threading.Event()

    def run(self) -> None:
        try:
            self.result = self.target()
        except Exception as exc:
            self.result = exc
        finally:
            connection.close()
            self.done.set()


@pytest.fixture
def queued(demo_models, alice, bob, make_worker, settings):
    settings.HORDE_CELERY_DISPATCH = False
    worker = make_worker(alice[0], name="gpu-race", models=[SD])
    request = request_submit(user=bob[0], body=body()).request
    return worker, request


def test_a_retirement_waits_for_a_claim_in_flight_and_then_gives_its_job_back(queued, alice):
    worker, request = queued
    claimed, release = threading.Event(), threading.Event()

    def claim():
        with transaction.atomic():
            jobs = jobs_claim(worker=worker, models=[SD], max_pixels=worker.max_pixels)
            claimed.set()
            release.wait(10)  # the claim is made but not committed yet
            return jobs

    claimer = Step(claim)
    claimer.start()
    assert claimed.wait(10)
    retirer = Step(lambda: worker_retire(worker=Worker.objects.get(pk=worker.pk), user=alice[0]))
    retirer.start()
    assert not retirer.done.wait(1.0)  # the retirement waits for the claim in flight
    release.set()
    claimer.join(10)
    retirer.join(10)
    assert len(claimer.result) == 1 and retirer.result["deleted_name"] == "gpu-race"
    job = Job.objects.get(request=request)
    assert (job.status, job.worker_id) == (Job.Status.QUEUED, None)  # given back, not stranded


def test_a_claim_that_meets_a_retirement_in_flight_takes_nothing(queued):
    worker, request = queued
    locked, release = threading.Event(), threading.Event()

    def retire():
        with transaction.atomic():
            Worker.objects.filter(pk=worker.pk).update(retired_at=timezone.now())
            locked.set()
            release.wait(10)  # retired but not committed yet

    retirer = Step(retire)
    retirer.start()
    assert locked.wait(10)
    claimer = Step(lambda: jobs_claim(worker=worker, models=[SD], max_pixels=worker.max_pixels))
    claimer.start()
    assert not claimer.done.wait(1.0)  # the claim waits for the retirement in flight
    release.set()
    retirer.join(10)
    claimer.join(10)
    assert claimer.result == []
    assert Job.objects.get(request=request).status == Job.Status.QUEUED


def test_without_a_retirement_in_flight_the_same_claim_takes_the_job(queued):
    # The control for the one above: the worker, the job and the claim are ones that match.
    worker, request = queued
    jobs = jobs_claim(worker=worker, models=[SD], max_pixels=worker.max_pixels)
    assert [job.pk for job in jobs] == [Job.objects.get(request=request).pk]
