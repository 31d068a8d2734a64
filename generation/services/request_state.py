"""A request's derived status and the refund of a job's charge: shared by completion,
failure and cancellation (call them with the request row locked)."""

from __future__ import annotations

import contextlib

from django.db.models import Count
from django.utils import timezone

from generation.models import GenerationRequest, Job
from kudos.models import Transaction
from kudos.services import DuplicateEvent, kudos_refund


def _charged(event_key: str) -> bool:
    return Transaction.objects.filter(event_key=event_key).exists()


def job_refund_if_charged(*, job: Job, reason: str) -> bool:
    """Give back what this job was charged, if it was (once: the event key says so)."""
    if not _charged(f"job-charge:{job.pk}"):
        return False
    with contextlib.suppress(DuplicateEvent):
        kudos_refund(
            user=job.request.user, amount=job.kudos, event_key=f"job-refund:{job.pk}", memo=f"{reason} {job.pk}"
        )
        return True
    return False


def request_status_refresh(*, request: GenerationRequest, cancelled: bool = False) -> GenerationRequest:
    """Derive the request's status from its jobs. Call with the request row locked."""
    counts = {
        row["status"]: row["n"] for row in Job.objects.filter(request=request).values("status").annotate(n=Count("id"))
    }
    active = counts.get(Job.Status.QUEUED, 0) + counts.get(Job.Status.CLAIMED, 0)
    status = request.status
    if active:
        started = counts.get(Job.Status.DONE, 0) or counts.get(Job.Status.CLAIMED, 0)
        status = GenerationRequest.Status.PROCESSING if started else GenerationRequest.Status.WAITING
    elif counts.get(Job.Status.FAULTED, 0):
        status = GenerationRequest.Status.FAULTED
    elif cancelled or counts.get(Job.Status.CANCELLED, 0):
        status = GenerationRequest.Status.CANCELLED
    else:
        status = GenerationRequest.Status.DONE
    update: dict = {"status": status}
    if not active and request.finished_at is None:
        update["finished_at"] = timezone.now()
    GenerationRequest.objects.filter(pk=request.pk).update(**update)
    for key, value in update.items():
        setattr(request, key, value)
    return request
