"""`kudos_job_settle`: a job's charge and reward posted together, cheaply.

Two transactions with their own event keys (as `kudos_charge` then `kudos_reward`
would write), both parties locked together in id order.
"""

from __future__ import annotations

import time

import pytest
from django.db import transaction

from accounts.models import ANONYMOUS_USER_ID, User
from accounts.services import user_create
from kudos.models import Transaction
from kudos.selectors import user_balance
from kudos.services import DuplicateEvent, kudos_adjust, kudos_charge, kudos_job_settle

from .helpers import assert_ledger_consistent, cached_balances, ledger_counts, run_together


def settle(requester: User, owner: User, job: str, amount: int = 10) -> tuple[Transaction, Transaction]:
    return kudos_job_settle(
        requester=requester, owner=owner, amount=amount, charge_key=f"{job}:charge", reward_key=f"{job}:reward"
    )


@pytest.mark.django_db
def test_settling_writes_a_charge_and_a_reward_with_their_own_event_keys(ledger_user):
    alice, bob = ledger_user("alice", 100), ledger_user("bob", 5)

    charge, reward = settle(alice, bob, "job-1")

    assert (charge.kind, charge.event_key) == (Transaction.Kind.GENERATION, "job-1:charge")
    assert (reward.kind, reward.event_key) == (Transaction.Kind.WORKER_REWARD, "job-1:reward")
    assert Transaction.objects.get(event_key="job-1:charge") == charge
    assert sorted(charge.entries.values_list("amount", flat=True)) == [-10, 10]
    assert user_balance(user=alice) == 90
    assert user_balance(user=bob) == 15
    assert list(reward.entries.filter(account__user=bob).values_list("balance_after", flat=True)) == [15]
    assert_ledger_consistent()


@pytest.mark.django_db
def test_an_owner_serving_their_own_request_ends_where_they_started(ledger_user):
    alice = ledger_user("alice", 100)

    charge, reward = settle(alice, alice, "job-own")

    assert user_balance(user=alice) == 100
    # Each entry's balance_after follows the postings' order: charged first, then rewarded.
    assert list(charge.entries.filter(account__user=alice).values_list("balance_after", flat=True)) == [90]
    assert list(reward.entries.filter(account__user=alice).values_list("balance_after", flat=True)) == [100]
    assert_ledger_consistent()


@pytest.mark.django_db
def test_an_already_paid_charge_refuses_the_whole_settlement(ledger_user):
    alice, bob = ledger_user("alice", 100), ledger_user("bob")
    kudos_charge(user=alice, amount=10, event_key="job-2:charge")
    counts, balances = ledger_counts(), cached_balances()

    with pytest.raises(DuplicateEvent) as duplicate:
        settle(alice, bob, "job-2")

    assert duplicate.value.event_key == "job-2:charge"
    assert ledger_counts() == counts  # the reward was not written either
    assert cached_balances() == balances
    assert_ledger_consistent()


@pytest.mark.django_db
def test_a_refused_settlement_inside_a_caller_transaction_leaves_it_usable(ledger_user):
    alice, bob = ledger_user("alice", 100), ledger_user("bob")
    settle(alice, bob, "job-3")

    with transaction.atomic():
        with pytest.raises(DuplicateEvent):
            settle(alice, bob, "job-3")
        kudos_charge(user=alice, amount=1, event_key="after")  # the transaction still works

    assert user_balance(user=alice) == 89
    assert_ledger_consistent()


@pytest.mark.django_db
def test_the_anonymous_requester_is_charged_without_a_cached_balance(ledger_user):
    anonymous = User.objects.get(pk=ANONYMOUS_USER_ID)
    newcomer = user_create(username="newcomer")

    settle(anonymous, newcomer, "anon-job", amount=3)

    assert user_balance(user=newcomer) == 3
    assert user_balance(user=anonymous) == -3
    assert_ledger_consistent()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("migration_rows")
def test_crossed_settlements_queue_instead_of_deadlocking():
    alice, bob = user_create(username="alice"), user_create(username="bob")
    for user in (alice, bob):
        kudos_adjust(user=user, amount=100, reason="start", staff_user=None)

    def complete(requester: User, owner: User, job: str) -> None:
        with transaction.atomic():
            settle(requester, owner, job)
            time.sleep(0.3)  # hold both rows while the other completion asks for them

    outcomes = run_together([lambda: complete(alice, bob, "job-a"), lambda: complete(bob, alice, "job-b")])

    assert [o.error for o in outcomes if o.error] == []
    assert user_balance(user=alice) == 100
    assert user_balance(user=bob) == 100
    assert Transaction.objects.filter(event_key__startswith="job-").count() == 4
    assert_ledger_consistent()
