"""Fixtures of the schema tests: Horde behind a real HTTP server, and the people who use it.

Alice asks for images, Bob (trusted by staff) runs an HTTP worker, Charlie judges in the arena.
"""

from __future__ import annotations

import io
import logging
import threading

import pytest
from django.core.management import call_command


@pytest.fixture
def horde_server(transactional_db, settings):
    """Horde's WSGI application behind a real HTTP server, the whole middleware stack included."""
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    from django.core.cache import cache
    from django.core.wsgi import get_wsgi_application
    from django.db import connections

    # HTTP workers only: no Celery message per job (nothing here runs a Celery worker).
    settings.HORDE_CELERY_DISPATCH = False
    # Model capacity is cached in Redis, which outlives a test (only this key: see tests/generation).
    cache.delete("generation:model-capacity")

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args):
            pass

    django_app = get_wsgi_application()

    def app(environ, start_response):
        # The server thread's connection is closed after each answer, so the test database
        # can be dropped at the end (persistent connections would hold it open).
        try:
            return list(django_app(environ, start_response))
        finally:
            connections.close_all()

    server = make_server("127.0.0.1", 0, app, handler_class=Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def quiet_request_log():
    """Thousands of refused requests are the point here; their WARNING lines are not."""
    logger = logging.getLogger("django.request")
    level = logger.level
    logger.setLevel(logging.ERROR)
    yield
    logger.setLevel(level)


@pytest.fixture
def people(horde_server, make_user):
    """The demo models, Alice (requester, kudos), Bob (trusted worker owner), Charlie (arena rater),
    and a shared key of Alice's: {"alice": (user, apikey), ..., "alice_sharedkey": (user, key)}."""
    from accounts.services import shared_key_create

    call_command("seed_demo", stdout=io.StringIO())
    alice = make_user("alice", kudos=100_000)
    return {
        "alice": alice,
        "bob": make_user("bob", kudos=1000, trusted=True),
        "charlie": make_user("charlie", kudos=1000),
        # Only its hash is stored: the fuzz can aim at it only because it is kept here.
        "alice_sharedkey": (alice[0], shared_key_create(user=alice[0], settings={"name": "fuzzed"})[1]),
    }


@pytest.fixture
def live_schema(horde_server, people):
    """The OpenAPI document the server serves at /api/schema, loaded by schemathesis."""
    import schemathesis

    return schemathesis.openapi.from_url(f"{horde_server}/api/schema?format=json")
