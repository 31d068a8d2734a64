"""The profile page: name#id, balance, trust, age, and API key rotation (shown once)."""

from __future__ import annotations

import pytest

from accounts.models import User


@pytest.fixture
def logged_in_alice(client, alice):
    user, key = alice
    client.force_login(user)
    return user, key


@pytest.mark.django_db
def test_the_profile_needs_a_log_in(client):
    response = client.get("/profile/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_the_profile_shows_name_id_balance_trust_and_age(client, logged_in_alice, shown_apikey):
    user, _ = logged_in_alice
    User.objects.filter(pk=user.pk).update(trusted=True)
    html = client.get("/profile/").content.decode()
    assert f"alice#{user.pk}" in html
    assert '<p class="big" id="balance">1,000</p>' in html
    assert '<td id="trusted">yes</td>' in html
    assert "Member for" in html
    assert 'href="/kudos/"' in html
    assert "Rotate API key" in html
    assert shown_apikey(client.get("/profile/")) is None  # no key unless one was just issued


@pytest.mark.django_db
def test_rotating_shows_the_new_key_once_and_the_old_key_stops_working(
    client, api_client, logged_in_alice, shown_apikey
):
    user, old_key = logged_in_alice
    response = client.post("/profile/rotate-key")
    assert response.status_code == 302
    assert response["Location"] == "/profile/"

    page = client.get("/profile/")
    new_key = shown_apikey(page)
    assert new_key is not None and len(new_key) == 22 and new_key != old_key
    assert "the old key no longer works" in page.content.decode()
    assert shown_apikey(client.get("/profile/")) is None

    assert api_client.get("/api/v2/find_user", headers={"apikey": old_key}).status_code == 401
    found = api_client.get("/api/v2/find_user", headers={"apikey": new_key})
    assert found.status_code == 200
    assert found.json()["id"] == user.pk


@pytest.mark.django_db
def test_rotating_needs_a_post(client, logged_in_alice, api_client):
    _, key = logged_in_alice
    assert client.get("/profile/rotate-key").status_code == 405
    assert api_client.get("/api/v2/find_user", headers={"apikey": key}).status_code == 200


@pytest.mark.django_db
def test_rotating_needs_a_log_in(client, alice, api_client):
    _, key = alice
    response = client.post("/profile/rotate-key")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert api_client.get("/api/v2/find_user", headers={"apikey": key}).status_code == 200


@pytest.mark.django_db
def test_rotating_is_protected_against_cross_site_posts(alice, api_client):
    from django.test import Client

    user, key = alice
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(user)
    assert csrf_client.post("/profile/rotate-key").status_code == 403
    assert api_client.get("/api/v2/find_user", headers={"apikey": key}).status_code == 200
