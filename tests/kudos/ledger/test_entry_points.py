"""Each ledger entry point writes one balanced transaction and keeps every balance true."""

from __future__ import annotations

import uuid

import pytest
from django.db import transaction
from django.db.models import Sum

from accounts.models import ANONYMOUS_USER_ID
from kudos.models import Account, Entry, SystemAccount, Transaction
from kudos.selectors import system_balances, user_balance, user_entries
from kudos.services import (
    DuplicateEvent,
    KudosError,
    account_for_user,
    kudos_adjust,
    kudos_charge,
    kudos_rebate,
    kudos_refund,
    kudos_reward,
    kudos_transfer,
    system_account,
)

from .helpers import assert_ledger_consistent, ledger_counts

pytestmark = pytest.mark.django_db


def legs(txn: Transaction) -> dict[str, int]:
    return {str(entry.account): entry.amount for entry in txn.entries.select_related("account")}


def system_balance(code: SystemAccount) -> int:
    return system_balances()[code.value]


def test_the_migrations_create_the_hot_accounts_up_front():
    hot = set(Account.objects.filter(hot=True).values_list("code", "user_id"))
    assert hot == {(code.value, None) for code in SystemAccount} | {(None, ANONYMOUS_USER_ID)}


def test_a_transfer_moves_kudos_from_sender_to_recipient(ledger_user):
    alice, bob = ledger_user("alice", 1000), ledger_user("bob", 1000)

    txn = kudos_transfer(sender=alice, recipient=bob, amount=300)

    assert txn.kind == Transaction.Kind.TRANSFER
    assert txn.event_key.startswith("transfer:")
    assert txn.created_by == alice
    assert legs(txn) == {f"user:{alice.pk}": -300, f"user:{bob.pk}": 300}
    assert txn.entries.aggregate(total=Sum("amount"))["total"] == 0
    assert user_balance(user=alice) == 700
    assert user_balance(user=bob) == 1300
    assert {e.account.user_id: e.balance_after for e in txn.entries.select_related("account")} == {
        alice.pk: 700,
        bob.pk: 1300,
    }
    assert_ledger_consistent()


def test_a_transfer_of_the_whole_balance_leaves_exactly_zero(ledger_user):
    alice, bob = ledger_user("alice", 250), ledger_user("bob")

    kudos_transfer(sender=alice, recipient=bob, amount=250)

    assert user_balance(user=alice) == 0
    assert user_balance(user=bob) == 250
    assert_ledger_consistent()


def test_a_transfer_to_a_user_without_an_account_creates_it(ledger_user):
    alice, charlie = ledger_user("alice", 100), ledger_user("charlie")
    assert not Account.objects.filter(user=charlie).exists()

    kudos_transfer(sender=alice, recipient=charlie, amount=40)

    assert Account.objects.get(user=charlie).hot is False
    assert user_balance(user=charlie) == 40
    assert_ledger_consistent()


def test_it_rejects_overdraft_and_writes_nothing(ledger_user):
    alice, bob = ledger_user("alice", 100), ledger_user("bob", 5)
    before = ledger_counts()

    with pytest.raises(KudosError) as refused:
        kudos_transfer(sender=alice, recipient=bob, amount=101)

    assert refused.value.rc == "KudosTransferNotEnough"
    assert ledger_counts() == before
    assert user_balance(user=alice) == 100
    assert user_balance(user=bob) == 5
    assert_ledger_consistent()


def test_a_refused_transfer_does_not_even_create_the_recipients_account(ledger_user):
    alice, charlie = ledger_user("alice", 10), ledger_user("charlie")
    before = ledger_counts()

    with pytest.raises(KudosError):
        kudos_transfer(sender=alice, recipient=charlie, amount=11)

    assert ledger_counts() == before
    assert not Account.objects.filter(user=charlie).exists()


def test_a_user_who_never_had_kudos_cannot_transfer_and_gets_no_account(ledger_user):
    charlie, dave = ledger_user("charlie"), ledger_user("dave")
    before = ledger_counts()

    with pytest.raises(KudosError) as refused:
        kudos_transfer(sender=charlie, recipient=dave, amount=1)

    assert refused.value.rc == "KudosTransferNotEnough"
    assert ledger_counts() == before
    assert not Account.objects.filter(user__in=[charlie, dave]).exists()


def test_a_user_below_zero_cannot_transfer_at_all(ledger_user):
    alice, bob = ledger_user("alice", 10), ledger_user("bob")
    kudos_charge(user=alice, amount=30, event_key="job-charge:1")
    assert user_balance(user=alice) == -20
    before = ledger_counts()

    with pytest.raises(KudosError) as refused:
        kudos_transfer(sender=alice, recipient=bob, amount=1)

    assert refused.value.rc == "KudosTransferNotEnough"
    assert ledger_counts() == before
    assert_ledger_consistent()


