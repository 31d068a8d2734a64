"""Periodic housekeeping of the queue: claims whose worker vanished go back to the queue."""

from __future__ import annotations

from django.utils import timezone

from generation.models import Job

from .fail import job_fail


def jobs_requeue_expired(*, now=None) -> int:
    """Claimed jobs past their time-to-live: their worker vanished. Returns how many."""
    now = now or timezone.now()
    expired = list(
        Job.objects.filter(status=Job.Status.CLAIMED, expires_at__lt=now).select_related("request", "model")[:500]
    )
    for job in expired:
        job_fail(job=job, worker=None, reason="time-to-live expired")
    return len(expired)
