"""The ledger's flow for /metrics (horde_site.ops): read from PostgreSQL at each scrape."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Count
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from kudos.models import Transaction
from kudos.selectors import system_balances


def ledger_metrics() -> Iterable[Metric]:
    postings = CounterMetricFamily("horde_kudos_transactions", "Ledger transactions, by kind.", labels=["kind"])
    for kind, n in Transaction.objects.values_list("kind").annotate(n=Count("id")):
        postings.add_metric([kind], n)
    yield postings
    # The system accounts are where the economy's flows land: spend, rewards, rebates, staff.
    balances = GaugeMetricFamily("horde_kudos_account_balance", "Balance of each system account.", labels=["account"])
    for code, total in system_balances().items():
        balances.add_metric([code], total)
    yield balances