def test_a_transfer_id_pays_once(ledger_user):
    alice, bob = ledger_user("alice", 100), ledger_user("bob")
    transfer_id = uuid.uuid4()
    kudos_transfer(sender=alice, recipient=bob, amount=10, transfer_id=transfer_id)
    before = ledger_counts()

    with pytest.raises(DuplicateEvent) as duplicate:
        kudos_transfer(sender=alice, recipient=bob, amount=10, transfer_id=transfer_id)

    assert duplicate.value.rc == "DuplicateEvent"
    assert ledger_counts() == before
    assert user_balance(user=alice) == 90
    assert user_balance(user=bob) == 10


def test_a_positive_adjustment_grants_from_the_staff_account(ledger_user, make_user):
    staff, _ = make_user("staff", is_staff=True)
    alice = ledger_user("alice")

    txn = kudos_adjust(user=alice, amount=500, reason="welcome bonus", staff_user=staff)

    assert txn.kind == Transaction.Kind.ADJUSTMENT
    assert txn.memo == "welcome bonus"
    assert txn.created_by == staff
    assert legs(txn) == {f"user:{alice.pk}": 500, "staff_adjustments": -500}
    assert user_balance(user=alice) == 500
    assert system_balance(SystemAccount.STAFF_ADJUSTMENTS) == -500
    assert_ledger_consistent()


def test_a_negative_adjustment_may_take_a_user_below_zero(ledger_user):
    alice = ledger_user("alice", 100)

    txn = kudos_adjust(user=alice, amount=-150, reason="abuse clawback", staff_user=None)

    assert legs(txn) == {f"user:{alice.pk}": -150, "staff_adjustments": 150}
    assert user_balance(user=alice) == -50
    assert_ledger_consistent()


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_an_adjustment_without_a_reason_is_refused(ledger_user, reason):
    alice = ledger_user("alice")
    before = ledger_counts()

    with pytest.raises(KudosError) as refused:
        kudos_adjust(user=alice, amount=5, reason=reason, staff_user=None)

    assert refused.value.rc == "KudosValidationError"
    assert ledger_counts() == before


def test_an_adjustment_with_an_event_key_pays_once(ledger_user):
    alice = ledger_user("alice")
    kudos_adjust(user=alice, amount=5, reason="seed", staff_user=None, event_key="seed:alice")

    with pytest.raises(DuplicateEvent):
        kudos_adjust(user=alice, amount=5, reason="seed", staff_user=None, event_key="seed:alice")

    assert user_balance(user=alice) == 5


def test_a_charge_pays_generation_spend_and_may_go_below_zero(ledger_user):
    alice = ledger_user("alice", 10)

    txn = kudos_charge(user=alice, amount=25, event_key="job-charge:a", memo="512x512")

    assert txn.kind == Transaction.Kind.GENERATION
    assert txn.memo == "512x512"
    assert txn.created_by is None
    assert legs(txn) == {f"user:{alice.pk}": -25, "generation_spend": 25}
    assert user_balance(user=alice) == -15
    assert system_balance(SystemAccount.GENERATION_SPEND) == 25
    assert_ledger_consistent()


def test_charging_the_anonymous_user_keeps_its_balance_off_the_row(anonymous):
    kudos_charge(user=anonymous, amount=7, event_key="job-charge:anon-1")
    kudos_charge(user=anonymous, amount=3, event_key="job-charge:anon-2")

    account = Account.objects.get(user=anonymous)
    assert account.hot is True
    assert account.balance == 0  # never cached: nothing ever writes the hot row
    assert user_balance(user=anonymous) == -10  # summed from its entries
    assert set(Entry.objects.filter(account=account).values_list("balance_after", flat=True)) == {None}
    assert_ledger_consistent()


def test_a_refund_gives_a_charge_back(ledger_user):
    alice = ledger_user("alice", 100)
    kudos_charge(user=alice, amount=40, event_key="job-charge:r")

    txn = kudos_refund(user=alice, amount=40, event_key="job-refund:r")

    assert txn.kind == Transaction.Kind.REFUND
    assert legs(txn) == {f"user:{alice.pk}": 40, "generation_spend": -40}
    assert user_balance(user=alice) == 100
    assert system_balance(SystemAccount.GENERATION_SPEND) == 0
    assert_ledger_consistent()


