"""A request's derived status and its jobs' charges and refunds: shared by submission,
completion, failure and cancellation (call the writers with the request row locked).

Money of a request, in the ledger: each job is charged at submission
(`job-charge:<job id>`); a job that will not be made (cancelled before it started,
or its request faulted) is refunded what it was charged (`job-refund:<job id>`),
once; a finished job's worker owner is rewarded (`job-reward:<job id>`), unless
the requester served it themselves.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import Count
from django.utils import timezone

from accounts.services import shared_key_give_back
from generation.models import GenerationRequest, Job
from kudos.models import Entry
from kudos.services import Movement, kudos_refund_many

REFUND_REASONS = {
    "cancelled": "cancelled before it was made",
    "faulted": "not made: the request failed",
}


def _image_of(*, request: GenerationRequest, job: Job) -> str:
    return f"image {job.index + 1} of {request.n}, request {str(request.pk)[:8]}"


def charge_memo(*, request: GenerationRequest, job: Job) -> str:
    """The history line of a job's charge."""
    return f"Charged for {_image_of(request=request, job=job)}"


def reward_memo(*, request: GenerationRequest, job: Job) -> str:
    """The history line of a worker owner's reward."""
    return f"Made {_image_of(request=request, job=job)}"


def jobs_refund(*, request: GenerationRequest, jobs: Sequence[Job], reason: str) -> int:
    """Give back what these jobs of `request` were charged, once each; returns the kudos
    refunded (0 for jobs never charged or already refunded). Call inside a transaction
    with the request row locked.

    Every refunder (cancel, failure, fault) locks the request row first, so the check
    below of what was already refunded cannot race with another refund of the same
    jobs; the refund's event key would refuse a second one anyway. The amount is the
    ledger's: what the charge entry took from the requester.
    """
    if not jobs:
        return 0
    charge_keys = {f"job-charge:{job.pk}": job for job in jobs}
    refund_keys = {f"job-refund:{job.pk}" for job in jobs}
    rows = Entry.objects.filter(
        account__user_id=request.user_id, transaction__event_key__in=[*charge_keys, *refund_keys]
    ).values_list("transaction__event_key", "amount")
    found = dict(rows)
    why = REFUND_REASONS.get(reason, reason)
    refunds = [
        Movement(f"job-refund:{job.pk}", -found[key], f"Refunded {_image_of(request=request, job=job)}: {why}")
        for key, job in charge_keys.items()
        if key in found and f"job-refund:{job.pk}" not in found
    ]
    if not refunds:
        return 0
    kudos_refund_many(user=request.user, refunds=refunds)
    refunded = sum(refund.amount for refund in refunds)
    if request.shared_key_id is not None:
        # Under the same request lock as the refund, so it goes back to the key once.
        shared_key_give_back(shared_key_id=request.shared_key_id, amount=refunded)
    return refunded


def job_refund_if_charged(*, job: Job, reason: str) -> bool:
    """Give back what this one job was charged, if it was and not yet (see jobs_refund)."""
    return jobs_refund(request=job.request, jobs=[job], reason=reason) > 0


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
