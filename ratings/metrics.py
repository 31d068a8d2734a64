"""Votes and raters for /metrics (horde_site.ops): read from PostgreSQL at each scrape."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.db.models import Count
from django.utils import timezone
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from ratings.models import RaterTrust, Vote


def vote_metrics() -> Iterable[Metric]:
    votes = CounterMetricFamily("horde_votes", "Votes cast (retracted ones included), by source.", labels=["source"])
    for source, n in Vote.objects.values_list("source").annotate(n=Count("id")):
        votes.add_metric([source], n)
    yield votes
    recent = GaugeMetricFamily("horde_votes_last_hour", "Votes cast in the last hour, by source.", labels=["source"])
    since = timezone.now() - timedelta(hours=1)
    for source, n in Vote.objects.filter(created_at__gte=since).values_list("source").annotate(n=Count("id")):
        recent.add_metric([source], n)
    yield recent
    excluded = GaugeMetricFamily("horde_raters_excluded", "Raters whose votes are left out of the leaderboard.")
    excluded.add_metric([], RaterTrust.objects.filter(excluded=True).count())
    yield excluded
