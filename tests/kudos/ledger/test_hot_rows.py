"""Hot accounts are never row-locked; a user's cached balance row is, on PostgreSQL.

A pair: while one transaction that charged the anonymous user (and paid a reward out
of worker_rewards) stays open, another request charging the anonymous user and paying
from worker_rewards completes at once. A regular user's charges, on the contrary, queue
on the user's balance row: the second waits until the first commits, which is exactly
what would happen to every anonymous request if the anonymous user kept a cached balance.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from django.db import connection, transaction

from accounts.models import ANONYMOUS_USER_ID, User
from accounts.services import user_create
from kudos.models import Account, Entry, SystemAccount, Transaction
from kudos.selectors import system_balances, user_balance
from kudos.services import kudos_adjust, kudos_charge, kudos_reward

from .helpers import assert_ledger_consistent, run_together

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("migration_rows")]

QUICK_S = 5.0  # "completes quickly": the first stays open for up to 30 s unless released
BLOCKED_S = 1.0  # how long we watch a request that should be waiting


class HeldOpen:
    """Run `posts` in a thread inside one transaction and keep it open until `release()`."""

    def __init__(self, posts: Callable[[], None]) -> None:
        self.posts = posts
        self.holding = threading.Event()
        self.committed = threading.Event()
        self._release = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            with transaction.atomic():
                self.posts()
                self.holding.set()
                self._release.wait(timeout=30)
            self.committed.set()
        except BaseException as exc:
            self.error = exc
        finally:
            self.holding.set()
            connection.close()

    def __enter__(self) -> HeldOpen:
        self.thread.start()
        assert self.holding.wait(timeout=10)
        assert self.error is None, self.error
        return self

    def release(self) -> None:
        self._release.set()
        self.thread.join(timeout=10)
        assert not self.thread.is_alive()

    def __exit__(self, *exc_info) -> None:
        self.release()


class Background:
    """Run `work` in a thread; `done` is set when it finishes (successfully or not)."""

    def __init__(self, work: Callable[[], None]) -> None:
        self.work = work
        self.done = threading.Event()
        self.error: BaseException | None = None
        self.elapsed: float | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        started = time.monotonic()
        try:
            self.work()
        except BaseException as exc:
            self.error = exc
        finally:
            self.elapsed = time.monotonic() - started
            connection.close()
            self.done.set()


def committed(event_key: str) -> bool:
    """Whether a transaction with this key is visible to the test's own connection."""
    return Transaction.objects.filter(event_key=event_key).exists()


def lock_waiters() -> int:
    """Backends of this test database that are waiting for a lock right now."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def test_charging_the_anonymous_user_never_waits_for_another_open_charge():
    anonymous = User.objects.get(pk=ANONYMOUS_USER_ID)
    owner1, owner2 = user_create(username="owner1"), user_create(username="owner2")

    def first_request():
        kudos_charge(user=anonymous, amount=5, event_key="job:held:charge")
        kudos_reward(user=owner1, amount=2, event_key="job:held:reward")

    def second_request():
        kudos_charge(user=anonymous, amount=3, event_key="job:quick:charge")
        kudos_reward(user=owner2, amount=1, event_key="job:quick:reward")

    with HeldOpen(first_request) as held:
        second = Background(second_request)

        assert second.done.wait(timeout=QUICK_S), "a charge of the anonymous user waited on a hot row"
        assert second.error is None, second.error
        # The first transaction really was still open while the second completed.
        assert not held.committed.is_set()
        assert not committed("job:held:charge")
        assert committed("job:quick:charge")

    assert held.error is None, held.error
    assert committed("job:held:charge")
    assert user_balance(user=anonymous) == -8
    assert system_balances()[SystemAccount.WORKER_REWARDS.value] == -3
    assert Account.objects.get(user=anonymous).balance == 0
    assert_ledger_consistent()


def test_a_regular_users_charges_queue_on_the_users_balance_row():
    alice = user_create(username="alice")
    kudos_adjust(user=alice, amount=100, reason="start", staff_user=None)

    with HeldOpen(lambda: kudos_charge(user=alice, amount=5, event_key="job:held")) as held:
        second = Background(lambda: kudos_charge(user=alice, amount=3, event_key="job:waiting"))

        assert not second.done.wait(timeout=BLOCKED_S), "the second charge did not wait for the first"
        assert lock_waiters() >= 1  # it is parked on alice's row lock, not merely slow
        assert not committed("job:waiting")
        held.release()

        assert second.done.wait(timeout=10)
    assert second.error is None, second.error
    assert held.error is None, held.error
    assert second.elapsed >= BLOCKED_S
    assert user_balance(user=alice) == 92
    # It read the balance after the first charge committed: the running balance is exact.
    waiting_entry = Entry.objects.get(transaction__event_key="job:waiting", account__user=alice)
    assert waiting_entry.balance_after == 92
    assert_ledger_consistent()


def test_many_threads_charging_the_anonymous_user_all_succeed_and_add_up():
    anonymous = User.objects.get(pk=ANONYMOUS_USER_ID)
    threads, charges = 12, 10

    def burst(thread: int):
        for charge in range(charges):
            kudos_charge(user=anonymous, amount=1 + charge, event_key=f"burst:{thread}:{charge}")

    outcomes = run_together([lambda thread=thread: burst(thread) for thread in range(threads)])

    assert [o.error for o in outcomes if o.error] == []
    assert user_balance(user=anonymous) == -threads * sum(range(1, charges + 1))
    assert_ledger_consistent()
