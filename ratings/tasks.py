"""Celery entry points of the ratings app."""

from __future__ import annotations

from celery import shared_task

from .services import rater_trust_recompute_all


@shared_task(queue="housekeeping")
def rater_trust_recompute_all_task() -> int:
    """Periodic (CELERY_BEAT_SCHEDULE): refresh every rater's trust figures and exclusion."""
    return rater_trust_recompute_all()
