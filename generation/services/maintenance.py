"""Maintenance mode's effect on work already queued (site_status holds the mode itself).

As on the AI Horde, where switching maintenance on sets every waiting request's remaining
images to none: the images not started yet are cancelled and refunded (request_cancel, the
one cancel path), the images being made finish and are paid, and the requesters' clients
see their requests end. Housekeeping runs this every few seconds while the mode is on.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef

from generation.models import GenerationRequest, Job
from site_status.selectors import modes_current

from .cancel import request_cancel

BATCH = 200


def requests_abort_for_maintenance() -> int:
    """In maintenance mode, cancel (and refund) the images no worker has started. Returns how
    many were cancelled; 0 and no other query when the mode is off."""
    if not modes_current().maintenance:
        return 0
    queued = Job.objects.filter(request=OuterRef("pk"), status=Job.Status.QUEUED)
    requests = (
        GenerationRequest.objects.filter(
            status__in=(GenerationRequest.Status.WAITING, GenerationRequest.Status.PROCESSING)
        )
        .filter(Exists(queued))
        .select_related("user")
        .order_by("created_at")[:BATCH]
    )
    # request_cancel locks each request and its queued jobs: a job claimed meanwhile is left to finish.
    return sum(request_cancel(request=request, user=request.user).cancelled for request in requests)
