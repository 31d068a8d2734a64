"""`kudos_charge_many` / `kudos_refund_many`: one user's several movements (a request's
job charges at submission, their refunds on cancel or fault) posted as one unit."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts.services import user_create
from kudos.models import Entry, Transaction
from kudos.selectors import user_balance
from kudos.services import (
    DuplicateEvent,
    KudosError,
    Movement,
    kudos_adjust,
    kudos_charge,
    kudos_charge_many,
    kudos_refund_many,
)

from .helpers import assert_ledger_consistent, cached_balances, ledger_counts, run_together


def charges(prefix: str, amounts: list[int]) -> list[Movement]:
    return [Movement(f"{prefix}:{index}", amount, f"image {index + 1}") for index, amount in enumerate(amounts)]


@pytest.mark.django_db
def test_a_batch_writes_one_transaction_per_movement_and_answers_the_balance_after(ledger_user):
    alice = ledger_user("alice", 10)

    posted = kudos_charge_many(user=alice, charges=charges("job-charge", [4, 4, 4]))

    assert [txn.event_key for txn in posted.transactions] == ["job-charge:0", "job-charge:1", "job-charge:2"]
    assert {txn.kind for txn in posted.transactions} == {Transaction.Kind.GENERATION}
    assert posted.balance_after == user_balance(user=alice) == -2  # may go below zero
    running = Entry.objects.filter(account__user=alice, transaction__kind="generation").order_by("pk")
    assert list(running.values_list("balance_after", flat=True)) == [6, 2, -2]
    assert list(running.values_list("transaction__memo", flat=True)) == ["image 1", "image 2", "image 3"]
    assert_ledger_consistent()


@pytest.mark.django_db
def test_refunds_give_the_charges_back(ledger_user):
    alice = ledger_user("alice", 10)
    kudos_charge_many(user=alice, charges=charges("job-charge", [4, 4]))

    posted = kudos_refund_many(user=alice, refunds=charges("job-refund", [4, 4]))

    assert {txn.kind for txn in posted.transactions} == {Transaction.Kind.REFUND}
    assert posted.balance_after == user_balance(user=alice) == 10
    assert_ledger_consistent()


@pytest.mark.django_db
def test_one_movement_already_paid_refuses_the_whole_batch(ledger_user):
    alice = ledger_user("alice", 10)
    kudos_charge(user=alice, amount=4, event_key="job-charge:1")
    counts, balances = ledger_counts(), cached_balances()

    with pytest.raises(DuplicateEvent) as duplicate:
        kudos_charge_many(user=alice, charges=charges("job-charge", [4, 4, 4]))

    assert duplicate.value.event_key == "job-charge:1"
    assert (ledger_counts(), cached_balances()) == (counts, balances)
    assert_ledger_consistent()


@pytest.mark.django_db
def test_a_key_twice_in_one_batch_or_a_bad_amount_or_nothing_is_refused(ledger_user):
    alice = ledger_user("alice", 10)
    counts, balances = ledger_counts(), cached_balances()
    with pytest.raises(DuplicateEvent):
        kudos_charge_many(user=alice, charges=[Movement("same", 1), Movement("same", 1)])
    with pytest.raises(KudosError) as bad:
        kudos_charge_many(user=alice, charges=[Movement("a", 1), Movement("b", 0)])
    assert bad.value.rc == "NegativeKudosTransfer"
    with pytest.raises(KudosError):
        kudos_refund_many(user=alice, refunds=[])
    assert (ledger_counts(), cached_balances()) == (counts, balances)


@pytest.mark.django_db
def test_a_refused_batch_inside_a_caller_transaction_leaves_it_usable(ledger_user):
    alice = ledger_user("alice", 10)
    kudos_charge(user=alice, amount=1, event_key="job-charge:0")
    with transaction.atomic():
        with pytest.raises(DuplicateEvent):
            kudos_charge_many(user=alice, charges=charges("job-charge", [1, 1]))
        kudos_charge(user=alice, amount=2, event_key="after")
    assert user_balance(user=alice) == 7
    assert_ledger_consistent()


@pytest.mark.django_db
def test_the_anonymous_user_is_charged_without_a_balance_to_answer(anonymous):
    posted = kudos_charge_many(user=anonymous, charges=charges("anon-charge", [3, 3]))
    assert posted.balance_after is None
    assert user_balance(user=anonymous) == -6
    assert_ledger_consistent()


@pytest.mark.django_db
def test_a_batch_costs_the_same_statements_however_many_movements(ledger_user):
    alice = ledger_user("alice", 100)
    counts = []
    for size in (1, 10):
        with CaptureQueriesContext(connection) as queries:
            kudos_charge_many(user=alice, charges=charges(f"size-{size}", [1] * size))
        counts.append(len(queries))
    # Savepoint, the accounts, the transactions, the one balance update, the entries, release.
    assert counts == [6, 6]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("migration_rows")
def test_concurrent_batches_of_one_user_keep_every_balance_exact():
    alice = user_create(username="alice")
    kudos_adjust(user=alice, amount=100, reason="start", staff_user=None)

    def submit_and_cancel(thread: int) -> None:
        kudos_charge_many(user=alice, charges=charges(f"t{thread}-charge", [3, 3, 3]))
        kudos_refund_many(user=alice, refunds=charges(f"t{thread}-refund", [3]))

    outcomes = run_together([lambda thread=thread: submit_and_cancel(thread) for thread in range(6)])

    assert [o.error for o in outcomes if o.error] == []
    assert user_balance(user=alice) == 100 - 6 * 6
    assert_ledger_consistent()  # balance_after runs in commit order, cached equals entries
