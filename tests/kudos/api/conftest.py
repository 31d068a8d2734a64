"""Helpers for the kudos API and page tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def ledger_snapshot(db):
    """A function returning everything a refused transfer must leave as it was."""
    from kudos.models import Account, Entry, Transaction

    def snapshot() -> dict:
        return {
            # Zero balances are left out: looking a user up may open their (empty) account.
            "balances": dict(Account.objects.filter(hot=False).exclude(balance=0).values_list("user_id", "balance")),
            "entries": Entry.objects.count(),
            "transactions": Transaction.objects.count(),
        }

    return snapshot
