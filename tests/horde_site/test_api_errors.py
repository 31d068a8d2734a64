"""Every error under /api/ is JSON {message, rc}."""

from __future__ import annotations

import pytest


@pytest.mark.django_db
def test_an_unknown_api_path_is_a_json_404(client):
    response = client.get("/api/v2/no/such/thing")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"message": "Not found.", "rc": "NotFound"}


@pytest.mark.django_db
def test_an_unknown_page_is_not_json(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")
