"""Many threads transferring between the same few accounts, in both directions, on PostgreSQL.

A pair: a deliberately naive transfer (read the balance, check it, write; no row lock)
overdraws or loses kudos; `kudos_transfer`, which locks the balance rows in id order
before it reads them, never does, and never deadlocks.
"""

from __future__ import annotations

import contextlib
import random
import time
import uuid

import pytest
from django.db import OperationalError, transaction
from django.db.models import Sum

from accounts.models import User
from accounts.services import user_create
from kudos.models import Account, Entry, Transaction
from kudos.services import KudosError, account_for_user, kudos_adjust, kudos_transfer

from .helpers import assert_ledger_consistent, run_together

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("migration_rows")]

USERS = 3
START = 100
THREADS = 12
TRANSFERS_PER_THREAD = 8
# The read-to-write window both versions get: long enough for the threads to overlap.
WINDOW_S = 0.005


@pytest.fixture
def widen_the_window():
    """Sleep just before a transfer writes its entries, i.e. after it has read and checked the balance."""
    manager = Entry.objects  # one manager instance, shared by every thread
    bulk_create = manager.bulk_create

    def slow_bulk_create(*args, **kwargs):
        time.sleep(WINDOW_S)
        return bulk_create(*args, **kwargs)

    manager.bulk_create = slow_bulk_create  # shadows the class's method on this instance only
    yield
    del manager.bulk_create


def make_users(prefix: str) -> list[User]:
    users = [user_create(username=f"{prefix}{i}") for i in range(USERS)]
    for user in users:
        kudos_adjust(user=user, amount=START, reason="start", staff_user=None)
    return users


def plan(users: list[User], seed: int) -> list[tuple[User, User, int]]:
    """Transfers between random pairs of the accounts, both directions, often more than a balance."""
    rng = random.Random(seed)
    moves = []
    for _ in range(TRANSFERS_PER_THREAD):
        sender, recipient = rng.sample(users, 2)
        moves.append((sender, recipient, rng.randint(20, 90)))
    return moves


class NaiveNotEnough(Exception):
    pass


def naive_transfer(*, sender: User, recipient: User, amount: int) -> None:
    """What kudos_transfer must not be: check-then-write on balances read without a lock.

    Everything else matches the real service (one transaction, balanced entries,
    writes in id order so it cannot deadlock), so the missing lock is the only difference.
    """
    with transaction.atomic():
        source, target = account_for_user(sender), account_for_user(recipient)  # plain reads: no FOR UPDATE
        if source.balance < amount:
            raise NaiveNotEnough
        txn = Transaction.objects.create(kind=Transaction.Kind.TRANSFER, event_key=f"naive:{uuid.uuid4()}")
        Entry.objects.bulk_create(  # sleeps WINDOW_S first: the race window
            [
                Entry(transaction=txn, account=source, amount=-amount, balance_after=source.balance - amount),
                Entry(transaction=txn, account=target, amount=amount, balance_after=target.balance + amount),
            ]
        )
        new_balances = {source.pk: source.balance - amount, target.pk: target.balance + amount}
        for pk in sorted(new_balances):
            Account.objects.filter(pk=pk).update(balance=new_balances[pk])


def race_symptoms(users: list[User]) -> list[str]:
    accounts = list(Account.objects.filter(user__in=users))
    sums = dict(
        Entry.objects.filter(account__in=accounts)
        .values("account_id")
        .annotate(total=Sum("amount"))
        .values_list("account_id", "total")
    )
    symptoms = []
    for account in accounts:
        if account.balance < 0 or sums[account.pk] < 0:
            symptoms.append(f"{account} overdrawn: cached {account.balance}, entries {sums[account.pk]}")
        if account.balance != sums[account.pk]:
            symptoms.append(f"{account} lost an update: cached {account.balance}, entries {sums[account.pk]}")
    total = sum(account.balance for account in accounts)
    if total != START * USERS:
        symptoms.append(f"kudos not conserved: {total} cached across the accounts, {START * USERS} put in")
    return symptoms


