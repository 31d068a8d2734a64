"""CORS on the API and the image files, as browser clients of the AI Horde expect it."""

from __future__ import annotations

import uuid

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

ORIGIN = "https://artbot.example"


def preflight(client, path: str, method: str):
    return client.options(
        path,
        HTTP_ORIGIN=ORIGIN,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD=method,
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="apikey, client-agent, content-type",
    )


@pytest.mark.parametrize(
    "path, methods",
    [
        ("/api/v2/generate/async", {"POST"}),
        (f"/api/v2/generate/status/{uuid.uuid4()}", {"GET", "HEAD", "DELETE"}),
        ("/api/v2/kudos/transfer", {"POST"}),
        ("/api/v2/find_user", {"GET", "HEAD"}),
        ("/media/images/2026/01/01/x.webp", {"GET", "HEAD"}),
    ],
)
def test_a_preflight_allows_any_origin_the_horde_headers_and_the_routes_methods(client, db, path, methods):
    response = preflight(client, path, "POST" if "POST" in methods else "GET")
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    allowed = {name.strip().lower() for name in response["Access-Control-Allow-Headers"].split(",")}
    assert {"apikey", "client-agent", "content-type"} <= allowed
    assert set(response["Access-Control-Allow-Methods"].split(", ")) == methods | {"OPTIONS"}
    assert int(response["Access-Control-Max-Age"]) > 0


def test_a_preflight_of_an_unknown_route_allows_nothing(client, db):
    response = preflight(client, "/api/v2/no/such/route", "GET")
    assert response.status_code == 404
    assert "Access-Control-Allow-Methods" not in response


def test_answers_and_errors_of_the_api_carry_the_origin_header(client, db):
    assert client.get("/api/v2/status/heartbeat", HTTP_ORIGIN=ORIGIN)["Access-Control-Allow-Origin"] == "*"
    refused = client.get("/api/v2/find_user", HTTP_ORIGIN=ORIGIN, HTTP_APIKEY="wrong-key")
    assert refused.status_code == 401
    assert refused["Access-Control-Allow-Origin"] == "*"  # the client can read the rc


def test_image_files_carry_the_origin_header(client, db):
    name = default_storage.save(f"images/cors-test/{uuid.uuid4()}.webp", ContentFile(b"RIFF0000WEBP"))
    try:
        response = client.get(f"/media/{name}", HTTP_ORIGIN=ORIGIN)
        assert response.status_code == 200
        assert response["Access-Control-Allow-Origin"] == "*"
    finally:
        default_storage.delete(name)


def test_pages_do_not_open_to_other_origins(client, db):
    assert "Access-Control-Allow-Origin" not in client.get("/", HTTP_ORIGIN=ORIGIN)
