"""Cancelling a request: what has not started is cancelled and refunded.

Queued jobs are cancelled and refunded what they were charged at submission
(`job-refund:<job id>`, once); jobs already being made finish and stay paid, as
do finished images.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from generation.models import GenerationRequest, Job

from .errors import RequestRefused
from .request_state import jobs_refund, request_status_refresh


@dataclass
class Cancellation:
    """What a cancel did: images cancelled (had not started), kudos refunded for them,
    and images still being made (they finish and stay paid)."""

    request: GenerationRequest
    cancelled: int
    refunded: int
    running: int

    @property
    def message(self) -> str:
        """What happened, in words, for the page and the API: only what really happened."""
        if not self.cancelled:
            text = "Nothing was waiting to be cancelled, so nothing was refunded."
        else:
            images = _images(self.cancelled)
            if self.refunded:
                text = f"Cancelled {images} that had not started; refunded {self.refunded} kudos."
            else:
                text = f"Cancelled {images} that had not started; nothing had been charged for them."
        if self.running:
            text += f" {_images(self.running)} already being made will finish and stay paid."
        return text


def _images(count: int) -> str:
    return f"{count} image" if count == 1 else f"{count} images"


def request_cancel(*, request: GenerationRequest, user: User) -> Cancellation:
    """Cancel what has not started (queued jobs) and refund their charges, once each.

    Jobs already claimed finish and are paid for; the request ends as cancelled
    (or done, if nothing was left to cancel).
    """
    if request.user_id != user.pk and not user.is_staff:
        raise RequestRefused(403, "WrongCredentials", "This is not your request.")
    cancelled: list[Job] = []
    refunded = 0
    with transaction.atomic():
        # Lock order: the request row, then its job rows (as completion and failure do).
        # `of=("self",)`: the joined user row is read, not locked.
        locked = GenerationRequest.objects.select_for_update(of=("self",)).select_related("user").get(pk=request.pk)
        if locked.status in (GenerationRequest.Status.WAITING, GenerationRequest.Status.PROCESSING):
            # Locking the queued rows closes the race with a claim: a job a worker claims
            # meanwhile is no longer queued when the lock is granted (the WHERE is checked
            # again), so it is not cancelled nor refunded, and is paid when it finishes;
            # a job cancelled here can no longer be claimed.
            cancelled = list(Job.objects.select_for_update().filter(request=locked, status=Job.Status.QUEUED))
            Job.objects.filter(pk__in=[job.pk for job in cancelled]).update(
                status=Job.Status.CANCELLED, finished_at=timezone.now()
            )
            refunded = jobs_refund(request=locked, jobs=cancelled, reason="cancelled")
            request_status_refresh(request=locked, cancelled=True)
        running = Job.objects.filter(request=locked, status=Job.Status.CLAIMED).count()
    request.refresh_from_db()
    return Cancellation(request=request, cancelled=len(cancelled), refunded=refunded, running=running)
