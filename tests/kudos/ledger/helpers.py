"""Ledger test helpers: the invariant check, row counts, and a thread runner."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Count, Sum

from kudos.models import Account, Entry, Transaction


def ledger_counts() -> dict[str, int]:
    """Row counts of every ledger table: a refused movement must leave them all as they were."""
    return {
        "transactions": Transaction.objects.count(),
        "entries": Entry.objects.count(),
        "accounts": Account.objects.count(),
    }


def cached_balances() -> dict[int, int]:
    return dict(Account.objects.values_list("pk", "balance"))


def entry_sums() -> dict[int, int]:
    """Each account's balance as the sum of its entries (0 for an account without entries)."""
    sums = dict(Entry.objects.values("account_id").annotate(total=Sum("amount")).values_list("account_id", "total"))
    return {pk: int(sums.get(pk, 0)) for pk in Account.objects.values_list("pk", flat=True)}


def ledger_violations() -> list[str]:
    """Every broken ledger invariant, over ALL accounts and transactions, in words."""
    problems: list[str] = []
    for txn in Transaction.objects.annotate(legs=Count("entries"), total=Sum("entries__amount")):
        if txn.legs < 2 or txn.total != 0:
            problems.append(f"transaction {txn.event_key!r} has {txn.legs} legs summing to {txn.total}")
    sums = entry_sums()
    for account in Account.objects.all():
        if account.hot and account.balance != 0:
            problems.append(f"hot account {account} caches a balance of {account.balance}")
        if not account.hot and account.balance != sums[account.pk]:
            problems.append(f"account {account} caches {account.balance} but its entries sum to {sums[account.pk]}")
        # A user account's entries are written under its row lock, so their ids follow
        # commit order and each `balance_after` is the running sum up to that entry.
        running = 0
        rows = Entry.objects.filter(account=account).order_by("pk").values_list("pk", "amount", "balance_after")
        for pk, amount, balance_after in rows:
            running += amount
            expected = None if account.hot else running
            if balance_after != expected:
                problems.append(f"entry {pk} of {account} has balance_after {balance_after}, expected {expected}")
    total = Entry.objects.aggregate(total=Sum("amount"))["total"] or 0
    if total != 0:
        problems.append(f"all entries sum to {total}, not 0")
    return problems


def assert_ledger_consistent() -> None:
    problems = ledger_violations()
    assert not problems, "ledger invariants broken:\n" + "\n".join(problems)


@dataclass
class Outcome:
    value: Any = None
    error: BaseException | None = None


def run_together(tasks: list[Callable[[], Any]], *, timeout: float = 60) -> list[Outcome]:
    """Run each task in its own thread, all released at once by a barrier.

    Each thread has its own database connection and closes it at the end (the test
    database cannot be dropped while one stays open). Returns one Outcome per task.
    """
    barrier = threading.Barrier(len(tasks))
    outcomes = [Outcome() for _ in tasks]

    def work(index: int, task: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=timeout)
            outcomes[index].value = task()
        except BaseException as exc:
            outcomes[index].error = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i, task), daemon=True) for i, task in enumerate(tasks)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(thread.is_alive() for thread in threads), "a thread is still running: deadlock or lost wake-up?"
    return outcomes
