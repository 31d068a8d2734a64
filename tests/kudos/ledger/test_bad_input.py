"""Bad amounts, bad parties and bad event keys are refused with the right rc and change nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kudos.selectors import user_balance
from kudos.services import (
    MAX_AMOUNT,
    KudosError,
    kudos_adjust,
    kudos_charge,
    kudos_rebate,
    kudos_refund,
    kudos_reward,
    kudos_transfer,
)

from .helpers import assert_ledger_consistent, cached_balances, ledger_counts

pytestmark = pytest.mark.django_db

# (amount, rc) for the entry points that take a positive amount.
BAD_AMOUNTS = [
    (0, "NegativeKudosTransfer"),
    (-5, "NegativeKudosTransfer"),
    (-MAX_AMOUNT - 1, "NegativeKudosTransfer"),
    (1.5, "KudosValidationError"),
    (10.0, "KudosValidationError"),
    ("10", "KudosValidationError"),
    (True, "KudosValidationError"),
    (None, "KudosValidationError"),
    (Decimal("10"), "KudosValidationError"),
    (MAX_AMOUNT + 1, "KudosValidationError"),
    (10**30, "KudosValidationError"),
]
ENTRY_POINTS = {
    "charge": kudos_charge,
    "refund": kudos_refund,
    "reward": kudos_reward,
    "rebate": kudos_rebate,
}


@pytest.fixture
def pair(ledger_user):
    return ledger_user("alice", 100), ledger_user("bob", 100)


def assert_nothing_changed(before_counts, before_balances):
    assert ledger_counts() == before_counts
    assert cached_balances() == before_balances
    assert_ledger_consistent()


@pytest.mark.parametrize(("amount", "rc"), BAD_AMOUNTS)
def test_a_transfer_of_a_bad_amount_is_refused(pair, amount, rc):
    alice, bob = pair
    counts, balances = ledger_counts(), cached_balances()

    with pytest.raises(KudosError) as refused:
        kudos_transfer(sender=alice, recipient=bob, amount=amount)

    assert refused.value.rc == rc
    assert refused.value.message
    assert_nothing_changed(counts, balances)


@pytest.mark.parametrize(("amount", "rc"), BAD_AMOUNTS)
@pytest.mark.parametrize("entry_point", ENTRY_POINTS)
def test_a_charge_refund_reward_or_rebate_of_a_bad_amount_is_refused(pair, entry_point, amount, rc):
    alice, _ = pair
    counts, balances = ledger_counts(), cached_balances()

    with pytest.raises(KudosError) as refused:
        ENTRY_POINTS[entry_point](user=alice, amount=amount, event_key=f"bad:{entry_point}")

    assert refused.value.rc == rc
    assert_nothing_changed(counts, balances)


@pytest.mark.parametrize("amount", [0, 1.5, "10", True, None, MAX_AMOUNT + 1, -MAX_AMOUNT - 1])
def test_an_adjustment_of_a_bad_amount_is_refused(pair, amount):
    alice, _ = pair
    counts, balances = ledger_counts(), cached_balances()

    with pytest.raises(KudosError) as refused:
        kudos_adjust(user=alice, amount=amount, reason="typo", staff_user=None)

    assert refused.value.rc == "KudosValidationError"
    assert_nothing_changed(counts, balances)


def test_the_largest_allowed_amount_is_accepted(pair):
    alice, bob = pair
    kudos_adjust(user=alice, amount=MAX_AMOUNT, reason="whale", staff_user=None)
    kudos_transfer(sender=alice, recipient=bob, amount=MAX_AMOUNT)
    assert user_balance(user=bob) == MAX_AMOUNT + 100
    assert_ledger_consistent()


def test_a_transfer_to_yourself_is_refused(pair):
    alice, _ = pair
    counts, balances = ledger_counts(), cached_balances()

    with pytest.raises(KudosError) as refused:
        kudos_transfer(sender=alice, recipient=alice, amount=10)

    assert refused.value.rc == "KudosTransferToSelf"
    assert_nothing_changed(counts, balances)


def test_a_transfer_from_the_anonymous_user_is_refused(pair, anonymous):
    _, bob = pair
    kudos_charge(user=anonymous, amount=1, event_key="anon-touch")  # its account exists
    counts, balances = ledger_counts(), cached_balances()

    with pytest.raises(KudosError) as refused:
        kudos_transfer(sender=anonymous, recipient=bob, amount=10)

    assert refused.value.rc == "KudosTransferFromAnon"
    assert_nothing_changed(counts, balances)


def test_a_transfer_to_the_anonymous_user_is_refused(pair, anonymous):
    alice, _ = pair
    counts, balances = ledger_counts(), cached_balances()

    with pytest.raises(KudosError) as refused:
        kudos_transfer(sender=alice, recipient=anonymous, amount=10)

    assert refused.value.rc == "KudosTransferToAnon"
    assert_nothing_changed(counts, balances)


def test_the_amount_is_checked_before_the_parties(pair, anonymous):
    alice, _ = pair
    with pytest.raises(KudosError) as refused:
        kudos_transfer(sender=alice, recipient=anonymous, amount=-1)
    assert refused.value.rc == "NegativeKudosTransfer"


@pytest.mark.parametrize("event_key", ["", "   ", None, 42, "x" * 201])
@pytest.mark.parametrize("entry_point", ENTRY_POINTS)
def test_a_missing_or_malformed_event_key_is_refused(pair, entry_point, event_key):
    alice, _ = pair
    counts, balances = ledger_counts(), cached_balances()

    with pytest.raises(KudosError) as refused:
        ENTRY_POINTS[entry_point](user=alice, amount=5, event_key=event_key)

    assert refused.value.rc == "KudosValidationError"
    assert_nothing_changed(counts, balances)


def test_an_event_key_of_the_full_column_width_is_accepted(pair):
    alice, _ = pair
    kudos_reward(user=alice, amount=5, event_key="k" * 200)
    assert user_balance(user=alice) == 105


def test_a_refused_charge_for_a_new_user_leaves_no_account_behind(ledger_user):
    newcomer = ledger_user("newcomer")
    counts = ledger_counts()

    with pytest.raises(KudosError):
        kudos_charge(user=newcomer, amount=5, event_key="")

    assert ledger_counts() == counts
