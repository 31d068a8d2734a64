"""Statistics counters (generation.models.GenerationStat): count what finishes, fold old periods.

`stats_count_finished` runs inside the transaction that finishes a job (complete.py), so a
job counts exactly once, and a rolled-back finish counts nothing. `stats_compact` is the
housekeeping beat task's: it folds old rows into coarser ones with one statement per step
(DELETE ... RETURNING feeding an upsert), so a counter is never lost or counted twice even
when a finish commits into a row being folded (the DELETE waits for that row's lock and then
moves its new values).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.db import connection
from django.utils import timezone

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_COUNT_SQL = """
INSERT INTO generation_generationstat (model_id, span, start, images, pixelsteps)
VALUES (%s, 'minute', %s, %s, %s)
ON CONFLICT (model_id, span, start) DO UPDATE
SET images = generation_generationstat.images + EXCLUDED.images,
    pixelsteps = generation_generationstat.pixelsteps + EXCLUDED.pixelsteps
"""

# Fold the rows of one span older than a cutoff into the next span's rows.
_FOLD_SQL = """
WITH moved AS (
    DELETE FROM generation_generationstat WHERE span = %(source)s AND start < %(cutoff)s
    RETURNING model_id, start, images, pixelsteps
)
INSERT INTO generation_generationstat (model_id, span, start, images, pixelsteps)
SELECT model_id, %(target)s, {start}, SUM(images), SUM(pixelsteps) FROM moved GROUP BY 1, 3
ON CONFLICT (model_id, span, start) DO UPDATE
SET images = generation_generationstat.images + EXCLUDED.images,
    pixelsteps = generation_generationstat.pixelsteps + EXCLUDED.pixelsteps
"""
_TRUNC = "date_trunc('{unit}', start AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"

# How long each span's rows are kept before they are folded (see the reads in generation.stats).
KEEP_MINUTES = timedelta(hours=2)
KEEP_HOURS = timedelta(days=2)
KEEP_DAYS = timedelta(days=35)


def minute_start(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(second=0, microsecond=0)


def stats_count_finished(*, model_id: int, pixelsteps: int, images: int = 1, at: datetime | None = None) -> None:
    """Add finished images to their model's minute. Call inside the transaction that finishes
    them, last but one (the row is locked until the commit, as the worker owner's balance is)."""
    start = minute_start(at or timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(_COUNT_SQL, [model_id, start, images, pixelsteps])


def stats_compact(*, now: datetime | None = None) -> int:
    """Fold minutes older than KEEP_MINUTES into hours, hours older than KEEP_HOURS into days,
    days older than KEEP_DAYS into the model's total row. Returns the rows folded."""
    now = now or timezone.now()
    steps = (
        ("minute", "hour", now - KEEP_MINUTES, _TRUNC.format(unit="hour")),
        ("hour", "day", now - KEEP_HOURS, _TRUNC.format(unit="day")),
        ("day", "total", now - KEEP_DAYS, "%(epoch)s"),
    )
    folded = 0
    with connection.cursor() as cursor:
        for source, target, cutoff, start in steps:
            cursor.execute(
                _FOLD_SQL.format(start=start),
                {"source": source, "target": target, "cutoff": cutoff, "epoch": EPOCH},
            )
            folded += max(cursor.rowcount, 0)
    return folded
