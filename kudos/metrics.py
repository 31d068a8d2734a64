"""The ledger's flow for /metrics (horde_site.ops): read from PostgreSQL at each scrape."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Count, Sum
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from kudos.models import Account, Entry, Transaction


def ledger_metrics() -> Iterable[Metric]:
    postings = CounterMetricFamily("horde_kudos_transactions", "Ledger transactions, by kind.", labels=["kind"])
    for kind, n in Transaction.objects.values_list("kind").annotate(n=Count("id")):
        postings.add_metric([kind], n)
    yield postings
    # The system accounts are where the economy's flows land: spend, rewards, rebates, staff.
    balances = GaugeMetricFamily("horde_kudos_account_balance", "Balance of each system account.", labels=["account"])
    system = dict(Account.objects.filter(code__isnull=False).values_list("pk", "code"))
    rows = Entry.objects.filter(account_id__in=system).values_list("account_id").annotate(total=Sum("amount"))
    for account_id, total in rows:
        balances.add_metric([system[account_id]], total)
    yield balances
