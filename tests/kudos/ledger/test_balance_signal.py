"""`kudos.signals.balance_changed`: sent after the commit of a posting, naming the users whose
balance it moved (the apps above follow balances through it: the queue's priority)."""

from __future__ import annotations

import pytest

from kudos.services import KudosError, Movement, kudos_charge_many, kudos_transfer
from kudos.signals import balance_changed

pytestmark = pytest.mark.django_db


@pytest.fixture
def heard():
    got: list[list[int]] = []

    def receiver(*, user_ids, **kwargs) -> None:
        got.append(list(user_ids))

    balance_changed.connect(receiver, dispatch_uid="test-heard")
    yield got
    balance_changed.disconnect(dispatch_uid="test-heard")


def test_it_names_both_parties_of_a_transfer_after_the_commit_only(
    ledger_user, heard, django_capture_on_commit_callbacks
):
    alice, bob = ledger_user("alice", 100), ledger_user("bob")
    with django_capture_on_commit_callbacks() as callbacks:
        kudos_transfer(sender=alice, recipient=bob, amount=40)
        assert heard == []  # nothing before the commit
    for callback in callbacks:
        callback()
    assert heard == [sorted([alice.pk, bob.pk])]


def test_a_refused_posting_and_a_hot_account_tell_nobody(
    ledger_user, anonymous, heard, django_capture_on_commit_callbacks
):
    alice, bob = ledger_user("alice", 10), ledger_user("bob")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(KudosError):
            kudos_transfer(sender=alice, recipient=bob, amount=11)  # overdraft: refused, rolled back
        kudos_charge_many(user=anonymous, charges=[Movement("job-charge:test-anon", 5)])  # keeps no balance
    assert callbacks == [] and heard == []
