"""The ledger's flow for /metrics (horde_site.ops): read from PostgreSQL at each scrape."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Count
from prometheus_client.core import CounterMetricFamily, Metric

from kudos.models import Transaction


def ledger_metrics() -> Iterable[Metric]:
    postings = CounterMetricFamily("horde_kudos_transactions", "Ledger transactions, by kind.", labels=["kind"])
    for kind, n in Transaction.objects.values_list("kind").annotate(n=Count("id")):
        postings.add_metric([kind], n)
    yield postings
