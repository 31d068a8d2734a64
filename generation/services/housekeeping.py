"""Periodic housekeeping of the queue: claims whose worker vanished go back to the queue."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from generation.models import Job

from .fail import job_fail_claim


def jobs_requeue_expired(*, now: datetime | None = None) -> int:
    """Claimed jobs past their time-to-live: their worker vanished. Returns how many were failed.

    Runs may overlap (a slow beat task, two beat hosts): each job is failed only if it is
    still the claim this run read (job_fail_claim's compare-and-swap on worker, attempt and
    expiry), so a job another run requeued and another worker claimed meanwhile keeps its
    live claim.
    """
    now = now or timezone.now()
    expired = list(
        Job.objects.filter(status=Job.Status.CLAIMED, expires_at__lt=now).select_related("request", "model")[:500]
    )
    return sum(job_fail_claim(job=job, worker=None, reason="time-to-live expired", now=now) for job in expired)
