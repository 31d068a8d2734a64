"""Celery entry points of the ratings app."""

from __future__ import annotations

from celery import shared_task

from .services import arena_pairs_retire, rater_trust_recompute_changed


@shared_task(queue="housekeeping")
def rater_trust_recompute_all_task() -> int:
    """Periodic (CELERY_BEAT_SCHEDULE): refresh the trust figures and exclusion of every rater
    whose figures can have changed since the previous run (everyone when needed: trust_runs)."""
    return rater_trust_recompute_changed()


@shared_task(name="ratings.arena_pairs_retire", queue="housekeeping")
def arena_pairs_retire_task() -> int:
    """Periodic (CELERY_BEAT_SCHEDULE): retire the arena pairs past RATINGS_ARENA_RETIRE_DAYS."""
    return arena_pairs_retire()


# --- leaderboard and dataset export (leaderboard branch) ---
@shared_task(name="ratings.leaderboard_refresh", queue="housekeeping")
def leaderboard_refresh() -> int:
    """Periodic (Celery beat): recompute the leaderboard into the cache. Returns the models ranked."""
    from .leaderboard import leaderboard_refresh as refresh

    return len(refresh()["models"])


# An export may copy many images: it gets far longer than the default task time limit.
@shared_task(
    name="ratings.dataset_export_run", queue="housekeeping", time_limit=6 * 3600, soft_time_limit=6 * 3600 - 60
)
def dataset_export_run(export_id: int) -> str | None:
    """Run one queued DatasetExport (started from the admin). Returns its final status."""
    from .export import dataset_export_run as run

    export = run(export_id=export_id)
    return export.status if export else None
