"""Celery entry points of the aesthetics app."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="aesthetics.shared_comparisons_join", queue="housekeeping")
def shared_comparisons_join() -> int:
    """Periodic (Celery beat): shared SDXL beta images join the built-in rating set."""
    from .sets.shared import shared_comparisons_join as join

    return join()
