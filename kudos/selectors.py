"""Reads of the ledger."""

from __future__ import annotations

from django.db.models import QuerySet, Sum

from accounts.models import User

from .models import Account, Entry


def account_balance(*, account: Account) -> int:
    if account.hot:
        return int(Entry.objects.filter(account=account).aggregate(total=Sum("amount"))["total"] or 0)
    return int(Account.objects.filter(pk=account.pk).values_list("balance", flat=True).get())


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