def test_without_a_row_lock_concurrent_transfers_overdraw_or_lose_kudos(widen_the_window):
    symptoms: list[str] = []
    for attempt in range(5):  # the race is a race: retry a bounded number of times
        users = make_users(f"naive{attempt}-")

        def round_of(seed: int, users: list[User] = users):
            for sender, recipient, amount in plan(users, seed):
                with contextlib.suppress(NaiveNotEnough):
                    naive_transfer(sender=sender, recipient=recipient, amount=amount)

        outcomes = run_together([lambda seed=seed: round_of(seed) for seed in range(THREADS)])
        unexpected = [o.error for o in outcomes if o.error and not isinstance(o.error, OperationalError)]
        assert not unexpected, unexpected
        symptoms = race_symptoms(users)
        if symptoms:
            break
    assert symptoms, "the naive transfer never raced: the test no longer shows the hazard"
    print(f"naive transfers raced on attempt {attempt + 1}: {symptoms}")


def test_kudos_transfer_never_overdraws_or_loses_a_unit_under_contention(widen_the_window):
    users = make_users("guarded-")
    before = Transaction.objects.filter(kind=Transaction.Kind.TRANSFER).count()

    def round_of(seed: int) -> tuple[int, int]:
        done = refused = 0
        for sender, recipient, amount in plan(users, seed):
            try:
                kudos_transfer(sender=sender, recipient=recipient, amount=amount)
                done += 1
            except KudosError as exc:
                assert exc.rc == "KudosTransferNotEnough", exc.rc
                refused += 1
        return done, refused

    outcomes = run_together([lambda seed=seed: round_of(seed) for seed in range(THREADS)])

    # No deadlock, no serialization failure, nothing but "not enough kudos".
    assert [o.error for o in outcomes if o.error] == []
    done = sum(o.value[0] for o in outcomes)
    refused = sum(o.value[1] for o in outcomes)
    assert done + refused == THREADS * TRANSFERS_PER_THREAD
    assert done > 0 and refused > 0  # both paths ran under contention
    assert race_symptoms(users) == []
    accounts = Account.objects.filter(user__in=users)
    assert sum(account.balance for account in accounts) == START * USERS
    assert not Entry.objects.filter(account__in=accounts, balance_after__lt=0).exists()
    assert Transaction.objects.filter(kind=Transaction.Kind.TRANSFER).count() - before == done
    assert_ledger_consistent()


def test_transfers_in_opposite_directions_between_two_users_never_deadlock():
    alice, bob = make_users("pair-")[:2]

    def back_and_forth(forward: bool):
        for _ in range(15):
            sender, recipient = (alice, bob) if forward else (bob, alice)
            try:
                kudos_transfer(sender=sender, recipient=recipient, amount=7)
            except KudosError as exc:
                assert exc.rc == "KudosTransferNotEnough"

    outcomes = run_together([lambda forward=i % 2 == 0: back_and_forth(forward) for i in range(THREADS)])

    assert [o.error for o in outcomes if o.error] == []
    accounts = Account.objects.filter(user__in=[alice, bob])
    assert sum(account.balance for account in accounts) == 2 * START
    assert all(account.balance >= 0 for account in accounts)
    assert_ledger_consistent()


def test_users_without_accounts_sending_each_other_kudos_are_refused_without_deadlock():
    # Neither has an account: each transfer must be refused, and must not create the
    # two accounts in opposite orders (which, inside one transaction, can deadlock).
    pairs = [(user_create(username=f"x{i}"), user_create(username=f"y{i}")) for i in range(6)]

    def send_all(forward: bool):
        for x, y in pairs:
            sender, recipient = (x, y) if forward else (y, x)
            with pytest.raises(KudosError) as refused:
                kudos_transfer(sender=sender, recipient=recipient, amount=1)
            assert refused.value.rc == "KudosTransferNotEnough"

    outcomes = run_together([lambda forward=i % 2 == 0: send_all(forward) for i in range(4)])

    assert [o.error for o in outcomes if o.error] == []
    assert not Account.objects.filter(user__in=[user for pair in pairs for user in pair]).exists()
    assert not Transaction.objects.filter(kind=Transaction.Kind.TRANSFER).exists()
