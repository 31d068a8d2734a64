"""Many threads posting the same event at once, on PostgreSQL.

A pair: a Python-only guard (check whether the event has paid, then pay) pays more
than once when the checks overlap; the ledger's unique event key pays exactly once.
"""

from __future__ import annotations

import time
import uuid

import pytest
from django.db import transaction

from accounts.models import User
from accounts.services import user_create
from kudos.models import Transaction
from kudos.selectors import user_balance
from kudos.services import DuplicateEvent, kudos_adjust, kudos_charge, kudos_reward, kudos_transfer

from .helpers import assert_ledger_consistent, run_together

THREADS = 10
REWARD = 10


class AlreadyPaid(Exception):
    pass


def naive_pay_once(*, user: User, event: str) -> None:
    """A Python-only "pay once" guard: look for the event, then pay.

    Each payment is posted under its own suffixed key, as if the event key had no
    unique index: only the `exists()` check stands between the event and a second payment.
    """
    with transaction.atomic():
        if Transaction.objects.filter(event_key__startswith=f"{event}#").exists():
            raise AlreadyPaid
        time.sleep(0.01)  # the window between the check and the write
        kudos_reward(user=user, amount=REWARD, event_key=f"{event}#{uuid.uuid4().hex}")


@pytest.mark.django_db
def test_the_naive_guard_does_stop_a_second_payment_made_afterwards():
    # So the race below shows a race, not a guard that never worked.
    owner = user_create(username="owner")
    naive_pay_once(user=owner, event="job:1")

    with pytest.raises(AlreadyPaid):
        naive_pay_once(user=owner, event="job:1")

    assert user_balance(user=owner) == REWARD


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("migration_rows")
def test_without_a_unique_key_a_duplicated_event_pays_more_than_once():
    paid = 0
    for attempt in range(5):  # bounded retries: it is a race
        owner = user_create(username=f"naive-owner-{attempt}")
        event = f"job:naive-{attempt}"
        outcomes = run_together([lambda owner=owner, event=event: naive_pay_once(user=owner, event=event)] * THREADS)
        assert all(o.error is None or isinstance(o.error, AlreadyPaid) for o in outcomes), outcomes
        paid = Transaction.objects.filter(event_key__startswith=f"{event}#").count()
        if paid > 1:
            break
    assert paid > 1, "the naive guard never raced: the test no longer shows the hazard"
    assert user_balance(user=owner) == paid * REWARD  # the owner really got paid several times


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("migration_rows")
def test_a_duplicated_event_pays_exactly_once():
    owner = user_create(username="owner")

    outcomes = run_together([lambda: kudos_reward(user=owner, amount=REWARD, event_key="job:dup")] * THREADS)

    errors = [o.error for o in outcomes if o.error is not None]
    assert len(errors) == THREADS - 1
    assert all(isinstance(error, DuplicateEvent) for error in errors), errors
    assert Transaction.objects.filter(event_key="job:dup").count() == 1
    assert user_balance(user=owner) == REWARD
    assert_ledger_consistent()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("migration_rows")
def test_a_duplicated_charge_of_the_anonymous_user_pays_exactly_once():
    anonymous = User.objects.get(pk=0)

    outcomes = run_together([lambda: kudos_charge(user=anonymous, amount=6, event_key="job:anon-dup")] * THREADS)

    assert sum(o.error is None for o in outcomes) == 1
    assert all(isinstance(o.error, DuplicateEvent) for o in outcomes if o.error is not None)
    assert user_balance(user=anonymous) == -6
    assert_ledger_consistent()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("migration_rows")
def test_a_retried_transfer_id_moves_kudos_exactly_once():
    alice, bob = user_create(username="alice"), user_create(username="bob")
    kudos_adjust(user=alice, amount=100, reason="start", staff_user=None)
    transfer_id = uuid.uuid4()

    outcomes = run_together(
        [lambda: kudos_transfer(sender=alice, recipient=bob, amount=30, transfer_id=transfer_id)] * THREADS
    )

    assert sum(o.error is None for o in outcomes) == 1
    assert all(isinstance(o.error, DuplicateEvent) for o in outcomes if o.error is not None)
    assert user_balance(user=alice) == 70
    assert user_balance(user=bob) == 30
    assert_ledger_consistent()
