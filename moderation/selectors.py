"""Reads for moderation: which images a user may report, and the moderation queue."""

from __future__ import annotations

import uuid

from django.db.models import Count, Max, Q, QuerySet

from accounts.models import User
from generation.models import GenerationRequest, Image

from .models import Report, ReportedImage


def reportable_image(*, image_id: str, user: User) -> Image | None:
    """The image if `user` can see it (shared, or their own request's) and it is not hidden;
    None otherwise: an image one cannot see is not named, even to say it exists."""
    try:
        pk = uuid.UUID(image_id)
    except ValueError:
        return None
    return (
        Image.objects.filter(pk=pk, hidden_at__isnull=True, request__status=GenerationRequest.Status.DONE)
        .filter(Q(request__shared=True) | Q(request__user=user))
        .first()
    )


def moderation_queue(*, open_only: bool = True) -> QuerySet[ReportedImage]:
    """Reported images, most open reports first (then the most recently reported), with what
    the queue shows: prompt, requester, worker and counts, in one query."""
    images = ReportedImage.objects.annotate(
        open_reports=Count("reports", filter=Q(reports__status=Report.Status.OPEN)),
        all_reports=Count("reports"),
        last_reported_at=Max("reports__created_at"),
    ).filter(all_reports__gt=0)
    if open_only:
        images = images.filter(open_reports__gt=0)
    return images.select_related("request__user", "request__model", "worker").order_by(
        "-open_reports", "-last_reported_at", "-id"
    )
