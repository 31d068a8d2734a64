"""Repricing waiting jobs races a claim (issue 8, point 8), on PostgreSQL with real connections.

The race: Alice's balance moves while a worker claims one of her waiting jobs. A recompute
that reads the jobs and then saves each one (the naive version below) writes the job back
as it read it, queued: the worker's claim is lost and the job would run twice. The one
UPDATE of `jobs_reprioritize`, which matches `status = 'queued'` on the row itself, waits on
the claim's lock, re-checks the claimed row, leaves it (status, worker and priority), and
reprices the rest. (Filtering through the join, `request__user_id=...`, puts `status` inside
Django's `id IN (subquery)` instead, which PostgreSQL does not re-check against the claimed
row: that UPDATE reprices the claimed job, and the second test fails on it.)
"""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections, transaction

from generation.models import Job
from generation.services import job_claim, job_priority, request_submit
from kudos.selectors import user_balance
from kudos.services import kudos_adjust

from .conftest import SD, body

pytestmark = pytest.mark.django_db(transaction=True)

BIG = 4096 * 4096


@pytest.fixture(autouse=True)
def _no_celery(settings):
    settings.HORDE_CELERY_DISPATCH = False


@pytest.fixture
def waiting(demo_models, alice) -> list[Job]:
    """Alice's two waiting jobs."""
    return [request_submit(user=alice[0], body=body()).request.jobs.get() for _ in range(2)]


def claim_in_thread(worker, *, hold: threading.Event | None = None) -> tuple[threading.Thread, threading.Event, list]:
    """Another connection claims a job; with `hold`, it keeps its transaction open until set."""
    claimed, got = threading.Event(), []

    def work() -> None:
        try:
            with transaction.atomic():
                got.append(job_claim(worker=worker, models=[SD], max_pixels=BIG))
                claimed.set()
                if hold is not None:
                    hold.wait(timeout=20)
        finally:
            claimed.set()
            connections.close_all()

    thread = threading.Thread(target=work)
    thread.start()
    return thread, claimed, got


def naive_reprioritize(*, user, between) -> None:
    """What the one UPDATE prevents: read the waiting jobs, then save each with its new priority."""
    jobs = list(Job.objects.filter(status=Job.Status.QUEUED, request__user=user))
    between()  # the claim commits here
    balance = user_balance(user=user)
    for job in jobs:
        job.priority = job_priority(user=user, balance=balance, created_epoch=job.created_at.timestamp())
        job.save()


def test_without_the_one_update_a_recompute_undoes_a_concurrent_claim(waiting, alice, bob, make_worker):
    assert connection.vendor == "postgresql"
    worker = make_worker(bob[0])
    got = []

    def claim_now() -> None:
        thread, _, claimed = claim_in_thread(worker)
        thread.join(timeout=30)
        got.extend(claimed)

    naive_reprioritize(user=alice[0], between=claim_now)

    job = Job.objects.get(pk=got[0].pk)
    assert (job.status, job.worker_id) == (Job.Status.QUEUED, None)  # the worker's claim is gone


def wait_for_a_lock_wait(timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
            if cursor.fetchone()[0]:
                return
            time.sleep(0.02)
    raise AssertionError("the recompute never waited on the claim's lock")


def test_the_one_update_leaves_a_job_claimed_meanwhile_and_reprices_the_rest(waiting, alice, bob, make_worker):
    assert connection.vendor == "postgresql"
    worker = make_worker(bob[0])
    hold = threading.Event()
    claimer, claimed, got = claim_in_thread(worker, hold=hold)
    assert claimed.wait(timeout=20) and got and got[0] is not None
    before = {job.pk: job.priority for job in Job.objects.filter(pk__in=[job.pk for job in waiting])}

    def adjust() -> None:
        try:  # its commit sends balance_changed: the recompute runs in this thread, after it
            kudos_adjust(user=alice[0], amount=-5000, reason="chargeback", staff_user=None)
        finally:
            connections.close_all()

    adjuster = threading.Thread(target=adjust)
    adjuster.start()
    try:
        wait_for_a_lock_wait()  # the recompute's UPDATE waits on the claimed row
    finally:
        hold.set()
    claimer.join(timeout=30)
    adjuster.join(timeout=30)

    taken = Job.objects.get(pk=got[0].pk)
    assert (taken.status, taken.worker_id, taken.priority) == (Job.Status.CLAIMED, worker.pk, before[taken.pk])
    (other,) = Job.objects.filter(pk__in=[job.pk for job in waiting]).exclude(pk=taken.pk)
    balance = user_balance(user=alice[0])
    assert balance < 0
    assert other.priority == pytest.approx(
        job_priority(user=alice[0], balance=balance, created_epoch=other.created_at.timestamp()), abs=1e-3
    )
    assert other.priority < before[other.pk]
