"""Statistics counters (generation.models.GenerationStat): count what finishes, fold old periods.

`stats_count_finished` runs inside the transaction that finishes a job (complete.py), so a
job counts exactly once, and a rolled-back finish counts nothing. `stats_compact` is the
housekeeping beat task's: it folds old rows into coarser ones. Both are plain ORM (the
development site runs on SQLite); the unique (model, span, start) constraint is what keeps
two writers of one period from making two rows.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from generation.models import GenerationStat

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
Span = GenerationStat.Span

# How long each span's rows are kept before they are folded (see the reads in generation.stats).
KEEP_MINUTES = timedelta(hours=2)
KEEP_HOURS = timedelta(days=2)
KEEP_DAYS = timedelta(days=35)


def minute_start(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(second=0, microsecond=0)


def _period_start(span: str, at: datetime) -> datetime:
    at = at.astimezone(UTC)
    if span == Span.HOUR:
        return at.replace(minute=0, second=0, microsecond=0)
    if span == Span.DAY:
        return at.replace(hour=0, minute=0, second=0, microsecond=0)
    return EPOCH


def _add(*, model_id: int, span: str, start: datetime, images: int, pixelsteps: int) -> None:
    """Add to one period's row, creating it when it is the period's first. The UPDATE is
    atomic (F expressions), and a concurrent creator of the same row loses to the unique
    constraint and adds to the winner's row instead."""
    row = GenerationStat.objects.filter(model_id=model_id, span=span, start=start)
    if row.update(images=F("images") + images, pixelsteps=F("pixelsteps") + pixelsteps):
        return
    try:
        with transaction.atomic():
            GenerationStat.objects.create(
                model_id=model_id, span=span, start=start, images=images, pixelsteps=pixelsteps
            )
    except IntegrityError:  # created meanwhile by another finish
        row.update(images=F("images") + images, pixelsteps=F("pixelsteps") + pixelsteps)


def stats_count_finished(*, model_id: int, pixelsteps: int, images: int = 1, at: datetime | None = None) -> None:
    """Add finished images to their model's minute. Call inside the transaction that finishes
    them, late (the row is locked until the commit, as the worker owner's balance is)."""
    start = minute_start(at or timezone.now())
    _add(model_id=model_id, span=Span.MINUTE, start=start, images=images, pixelsteps=pixelsteps)


def stats_compact(*, now: datetime | None = None) -> int:
    """Fold minutes older than KEEP_MINUTES into hours, hours older than KEEP_HOURS into days,
    days older than KEEP_DAYS into the model's total row. Returns the rows folded.

    Each step locks the rows it folds (a finish adding to one of them meanwhile is waited
    for, and its count is read and moved), deletes them and adds their sums to the coarser
    rows, in one transaction: a count is never lost nor moved twice. A finish that arrives
    after the delete makes a new row, folded by the next run.
    """
    now = now or timezone.now()
    steps = (
        (Span.MINUTE, Span.HOUR, KEEP_MINUTES),
        (Span.HOUR, Span.DAY, KEEP_HOURS),
        (Span.DAY, Span.TOTAL, KEEP_DAYS),
    )
    folded = 0
    for source, target, keep in steps:
        with transaction.atomic():
            rows = list(
                GenerationStat.objects.select_for_update()
                .filter(span=source, start__lt=now - keep)
                .order_by("model_id", "start")
            )
            if not rows:
                continue
            sums: dict[tuple[int, datetime], list[int]] = defaultdict(lambda: [0, 0])
            for row in rows:
                entry = sums[(row.model_id, _period_start(target, row.start))]
                entry[0] += row.images
                entry[1] += row.pixelsteps
            GenerationStat.objects.filter(pk__in=[row.pk for row in rows]).delete()
            for (model_id, start), (images, pixelsteps) in sorted(sums.items()):
                _add(model_id=model_id, span=target, start=start, images=images, pixelsteps=pixelsteps)
            folded += len(rows)
    return folded
