"""Several postings in one caller transaction, with the parties crossed, on PostgreSQL.

A job completion charges the requester and rewards the worker's owner in one
transaction. When Alice's worker serves Bob while Bob's worker serves Alice, the
two completions lock the same two rows in opposite orders. A pair: posting one by
one deadlocks; `kudos_lock_accounts` first (both parties, sorted) makes them queue.
"""

from __future__ import annotations

import time

import pytest
from django.db import OperationalError, transaction

from accounts.models import ANONYMOUS_USER_ID, User
from accounts.services import user_create
from kudos.selectors import user_balance
from kudos.services import kudos_adjust, kudos_charge, kudos_lock_accounts, kudos_reward

from .helpers import assert_ledger_consistent, run_together

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("migration_rows")]
# Long enough that both completions hold their first row before either asks for the second.
BETWEEN_POSTINGS_S = 0.3


def complete_job(*, requester: User, owner: User, job: str, lock_first: bool) -> None:
    with transaction.atomic():
        if lock_first:
            kudos_lock_accounts(users=[requester, owner])
        kudos_charge(user=requester, amount=10, event_key=f"{job}:charge")
        time.sleep(BETWEEN_POSTINGS_S)  # storing the image, marking the job done...
        kudos_reward(user=owner, amount=4, event_key=f"{job}:reward")


@pytest.fixture
def crossed():
    alice, bob = user_create(username="alice"), user_create(username="bob")
    for user in (alice, bob):
        kudos_adjust(user=user, amount=100, reason="start", staff_user=None)
    return alice, bob


def test_crossed_completions_posting_one_by_one_deadlock(crossed):
    alice, bob = crossed

    outcomes = run_together(
        [
            lambda: complete_job(requester=alice, owner=bob, job="job-a", lock_first=False),
            lambda: complete_job(requester=bob, owner=alice, job="job-b", lock_first=False),
        ]
    )

    errors = [o.error for o in outcomes if o.error is not None]
    assert len(errors) == 1  # PostgreSQL broke the cycle by aborting one completion
    assert isinstance(errors[0], OperationalError)
    assert "deadlock detected" in str(errors[0])
    assert_ledger_consistent()  # the aborted one left nothing behind


def test_crossed_completions_that_lock_their_parties_first_both_succeed(crossed):
    alice, bob = crossed

    outcomes = run_together(
        [
            lambda: complete_job(requester=alice, owner=bob, job="job-a", lock_first=True),
            lambda: complete_job(requester=bob, owner=alice, job="job-b", lock_first=True),
        ]
    )

    assert [o.error for o in outcomes if o.error] == []
    assert user_balance(user=alice) == 100 - 10 + 4
    assert user_balance(user=bob) == 100 - 10 + 4
    assert_ledger_consistent()


def test_locking_skips_the_anonymous_user_and_creates_missing_accounts():
    anonymous = User.objects.get(pk=ANONYMOUS_USER_ID)
    newcomer = user_create(username="newcomer")

    with transaction.atomic():
        kudos_lock_accounts(users=[anonymous, newcomer, newcomer])
        kudos_charge(user=anonymous, amount=3, event_key="anon-job:charge")
        kudos_reward(user=newcomer, amount=3, event_key="anon-job:reward")

    assert user_balance(user=newcomer) == 3
    assert_ledger_consistent()


def test_locking_outside_a_transaction_is_a_mistake():
    with pytest.raises(RuntimeError):
        kudos_lock_accounts(users=[user_create(username="alice")])
