"""/health for load balancers and /metrics for Prometheus."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from generation.services import request_submit


@pytest.fixture
def demo_models(db):
    call_command("seed_demo", stdout=io.StringIO())


def test_health_is_ok_when_the_database_and_the_cache_answer(client, db):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "cache": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_health_is_unavailable_when_the_cache_is_down(client, db, monkeypatch):
    from django.core.cache.backends.redis import RedisCache

    from horde_site import ops

    # A real Redis client for a port nobody listens on: the connection really fails.
    monkeypatch.setattr(ops, "cache", RedisCache("redis://127.0.0.1:1/0", {}))
    response = client.get("/health")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "ok", "cache": "down"}


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
