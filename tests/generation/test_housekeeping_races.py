"""Housekeeping never steals a live claim (issue 8, point 9), on PostgreSQL with real connections.

The race: housekeeping run 1 reads an expired claim; before it acts, an overlapping run 2
requeues the job and another worker claims it afresh (in another connection); then run 1
acts on its stale read. Checking only "still claimed" (the naive version below, what
`job_fail(worker=None)` did) requeues the new worker's live claim and uses up an attempt;
the compare-and-swap on (id, claimed, worker, attempts, expires_at < now) leaves it alone.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from generation.models import GenerationRequest, Job
from generation.services import housekeeping, job_claim, job_fail, jobs_requeue_expired, request_submit

from .conftest import SD, body

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _no_celery(settings):
    settings.HORDE_CELERY_DISPATCH = False


@pytest.fixture
def expired_claim(demo_models, alice, bob, make_worker):
    """A job Worker 1 claimed and then vanished from: its claim is past its expiry."""
    request_submit(user=alice[0], body=body())
    gone = make_worker(bob[0], name="gone")
    job = job_claim(worker=gone, models=[SD], max_pixels=512 * 512)
    Job.objects.filter(pk=job.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    return job


def overlapping_run_and_fresh_claim(rescuer) -> None:
    """Another connection: housekeeping run 2 requeues the job, then the rescuer claims it."""

    def work() -> None:
        try:
            assert jobs_requeue_expired() == 1
            assert job_claim(worker=rescuer, models=[SD], max_pixels=512 * 512) is not None
        finally:
            connections.close_all()

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(timeout=30)


def naive_requeue_expired(*, rescuer) -> int:
    """What the guard prevents: read the expired claims, then requeue each if still claimed."""
    expired = list(Job.objects.filter(status=Job.Status.CLAIMED, expires_at__lt=timezone.now()))
    overlapping_run_and_fresh_claim(rescuer)  # between the read and the act
    stolen = 0
    for job in expired:
        stolen += Job.objects.filter(pk=job.pk, status=Job.Status.CLAIMED).update(
            status=Job.Status.QUEUED, worker=None, claimed_at=None, expires_at=None
        )
    return stolen


def test_without_the_guard_housekeeping_steals_a_live_claim(expired_claim, charlie, make_worker):
    assert connection.vendor == "postgresql"
    rescuer = make_worker(charlie[0], name="rescuer")

    assert naive_requeue_expired(rescuer=rescuer) == 1

    job = Job.objects.get(pk=expired_claim.pk)
    assert job.status == Job.Status.QUEUED  # the rescuer's fresh claim is gone...
    assert job.worker is None
    assert job.attempts == 2  # ...and its attempt is used up: one more claim and the request faults


def test_with_the_guard_the_live_claim_stays_and_its_attempt_count_is_unchanged(
    expired_claim, charlie, make_worker, monkeypatch
):
    assert connection.vendor == "postgresql"
    rescuer = make_worker(charlie[0], name="rescuer")
    real_fail = housekeeping.job_fail_claim
    main = threading.get_ident()

    def fail_after_the_overlap(**kwargs) -> bool:
        # Run 1 has read the expired claim; before it acts, run 2 and the rescuer go.
        if threading.get_ident() == main and not fail_after_the_overlap.overlapped:
            fail_after_the_overlap.overlapped = True
            overlapping_run_and_fresh_claim(rescuer)
        return real_fail(**kwargs)

    fail_after_the_overlap.overlapped = False
    monkeypatch.setattr(housekeeping, "job_fail_claim", fail_after_the_overlap)

    assert jobs_requeue_expired() == 0  # run 1 found its claim gone and failed nothing

    job = Job.objects.get(pk=expired_claim.pk)
    assert fail_after_the_overlap.overlapped
    assert (job.status, job.worker_id, job.attempts) == (Job.Status.CLAIMED, rescuer.pk, 2)
    assert job.expires_at > timezone.now()
    assert GenerationRequest.objects.get(pk=job.request_id).faults == 1  # run 2's requeue only


def test_housekeeping_leaves_a_claim_renewed_meanwhile(expired_claim):
    stale = Job.objects.get(pk=expired_claim.pk)  # what housekeeping read
    Job.objects.filter(pk=stale.pk).update(expires_at=timezone.now() + timedelta(minutes=5))  # renewed
    assert job_fail(job=stale, worker=None, reason="time-to-live expired").status == Job.Status.CLAIMED
    assert Job.objects.get(pk=stale.pk).attempts == 1


def test_housekeeping_leaves_a_job_re_claimed_by_the_same_worker(expired_claim):
    stale = Job.objects.get(pk=expired_claim.pk)
    assert jobs_requeue_expired() == 1
    again = job_claim(worker=stale.worker, models=[SD], max_pixels=512 * 512)  # the same worker, attempt 2
    Job.objects.filter(pk=again.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    # The stale read (attempt 1) does not fail attempt 2, expired or not: that is the next run's to see.
    assert job_fail(job=stale, worker=None, reason="time-to-live expired").status == Job.Status.CLAIMED
    assert jobs_requeue_expired() == 1
    assert Job.objects.get(pk=stale.pk).status == Job.Status.QUEUED
