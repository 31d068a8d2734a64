"""The sign-up grant (HORDE_SIGNUP_KUDOS): through the ledger, once per user; none by default."""

from __future__ import annotations

import pytest

from accounts.adapter import signup_grant
from accounts.models import User
from kudos.models import Transaction
from kudos.selectors import user_balance

pytestmark = pytest.mark.django_db

SIGNUP = {
    "username": "dora",
    "email": "dora@example.com",
    "password1": "a-long-enough-pass-phrase",
    "password2": "a-long-enough-pass-phrase",
}


def test_a_new_account_gets_the_configured_grant_once_through_the_ledger(client, settings):
    settings.HORDE_SIGNUP_KUDOS = 50
    assert client.post("/accounts/signup/", SIGNUP).status_code == 302
    dora = User.objects.get(username="dora")
    assert user_balance(user=dora) == 50
    grant = Transaction.objects.get(event_key=f"signup-grant:{dora.pk}")
    assert grant.kind == Transaction.Kind.ADJUSTMENT
    # A second call (a retried hook) pays nothing more: the event key decides.
    signup_grant(user=dora)
    assert user_balance(user=dora) == 50
    assert Transaction.objects.filter(event_key__startswith="signup-grant:").count() == 1
    # The header shows it on the next page.
    assert 'id="header-balance" class="">50<' in client.get("/generate").content.decode()


def test_by_default_a_new_account_starts_at_zero_with_no_ledger_entry(client, settings):
    assert settings.HORDE_SIGNUP_KUDOS == 0
    client.post("/accounts/signup/", SIGNUP)
    dora = User.objects.get(username="dora")
    assert user_balance(user=dora) == 0
    assert not Transaction.objects.filter(event_key__startswith="signup-grant:").exists()
