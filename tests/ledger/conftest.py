"""Fixtures for the ledger tests."""

from __future__ import annotations

import importlib

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


@pytest.fixture
def migration_rows(transactional_db):
    """Put back the rows the data migrations create: the anonymous user and the hot accounts.

    A transactional test starts from whatever the previous one left, and TransactionTestCase
    empties every table after each test, migration rows included. Django's
    `serialized_rollback` would restore them but collides with the content types that
    the flush re-creates, so this re-runs the data migrations' own functions instead.
    """
    from django.apps import apps

    importlib.import_module("accounts.migrations.0002_anonymous_user").create_anonymous(apps, None)
    importlib.import_module("kudos.migrations.0003_hot_accounts").create_hot_accounts(apps, None)
