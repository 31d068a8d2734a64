"""A claimed job that did not finish: back to the queue, or the request faults.

Lock order everywhere: the request row, then its job rows (cancel, complete, fail),
so two of them on the same request cannot deadlock.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from generation import conf
from generation.models import GenerationRequest, Job, Worker

from .dispatch import jobs_dispatch
from .request_state import job_refund_if_charged, jobs_refund, request_status_refresh
from .storage import r2_staging_discard

logger = logging.getLogger(__name__)


def job_fail(*, job: Job, worker: Worker | None, reason: str) -> Job:
    """A claimed job did not finish (fault, bad image, worker vanished).

    Back to the queue while it has attempts left; else the job is faulted and its
    request with it: the other waiting jobs are cancelled and anything charged
    for them refunded (finished images stay paid: they were delivered).

    `worker` None is housekeeping: `job` is the expired claim as it read it, and only
    that claim is failed (see `job_fail_claim`).
    """
    job_fail_claim(job=job, worker=worker, reason=reason)
    job.refresh_from_db()
    return job


def job_fail_claim(*, job: Job, worker: Worker | None, reason: str, now: datetime | None = None) -> bool:
    """`job_fail`, saying whether it failed the claim (False: not that claim any more).

    `now` is housekeeping's clock (the claim must have expired before it)."""
    with transaction.atomic():
        request = GenerationRequest.objects.select_for_update().select_related("user").get(pk=job.request_id)
        where = Job.objects.filter(pk=job.pk, status=Job.Status.CLAIMED)
        if worker is not None:
            where = where.filter(worker=worker)
        else:
            # Compare-and-swap on the claim housekeeping read: the same worker and attempt,
            # still past its expiry. Between its read and now, an overlapping run may have
            # requeued the job and another worker claimed it (or the claim was renewed):
            # that live claim is not this one, and failing it would steal the job from a
            # working worker and use up an attempt. The row lock below re-checks all of it
            # against the latest committed row.
            where = where.filter(worker_id=job.worker_id, attempts=job.attempts, expires_at__lt=now or timezone.now())
        current = where.select_for_update().first()
        if current is None:
            return False  # finished, cancelled, requeued or re-claimed meanwhile
        transaction.on_commit(lambda: r2_staging_discard(current))
        GenerationRequest.objects.filter(pk=request.pk).update(faults=F("faults") + 1)
        if current.worker_id:
            # A streak of failed claims stops the worker's uptime rewards (generation.services.uptime).
            Worker.objects.filter(pk=current.worker_id).update(fault_streak=F("fault_streak") + 1)
        if current.attempts >= conf.max_job_attempts() and not _cancelled(request):
            logger.warning("Job %s faulted after %s attempts (%s)", job.pk, current.attempts, reason)
            _request_fault(request=request, job=current)
        else:
            _give_back(request=request, job=current)
    return True


def job_release(*, job: Job, worker: Worker) -> bool:
    """`worker` gives back its claim on `job` through no fault of the job (the worker was
    retired): back to the queue with no fault counted, or cancelled and refunded if its
    requester cancelled meanwhile. False when the claim is no longer that worker's."""
    with transaction.atomic():
        request = GenerationRequest.objects.select_for_update().select_related("user").get(pk=job.request_id)
        current = Job.objects.filter(pk=job.pk, status=Job.Status.CLAIMED, worker=worker).select_for_update().first()
        if current is None:
            return False
        transaction.on_commit(lambda: r2_staging_discard(current))
        _give_back(request=request, job=current)
    return True


def _cancelled(request: GenerationRequest) -> bool:
    return Job.objects.filter(request=request, status=Job.Status.CANCELLED).exists()


def _give_back(*, request: GenerationRequest, job: Job) -> None:
    """A claim that ended without an image (request row locked by the caller): back to the
    queue (and to the broker), or, when the requester cancelled while it ran, cancelled."""
    if _cancelled(request):
        # The requester cancelled while this job ran: it does not go back to the queue.
        Job.objects.filter(pk=job.pk).update(status=Job.Status.CANCELLED, finished_at=timezone.now())
        job_refund_if_charged(job=job, reason="cancelled")
        request_status_refresh(request=request)
        return
    Job.objects.filter(pk=job.pk).update(
        status=Job.Status.QUEUED, worker=None, claimed_at=None, expires_at=None, dispatched_at=timezone.now()
    )
    if conf.celery_dispatch():
        ids, queue = [str(job.pk)], job.model.queue
        transaction.on_commit(lambda: jobs_dispatch(job_ids=ids, queue=queue))


def _request_fault(*, request: GenerationRequest, job: Job) -> int:
    """Fault the request (its row locked by the caller): this job faulted, the waiting
    ones cancelled, and every one of them refunded what it was charged at submission
    (once: `job-refund:<job id>`). Finished images stay paid: they were delivered.
    Returns the kudos refunded."""
    now = timezone.now()
    Job.objects.filter(pk=job.pk).update(status=Job.Status.FAULTED, finished_at=now, expires_at=None)
    waiting = list(Job.objects.select_for_update().filter(request=request, status=Job.Status.QUEUED))
    Job.objects.filter(pk__in=[other.pk for other in waiting]).update(status=Job.Status.CANCELLED, finished_at=now)
    refunded = jobs_refund(request=request, jobs=[job, *waiting], reason="faulted")
    request_status_refresh(request=request)
    return refunded
