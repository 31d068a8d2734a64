"""Every error under /api/ is JSON {message, rc}."""

from __future__ import annotations

import pytest


@pytest.mark.django_db
def test_an_unknown_api_path_is_a_json_404(client):
    response = client.get("/api/v2/no/such/thing")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"message": "Not found.", "rc": "ThingNotFound"}


@pytest.mark.django_db
def test_an_unknown_page_is_not_json(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")


@pytest.mark.django_db
def test_a_wrong_method_is_a_json_405_with_an_rc_horde_sdk_knows(client):
    response = client.post("/api/v2/status/heartbeat")
    assert response.status_code == 405
    assert response.json()["rc"] == "BadRequest"
    assert set(response.json()) == {"message", "rc"}


@pytest.mark.django_db
def test_worker_messages_is_not_taken_for_a_worker_id(client):
    # Without an apikey the messages list is 401: it was reached, not swallowed by workers/{id} (a 404).
    response = client.get("/api/v2/workers/messages")
    assert (response.status_code, response.json()["rc"]) == (401, "InvalidAPIKey")
