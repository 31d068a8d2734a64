"""Reads of the statistics: what finished per period (the GenerationStat counters) and the
horde's load, in the AI Horde's shapes (status/performance, stats/img/models and /totals).

Nothing here counts finished jobs: finished work is read from the counters the completing
transaction keeps (generation.services.stats), one aggregate query per answer. Periods are
to the minute: "past minute" is the sliding-window estimate from the current and the
previous minute (the previous weighted by how much of it is still within 60 seconds);
"hour" is the last 60 minutes, "day" the last 24 hours (to the hour once older than two),
"month" the last 30 days (to the day once older than two).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import BigIntegerField, Count, F, Q, Sum
from django.db.models.functions import Cast
from django.utils import timezone

from generation.models import GenerationRequest, GenerationStat, Job
from generation.selectors import workers_online
from generation.services.stats import minute_start

PERIODS = {"hour": timedelta(hours=1), "day": timedelta(days=1), "month": timedelta(days=30)}


def _cutoffs(now: datetime) -> dict[str, datetime]:
    current = minute_start(now)
    cutoffs = {"current": current, "previous": current - timedelta(minutes=1)}
    # "hour": the current minute and the 59 before it (start within the hour, to the minute).
    cutoffs.update({name: current + timedelta(minutes=1) - length for name, length in PERIODS.items()})
    return cutoffs


def _past_minute(current: int, previous: int, now: datetime) -> int:
    """Sliding-window estimate of the last 60 seconds from two minute counters."""
    elapsed = (now - minute_start(now)).total_seconds()
    return round(current + previous * max(0.0, 60 - elapsed) / 60)


def _sums(field: str, cutoffs: dict[str, datetime]) -> dict[str, Sum]:
    minute = Q(span=GenerationStat.Span.MINUTE)
    return {
        f"{field}_current": Sum(field, filter=minute & Q(start__gte=cutoffs["current"]), default=0),
        f"{field}_previous": Sum(
            field, filter=minute & Q(start__gte=cutoffs["previous"], start__lt=cutoffs["current"]), default=0
        ),
        **{f"{field}_{name}": Sum(field, filter=Q(start__gte=cutoffs[name]), default=0) for name in PERIODS},
        f"{field}_total": Sum(field, default=0),
    }


def image_totals(*, now: datetime | None = None) -> dict[str, dict[str, int]]:
    """As /api/v2/stats/img/totals (StatsImgTotals): images and pixel-steps per period, one query."""
    now = now or timezone.now()
    cutoffs = _cutoffs(now)
    row = GenerationStat.objects.aggregate(**_sums("images", cutoffs), **_sums("pixelsteps", cutoffs))
    out: dict[str, dict[str, int]] = {}
    for period in ("minute", "hour", "day", "month", "total"):
        if period == "minute":
            images = _past_minute(row["images_current"], row["images_previous"], now)
            ps = _past_minute(row["pixelsteps_current"], row["pixelsteps_previous"], now)
        else:
            images, ps = int(row[f"images_{period}"]), int(row[f"pixelsteps_{period}"])
        out[period] = {"images": images, "ps": ps}
    return out


def image_model_stats(*, now: datetime | None = None) -> dict[str, dict[str, int]]:
    """As /api/v2/stats/img/models (ImgModelStats): images per model per day, month and all
    time, one query. A model appears once it has finished an image."""
    now = now or timezone.now()
    cutoffs = _cutoffs(now)
    rows = (
        GenerationStat.objects.values("model__name")
        .annotate(
            day=Sum("images", filter=Q(start__gte=cutoffs["day"]), default=0),
            month=Sum("images", filter=Q(start__gte=cutoffs["month"]), default=0),
            total=Sum("images", default=0),
        )
        .order_by("model__name")
    )
    out: dict[str, dict[str, int]] = {"day": {}, "month": {}, "total": {}}
    for row in rows:
        for period in out:
            out[period][row["model__name"]] = int(row[period])
    return out


def _queue() -> dict[str, int]:
    """Requests waiting or running and the pixel-steps of their unfinished jobs, one query.

    Read from the active requests (an index on their status) and their jobs (by request):
    the queue, never the history. Cast first: width x height x steps of a large image
    overflows PostgreSQL's integer."""
    size = Cast(F("width"), BigIntegerField()) * F("height") * F("steps")
    unfinished = Q(jobs__status__in=(Job.Status.QUEUED, Job.Status.CLAIMED))
    return GenerationRequest.objects.filter(
        status__in=(GenerationRequest.Status.WAITING, GenerationRequest.Status.PROCESSING)
    ).aggregate(requests=Count("id", distinct=True), pixelsteps=Sum(size, filter=unfinished, default=0))


def _threads(info: Any) -> int:
    try:
        return max(int((info or {}).get("threads") or 1), 1)
    except (TypeError, ValueError, AttributeError):
        return 1


def horde_performance(*, now: datetime | None = None) -> dict[str, Any]:
    """As /api/v2/status/performance (HordePerformance), in three queries: the queue of
    unfinished jobs, the workers online, and the past minute from the counters. Horde makes
    images only: the text and interrogation figures are zero."""
    now = now or timezone.now()
    queue = _queue()
    queued_requests, queued_pixelsteps = queue["requests"], queue["pixelsteps"]
    infos = list(workers_online().values_list("info", flat=True))
    threads = sum(_threads(info) for info in infos)
    current = minute_start(now)
    row = GenerationStat.objects.filter(
        span=GenerationStat.Span.MINUTE, start__gte=current - timedelta(minutes=1)
    ).aggregate(
        current=Sum("pixelsteps", filter=Q(start__gte=current), default=0),
        previous=Sum("pixelsteps", filter=Q(start__lt=current), default=0),
    )
    return {
        "queued_requests": int(queued_requests),
        "queued_text_requests": 0,
        "worker_count": len(infos),
        "text_worker_count": 0,
        "thread_count": threads,
        "text_thread_count": 0,
        "queued_megapixelsteps": round(int(queued_pixelsteps) / 1_000_000, 2),
        "past_minute_megapixelsteps": round(_past_minute(row["current"], row["previous"], now) / 1_000_000, 2),
        "queued_forms": 0.0,
        "interrogator_count": 0,
        "interrogator_thread_count": 0,
        "queued_tokens": 0.0,
        "past_minute_tokens": 0.0,
    }
