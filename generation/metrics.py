"""The queue's figures for /metrics (horde_site.ops): read from PostgreSQL at each scrape."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.db.models import Count, F, Min, Sum
from django.utils import timezone
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from generation import conf
from generation.models import Job, Worker


def queue_metrics() -> Iterable[Metric]:
    now = timezone.now()
    waiting = GaugeMetricFamily(
        "horde_jobs", "Jobs waiting or running, by model and status.", labels=["model", "status"]
    )
    oldest = GaugeMetricFamily(
        "horde_oldest_queued_job_seconds", "Age of the oldest queued job, by model.", labels=["model"]
    )
    rows = (
        Job.objects.filter(status__in=[Job.Status.QUEUED, Job.Status.CLAIMED])
        .values("model__name", "status")
        .annotate(n=Count("id"), first=Min("created_at"))
    )
    for row in rows:
        waiting.add_metric([row["model__name"], row["status"]], row["n"])
        if row["status"] == Job.Status.QUEUED:
            oldest.add_metric([row["model__name"]], (now - row["first"]).total_seconds())
    yield waiting
    yield oldest

    finished = CounterMetricFamily("horde_jobs_finished", "Jobs that ended, by status.", labels=["status"])
    ended = [Job.Status.DONE, Job.Status.FAULTED, Job.Status.CANCELLED]
    for status, n in Job.objects.filter(status__in=ended).values_list("status").annotate(n=Count("id")):
        finished.add_metric([status], n)
    yield finished

    # A claim beyond a job's first went back to the queue once (fault, bad image, TTL).
    requeued = CounterMetricFamily("horde_jobs_requeued", "Claims that went back to the queue.")
    extra = Job.objects.filter(attempts__gt=1).aggregate(n=Sum(F("attempts") - 1))["n"]
    requeued.add_metric([], extra or 0)
    yield requeued

    online = GaugeMetricFamily("horde_workers_online", "Workers seen recently, by kind.", labels=["kind"])
    speed = GaugeMetricFamily(
        "horde_worker_speed_mps", "Megapixel-steps per second of each online worker.", labels=["worker", "kind"]
    )
    since = now - timedelta(seconds=conf.worker_stale_seconds())
    kinds: dict[str, int] = {}
    for name, kind, mps, seconds in Worker.objects.filter(last_seen__gte=since, retired_at__isnull=True).values_list(
        "name", "kind", "mps_done", "seconds_busy"
    ):
        kinds[kind] = kinds.get(kind, 0) + 1
        speed.add_metric([name, kind], mps / seconds if seconds else 0.0)
    for kind, n in kinds.items():
        online.add_metric([kind], n)
    yield online
    yield speed
