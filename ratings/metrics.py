"""Votes and raters for /metrics (horde_site.ops): read from PostgreSQL at each scrape."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Count
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from ratings.models import RaterTrust, Vote


def vote_metrics() -> Iterable[Metric]:
    votes = CounterMetricFamily("horde_votes", "Votes cast (retracted ones included), by source.", labels=["source"])
    for source, n in Vote.objects.values_list("source").annotate(n=Count("id")):
        votes.add_metric([source], n)
    yield votes
    excluded = GaugeMetricFamily("horde_raters_excluded", "Raters whose votes are left out of the leaderboard.")
    excluded.add_metric([], RaterTrust.objects.filter(excluded=True).count())
    yield excluded
