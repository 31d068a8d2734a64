"""A running Celery job keeps its claim past one time-to-live; a vanished worker's does not."""

from __future__ import annotations

import threading
import time
from contextlib import nullcontext

import pytest
from PIL import Image

from generation import tasks
from generation.models import Job, Worker
from generation.services import job_claim, job_lease_renew, jobs_requeue_expired, request_submit

from .conftest import SD, body

pytestmark = pytest.mark.django_db(transaction=True)
TTL = 0.4


@pytest.fixture(autouse=True)
def _short_ttl(settings):
    settings.HORDE_JOB_TTL_SECONDS = TTL
    settings.HORDE_CELERY_DISPATCH = False


class SlowBackend:
    """Takes several TTLs to draw, like a big image on a slow GPU."""

    name = "slow"

    def generate(self, spec):
        time.sleep(TTL * 4)
        return Image.new("RGB", (spec.width, spec.height), "teal")

    def device_info(self):
        return {}


@pytest.fixture
def celery_worker_row(demo_models, bob, make_worker):
    worker = make_worker(bob[0], name="gpu-slow", models=[SD])
    Worker.objects.filter(pk=worker.pk).update(kind=Worker.Kind.CELERY)
    worker.refresh_from_db()
    tasks.set_gpu_runtime(tasks.GpuRuntime(worker=worker, backend=SlowBackend()))
    yield worker
    tasks.set_gpu_runtime(None)


def run_with_housekeeping(job_id: str) -> tuple[str, int]:
    """Run the job while housekeeping sweeps for expired claims every few milliseconds."""
    done = threading.Event()
    requeued = []

    def sweep():
        from django.db import connection

        while not done.is_set():
            requeued.append(jobs_requeue_expired())
            time.sleep(0.02)
        connection.close()

    sweeper = threading.Thread(target=sweep)
    sweeper.start()
    try:
        outcome = tasks.job_run(job_id)
    finally:
        done.set()
        sweeper.join()
    return outcome, sum(requeued)


def test_without_renewal_a_slow_job_is_requeued_under_its_running_worker(celery_worker_row, alice, monkeypatch):
    monkeypatch.setattr(tasks, "LeaseKeeper", lambda **kwargs: nullcontext())
    job = request_submit(user=alice[0], body=body()).request.jobs.get()
    outcome, requeued = run_with_housekeeping(str(job.pk))
    assert requeued >= 1
    assert outcome == "AbortedGen"  # its image arrived for a claim it no longer held
    job.refresh_from_db()
    assert job.status == Job.Status.QUEUED


def test_with_renewal_a_slow_job_keeps_its_claim_and_finishes_on_its_first_attempt(celery_worker_row, alice):
    job = request_submit(user=alice[0], body=body()).request.jobs.get()
    outcome, requeued = run_with_housekeeping(str(job.pk))
    assert (outcome, requeued) == ("done", 0)
    job.refresh_from_db()
    assert (job.status, job.attempts) == (Job.Status.DONE, 1)


def test_a_renewal_does_not_revive_a_claim_that_moved_on(demo_models, alice, bob, charlie, make_worker):
    job = request_submit(user=alice[0], body=body()).request.jobs.get()
    first, second = make_worker(bob[0], name="w-first"), make_worker(charlie[0], name="w-second")
    claimed = job_claim(worker=first, models=[SD], max_pixels=4096 * 4096)
    before = claimed.expires_at
    time.sleep(0.01)
    assert job_lease_renew(job=claimed, worker=first) is True
    assert claimed.expires_at > before
    assert job_lease_renew(job=claimed, worker=second) is False  # not its claim
    Job.objects.filter(pk=job.pk).update(expires_at=claimed.expires_at.replace(year=2000))
    assert jobs_requeue_expired() == 1
    again = job_claim(worker=first, models=[SD], max_pixels=4096 * 4096)  # the same worker, a new attempt
    assert job_lease_renew(job=claimed, worker=first) is False  # the stale attempt renews nothing
    assert job_lease_renew(job=again, worker=first) is True


def keeper_backend_pids(job_pk) -> list[int]:
    """Server processes whose last statement was this job's renewal (the keeper's connection)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND query LIKE %s",
            ['UPDATE "generation_job" SET "expires_at"%'],
        )
        return [row[0] for row in cursor.fetchall()]


def backend_alive(pid: int) -> bool:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone() is not None


def wait_for(predicate, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    return predicate()


def test_the_keeper_goes_on_renewing_after_its_database_connection_is_cut(demo_models, alice, bob, make_worker):
    from django.db import connection

    job = request_submit(user=alice[0], body=body()).request.jobs.get()
    worker = make_worker(bob[0], name="w-keeper", models=[SD])
    claimed = job_claim(worker=worker, models=[SD], max_pixels=4096 * 4096)
    with tasks.LeaseKeeper(job=claimed, worker=worker) as keeper:
        first = wait_for(lambda: keeper_backend_pids(job.pk))
        assert len(first) == 1, first
        with connection.cursor() as cursor:  # what a database restart does to the keeper
            cursor.execute("SELECT pg_terminate_backend(%s)", [first[0]])
        assert wait_for(lambda: not backend_alive(first[0]))
        cut_at = Job.objects.get(pk=job.pk).expires_at
        # The keeper reconnects and renews again, on a new server process.
        assert wait_for(lambda: Job.objects.get(pk=job.pk).expires_at > cut_at)
        second = wait_for(lambda: keeper_backend_pids(job.pk))
        assert second and first[0] not in second
        assert keeper.thread.is_alive()
        # Housekeeping finds nothing to requeue: the claim is still current.
        assert jobs_requeue_expired() == 0
    assert not keeper.thread.is_alive()
    job.refresh_from_db()
    assert (job.status, job.attempts) == (Job.Status.CLAIMED, 1)
