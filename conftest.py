"""Test-wide setup: settings environment, the user trio, API clients.

The test command (scripts/test.sh) points DATABASE_URL and REDIS_URL at real
PostgreSQL and Redis; these defaults only keep a bare `pytest` importable.
"""

from __future__ import annotations

import os

os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production")
os.environ.setdefault("RATINGS_PSEUDONYM_KEY", "test-pseudonym-key-not-for-production")
# Playwright's sync API runs an event loop in the test thread; the ORM calls the
# tests make around it are still plain synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import importlib

import pytest


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def make_user(db):
    """Create a user with an API key; returns (user, apikey)."""
    from accounts.services import apikey_rotate, user_create

    def make(username: str, *, kudos: int = 0, password: str | None = None, **kwargs):
        user = user_create(username=username, password=password, **kwargs)
        if kudos:
            from kudos.services import kudos_adjust

            kudos_adjust(user=user, amount=kudos, reason="test grant", staff_user=None)
        return user, apikey_rotate(user=user)

    return make


@pytest.fixture
def alice(make_user):
    """The owner in the ownership trio."""
    return make_user("alice", kudos=1000)


@pytest.fixture
def bob(make_user):
    """Another user."""
    return make_user("bob", kudos=1000)


@pytest.fixture
def charlie(make_user):
    """A user with no access to Alice's things."""
    return make_user("charlie")


def _wants_transactional_db(request) -> bool:
    marker = request.node.get_closest_marker("django_db")
    if marker is not None and (marker.kwargs.get("transaction") or (marker.args and marker.args[0])):
        return True
    return "transactional_db" in request.fixturenames or "live_server" in request.fixturenames


@pytest.fixture
def migration_rows(transactional_db):
    """Put back the rows the data migrations create: the anonymous user and the hot accounts.

    TransactionTestCase empties every table after each test, migration rows included, so a
    transactional test would otherwise start without the anonymous user (id 0). Django's
    `serialized_rollback` would restore them but collides with the content types that the
    flush re-creates, so this re-runs the data migrations' own functions instead.
    """
    from django.apps import apps

    importlib.import_module("accounts.migrations.0002_anonymous_user").create_anonymous(apps, None)
    importlib.import_module("kudos.migrations.0003_hot_accounts").create_hot_accounts(apps, None)


@pytest.fixture(autouse=True)
def _migration_rows_for_transactional_tests(request):
    if _wants_transactional_db(request):
        request.getfixturevalue("migration_rows")
