"""The queue's figures for /metrics (horde_site.ops): read from PostgreSQL at each scrape."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.db.models import Count, Min
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

    online = GaugeMetricFamily("horde_workers_online", "Workers seen recently, by kind.", labels=["kind"])
    since = now - timedelta(seconds=conf.worker_stale_seconds())
    for kind, n in Worker.objects.filter(last_seen__gte=since).values_list("kind").annotate(n=Count("id")):
        online.add_metric([kind], n)
    yield online
