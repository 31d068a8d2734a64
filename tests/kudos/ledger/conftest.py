"""Fixtures for the ledger tests."""

from __future__ import annotations

import pytest

from accounts.models import ANONYMOUS_USER_ID, User


@pytest.fixture
def anonymous(db) -> User:
    """The anonymous user (id 0), created by migration accounts/0002."""
    return User.objects.get(pk=ANONYMOUS_USER_ID)


@pytest.fixture
def ledger_user(db):
    """Create a plain user (no API key), granted `kudos` through a staff adjustment."""
    from accounts.services import user_create
    from kudos.services import kudos_adjust

    def make(username: str, kudos: int = 0) -> User:
        user = user_create(username=username)
        if kudos:
            kudos_adjust(user=user, amount=kudos, reason="test grant", staff_user=None)
        return user

    return make
