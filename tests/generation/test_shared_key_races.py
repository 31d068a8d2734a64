"""Two requests at once on a shared key with allowance for one, on PostgreSQL with threads.

The pair: a naive spend (read the allowance, then write what is left) lets both requests
through once both have read it, and the key counts only one of them; `shared_key_spend`
(one compare-and-swap UPDATE that re-checks the allowance on the row) lets exactly one
through, whatever the interleaving. Both runs force the same interleaving: each request
passes the key check before either spends.
"""

from __future__ import annotations

import threading

import pytest

from accounts.models import SharedKey
from accounts.services import SharedKeyRefused, shared_key_create
from generation.models import GenerationRequest
from generation.services import request_submit
from generation.services import submit as submit_module
from generation.services.errors import RequestRefused
from kudos.selectors import user_balance
from tests.kudos.ledger.helpers import run_together

from .conftest import body

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _no_celery(settings):
    settings.HORDE_CELERY_DISPATCH = False


@pytest.fixture
def both_checked(monkeypatch):
    """Hold each request after its key check until both have passed it."""
    barrier = threading.Barrier(2)
    checked = submit_module.shared_key_check

    def check_then_wait(**kwargs):
        checked(**kwargs)
        barrier.wait(timeout=30)

    monkeypatch.setattr(submit_module, "shared_key_check", check_then_wait)


def race(owner, shared_key) -> list:
    def submit():
        key = SharedKey.objects.get(pk=shared_key.pk)
        return request_submit(user=owner, body=body(), shared_key=key)

    return run_together([submit, submit])


def setup_key(alice) -> tuple[SharedKey, int]:
    cost = request_submit(user=alice[0], body={**body(), "dry_run": True}).kudos
    shared_key, _ = shared_key_create(user=alice[0], settings={"kudos": cost})
    return shared_key, cost


def test_without_the_compare_and_swap_both_requests_spend_the_last_of_the_allowance(
    demo_models, alice, both_checked, monkeypatch
):
    shared_key, cost = setup_key(alice)
    read_both = threading.Barrier(2)

    def naive_spend(*, shared_key, amount):
        current = SharedKey.objects.get(pk=shared_key.pk)
        if current.kudos != -1 and current.kudos < amount:
            raise SharedKeyRefused(403, "SharedKeyInsufficientKudos", "not enough")
        read_both.wait(timeout=30)
        SharedKey.objects.filter(pk=shared_key.pk).update(
            kudos=current.kudos - amount, utilized=current.utilized + amount
        )

    monkeypatch.setattr(submit_module, "shared_key_spend", naive_spend)
    outcomes = race(alice[0], shared_key)
    assert [outcome.error for outcome in outcomes] == [None, None]
    shared_key.refresh_from_db()
    # Two requests paid with an allowance for one, and the key counts only one of them.
    assert GenerationRequest.objects.filter(shared_key=shared_key).count() == 2
    assert (shared_key.kudos, shared_key.utilized) == (0, cost)


def test_with_the_compare_and_swap_exactly_one_request_spends_the_allowance(demo_models, alice, both_checked):
    shared_key, cost = setup_key(alice)
    outcomes = race(alice[0], shared_key)
    errors = [outcome.error for outcome in outcomes]
    assert errors.count(None) == 1, errors
    refused = next(error for error in errors if error is not None)
    assert isinstance(refused, RequestRefused)
    assert (refused.status_code, refused.rc) == (403, "SharedKeyEmpty")
    shared_key.refresh_from_db()
    assert (shared_key.kudos, shared_key.utilized) == (0, cost)
    assert GenerationRequest.objects.filter(shared_key=shared_key).count() == 1
    # The refused request left no charge behind: the owner paid for one request.
    assert user_balance(user=alice[0]) == 1000 - cost
