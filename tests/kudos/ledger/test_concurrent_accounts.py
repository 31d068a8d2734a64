"""Accounts are created on first use; concurrent first uses still make exactly one account."""

from __future__ import annotations

import pytest

from accounts.models import ANONYMOUS_USER_ID, User
from accounts.services import user_create
from kudos.models import Account, SystemAccount
from kudos.selectors import user_balance
from kudos.services import kudos_charge, kudos_reward

from .helpers import assert_ledger_consistent, run_together

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("migration_rows")]
THREADS = 10


def test_concurrent_first_payments_to_a_new_user_make_one_account():
    newcomer = user_create(username="newcomer")
    assert not Account.objects.filter(user=newcomer).exists()

    outcomes = run_together(
        [lambda i=i: kudos_reward(user=newcomer, amount=i + 1, event_key=f"first:{i}") for i in range(THREADS)]
    )

    assert [o.error for o in outcomes if o.error] == []
    assert Account.objects.filter(user=newcomer).count() == 1
    assert user_balance(user=newcomer) == sum(range(1, THREADS + 1))
    assert_ledger_consistent()


def test_concurrent_first_charges_recreate_missing_hot_accounts_once():
    Account.objects.filter(hot=True).delete()  # as on a database the migration never filled
    anonymous = User.objects.get(pk=ANONYMOUS_USER_ID)

    outcomes = run_together(
        [lambda i=i: kudos_charge(user=anonymous, amount=2, event_key=f"anon-first:{i}") for i in range(THREADS)]
    )

    assert [o.error for o in outcomes if o.error] == []
    assert Account.objects.filter(user=anonymous, hot=True).count() == 1
    assert Account.objects.filter(code=SystemAccount.GENERATION_SPEND.value, hot=True).count() == 1
    assert user_balance(user=anonymous) == -2 * THREADS
    assert_ledger_consistent()
