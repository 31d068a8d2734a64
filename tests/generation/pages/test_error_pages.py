"""The branded error pages (pages) next to the API's JSON errors (under /api/)."""

from __future__ import annotations

import json

import pytest
from django.test import RequestFactory

from horde_site import api_errors

pytestmark = pytest.mark.django_db


def test_a_server_error_on_a_page_is_the_branded_500_page_and_needs_no_database():
    request = RequestFactory().get("/generate")
    response = api_errors.handler500(request)
    assert response.status_code == 500
    html = response.content.decode()
    assert 'id="error-page"' in html and "Something broke on our side" in html
    assert 'name="viewport"' in html  # it fits a phone like every page


def test_a_server_error_under_the_api_stays_json():
    response = api_errors.handler500(RequestFactory().get("/api/v2/status/models"))
    assert response.status_code == 500
    assert json.loads(response.content) == {"message": "The server hit an internal error.", "rc": "InternalServerError"}


def test_an_unknown_page_is_the_branded_404_page(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert 'id="error-page"' in response.content.decode()
    assert "Page not found" in response.content.decode()
