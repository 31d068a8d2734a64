"""/healthz for load balancers and /metrics for Prometheus."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from generation.services import request_submit


@pytest.fixture
def demo_models(db):
    call_command("seed_demo", stdout=io.StringIO())


def test_health_is_ok_when_the_database_and_the_cache_answer(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "cache": "ok", "broker": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_health_is_unavailable_when_the_cache_is_down(client, db, monkeypatch):
    from django.core.cache.backends.redis import RedisCache

    from horde_site import ops

    # A real Redis client for a port nobody listens on: the connection really fails.
    monkeypatch.setattr(ops, "cache", RedisCache("redis://127.0.0.1:1/0", {}))
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "ok", "cache": "down", "broker": "ok"}


def test_health_is_unavailable_when_the_broker_is_down(client, db, monkeypatch):
    from kombu import Connection

    from horde_site.celery import app

    # A real broker connection to a port nobody listens on: the transport really fails.
    monkeypatch.setattr(app, "connection_for_read", lambda *args, **kwargs: Connection("redis://127.0.0.1:1/0"))
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["broker"] == "down"


def test_every_answer_carries_a_request_id_and_keeps_a_sane_one_from_the_proxy(client, db):
    fresh = client.get("/api/v2/status/heartbeat")
    assert len(fresh["X-Request-ID"]) == 32
    assert client.get("/api/v2/status/heartbeat", HTTP_X_REQUEST_ID="lb-123.abc")["X-Request-ID"] == "lb-123.abc"
    hostile = client.get("/api/v2/status/heartbeat", HTTP_X_REQUEST_ID="x" * 500)
    assert hostile["X-Request-ID"] != "x" * 500


def test_log_lines_are_json_with_the_request_id():
    import json
    import logging

    from horde_site.request_log import JsonFormatter, RequestIdFilter, request_id

    token = request_id.set("req-42")
    try:
        record = logging.LogRecord("generation", logging.WARNING, __file__, 1, "job %s failed", ("j1",), None)
        RequestIdFilter().filter(record)
        line = json.loads(JsonFormatter().format(record))
    finally:
        request_id.reset(token)
    assert line["message"] == "job j1 failed"
    assert (line["level"], line["logger"], line["request_id"]) == ("WARNING", "generation", "req-42")


def test_metrics_are_off_without_a_token(client, db, settings):
    settings.HORDE_METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404


def test_metrics_need_the_bearer_token(client, db, settings):
    settings.HORDE_METRICS_TOKEN = "s3cret"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401


def test_metrics_show_the_queue_workers_votes_and_ledger(client, demo_models, alice, settings):
    settings.HORDE_METRICS_TOKEN = "s3cret"
    for _ in range(3):
        request_submit(user=alice[0], body={"prompt": "a cat", "models": ["stable_diffusion"]})
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret")
    assert response.status_code == 200
    text = response.content.decode()
    assert 'horde_jobs{model="stable_diffusion",status="queued"} 3.0' in text
    assert 'horde_oldest_queued_job_seconds{model="stable_diffusion"}' in text
    assert 'horde_kudos_transactions_total{kind="adjustment"}' in text  # alice's grant
    assert "horde_votes_total" in text or "# TYPE horde_votes counter" in text
    assert "horde_workers_online" in text
    assert "horde_jobs_requeued_total" in text
    assert "horde_votes_last_hour" in text
    grants = [line for line in text.splitlines() if line.startswith('horde_kudos_account_balance{account="staff')]
    assert float(grants[0].split()[-1]) <= -1000  # alice's grant came out of the staff account
