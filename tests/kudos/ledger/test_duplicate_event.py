"""The same event pays once: a unique constraint on the event key decides."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from kudos.models import Transaction
from kudos.selectors import user_balance
from kudos.services import (
    DuplicateEvent,
    kudos_adjust,
    kudos_charge,
    kudos_rebate,
    kudos_refund,
    kudos_reward,
)

from .helpers import assert_ledger_consistent, cached_balances, ledger_counts

pytestmark = pytest.mark.django_db

ENTRY_POINTS = {
    "charge": kudos_charge,
    "refund": kudos_refund,
    "reward": kudos_reward,
    "rebate": kudos_rebate,
}


@pytest.mark.parametrize("entry_point", ENTRY_POINTS)
def test_posting_the_same_event_twice_pays_once(ledger_user, entry_point):
    alice = ledger_user("alice", 100)
    post = ENTRY_POINTS[entry_point]
    first = post(user=alice, amount=10, event_key="job:42")
    counts, balances = ledger_counts(), cached_balances()

    with pytest.raises(DuplicateEvent) as duplicate:
        post(user=alice, amount=10, event_key="job:42")

    assert duplicate.value.rc == "DuplicateEvent"
    assert duplicate.value.event_key == "job:42"
    assert ledger_counts() == counts
    assert cached_balances() == balances
    assert Transaction.objects.get(event_key="job:42") == first
    assert_ledger_consistent()


def test_the_same_event_key_cannot_pay_through_another_entry_point(ledger_user):
    alice = ledger_user("alice", 100)
    kudos_reward(user=alice, amount=10, event_key="job:7")

    with pytest.raises(DuplicateEvent):
        kudos_rebate(user=alice, amount=99, event_key="job:7")
    with pytest.raises(DuplicateEvent):
        kudos_adjust(user=alice, amount=99, reason="x", staff_user=None, event_key="job:7")

    assert user_balance(user=alice) == 110


def test_a_duplicate_inside_the_callers_transaction_leaves_that_transaction_usable(ledger_user):
    alice = ledger_user("alice", 100)
    kudos_charge(user=alice, amount=10, event_key="job:9")

    with transaction.atomic():
        with pytest.raises(DuplicateEvent):
            kudos_charge(user=alice, amount=10, event_key="job:9")
        # The caller (say, a job completion that is retried) carries on in the same transaction.
        kudos_reward(user=alice, amount=4, event_key="job:9:reward")

    assert user_balance(user=alice) == 94
    assert_ledger_consistent()


def test_the_database_itself_refuses_a_second_row_for_an_event(ledger_user):
    # The guard is the unique index, not Python: a writer that bypasses the service hits it too.
    ledger_user("alice", 100)
    Transaction.objects.create(kind=Transaction.Kind.GENERATION, event_key="raw:1")

    with pytest.raises(IntegrityError), transaction.atomic():
        Transaction.objects.create(kind=Transaction.Kind.GENERATION, event_key="raw:1")
