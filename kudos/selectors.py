"""Reads of the ledger."""

from __future__ import annotations

from django.db.models import QuerySet, Sum

from accounts.models import User

from .models import Account, Entry


def system_balances() -> dict[str, int]:
    """Each system account's balance by its code (one query). Summed from entries: the hot
    ones keep no cached balance, and for any account the sum is the balance."""
    system = dict(Account.objects.filter(code__isnull=False).values_list("pk", "code"))
    rows = Entry.objects.filter(account_id__in=system).values_list("account_id").annotate(total=Sum("amount"))
    return dict.fromkeys(system.values(), 0) | {system[pk]: int(total) for pk, total in rows}


def user_balance(*, user: User) -> int:
    # One query for the usual (cold) account: its cached balance comes with it.
    row = Account.objects.filter(user_id=user.pk).values_list("pk", "hot", "balance").first()
    if row is None:
        return 0
    pk, hot, balance = row
    if hot:
        return int(Entry.objects.filter(account_id=pk).aggregate(total=Sum("amount"))["total"] or 0)
    return int(balance)


def user_entries(*, user: User) -> QuerySet[Entry]:
    """A user's entries, newest first, with their transactions (for the history page)."""
    return Entry.objects.filter(account__user_id=user.pk).select_related("transaction").order_by("-id")