def test_a_reward_pays_the_worker_owner_from_worker_rewards(ledger_user):
    owner = ledger_user("owner")

    txn = kudos_reward(user=owner, amount=12, event_key="job-reward:w")

    assert txn.kind == Transaction.Kind.WORKER_REWARD
    assert legs(txn) == {f"user:{owner.pk}": 12, "worker_rewards": -12}
    assert user_balance(user=owner) == 12
    assert system_balance(SystemAccount.WORKER_REWARDS) == -12
    assert_ledger_consistent()


def test_a_rebate_pays_the_rater_from_rating_rebates(ledger_user):
    rater = ledger_user("rater")

    txn = kudos_rebate(user=rater, amount=3, event_key="rating:1")

    assert txn.kind == Transaction.Kind.RATING_REBATE
    assert legs(txn) == {f"user:{rater.pk}": 3, "rating_rebates": -3}
    assert user_balance(user=rater) == 3
    assert system_balance(SystemAccount.RATING_REBATES) == -3
    assert_ledger_consistent()


def test_the_invariant_holds_after_every_step_of_a_busy_day(ledger_user, anonymous):
    alice, bob, owner = ledger_user("alice", 300), ledger_user("bob", 50), ledger_user("owner")
    steps = [
        lambda: kudos_charge(user=alice, amount=80, event_key="c1"),
        lambda: kudos_charge(user=anonymous, amount=20, event_key="c2"),
        lambda: kudos_reward(user=owner, amount=60, event_key="w1"),
        lambda: kudos_reward(user=owner, amount=15, event_key="w2"),
        lambda: kudos_rebate(user=alice, amount=5, event_key="r1"),
        lambda: kudos_transfer(sender=alice, recipient=bob, amount=100),
        lambda: kudos_transfer(sender=bob, recipient=owner, amount=150),
        lambda: kudos_refund(user=alice, amount=80, event_key="f1"),
        lambda: kudos_charge(user=bob, amount=500, event_key="c3"),
        lambda: kudos_adjust(user=bob, amount=-10, reason="fee", staff_user=None),
        lambda: kudos_transfer(sender=owner, recipient=alice, amount=225),
    ]
    for step in steps:
        step()
        assert_ledger_consistent()

    assert user_balance(user=alice) == 300 - 80 + 5 - 100 + 80 + 225
    assert user_balance(user=bob) == 50 + 100 - 150 - 500 - 10
    assert user_balance(user=owner) == 60 + 15 + 150 - 225
    assert user_balance(user=anonymous) == -20
    assert Transaction.objects.count() == 2 + len(steps)  # two grants from the fixture


def test_a_failure_later_in_the_callers_transaction_undoes_the_movement(ledger_user):
    alice = ledger_user("alice", 100)
    before = ledger_counts()

    with pytest.raises(RuntimeError), transaction.atomic():
        kudos_charge(user=alice, amount=30, event_key="job-charge:rolled-back")
        raise RuntimeError("the job's completion failed after the charge")

    assert ledger_counts() == before
    assert user_balance(user=alice) == 100
    # The event never happened, so it can still pay.
    kudos_charge(user=alice, amount=30, event_key="job-charge:rolled-back")
    assert user_balance(user=alice) == 70


def test_account_lookups_make_users_cold_and_anonymous_and_system_accounts_hot(ledger_user, anonymous):
    alice = ledger_user("alice")

    assert account_for_user(alice).hot is False
    assert account_for_user(alice) == account_for_user(alice)  # one account per user
    assert account_for_user(anonymous).hot is True
    assert system_account(SystemAccount.WORKER_REWARDS).hot is True
    assert Account.objects.filter(user=alice).count() == 1


def test_hot_accounts_are_created_on_demand_if_missing(ledger_user, anonymous):
    # Ensures a database whose accounts were wiped (e.g. a flush) still works.
    Account.objects.filter(hot=True).delete()

    kudos_charge(user=anonymous, amount=4, event_key="job-charge:after-flush")

    assert Account.objects.get(user=anonymous).hot is True
    assert Account.objects.get(code=SystemAccount.GENERATION_SPEND.value).hot is True
    assert_ledger_consistent()


def test_the_selectors_read_history_and_totals_per_kind(ledger_user):
    alice, bob = ledger_user("alice", 100), ledger_user("bob")
    kudos_charge(user=alice, amount=10, event_key="c")
    kudos_rebate(user=alice, amount=2, event_key="r")
    kudos_transfer(sender=alice, recipient=bob, amount=30)

    history = list(user_entries(user=alice))
    assert [entry.amount for entry in history] == [-30, 2, -10, 100]  # newest first
    assert [entry.balance_after for entry in history] == [62, 92, 90, 100]
    assert user_balance(user=ledger_user("nobody")) == 0
