"""Shared keys on the profile page: create (shown once), list, edit, delete; the owner only."""

from __future__ import annotations

import re

import pytest

from accounts.models import SharedKey
from accounts.services import shared_key_create

pytestmark = pytest.mark.django_db
SHOWN = re.compile(r'<span class="apikey" id="sharedkey">([0-9a-f-]{36})</span>')


@pytest.fixture
def logged_in_alice(client, alice):
    client.force_login(alice[0])
    return alice


def test_a_new_shared_key_is_shown_once_and_works_as_an_apikey(client, api_client, logged_in_alice):
    response = client.post("/profile/sharedkeys/create", {"name": "for Dave", "kudos": "250", "expiry": "-1"})
    assert response.status_code == 302
    page = client.get("/profile/").content.decode()
    key = SHOWN.search(page).group(1)
    assert "for Dave" in page and "250" in page
    assert SHOWN.search(client.get("/profile/").content.decode()) is None  # once only
    stored = SharedKey.objects.get()
    assert (stored.name, stored.kudos, stored.expiry) == ("for Dave", 250, None)
    found = api_client.get("/api/v2/find_user", headers={"apikey": key})
    assert found.status_code == 200 and found.json()["id"] == logged_in_alice[0].pk


@pytest.mark.parametrize(
    "bad", [{"kudos": "-2"}, {"kudos": "²"}, {"kudos": "ten"}, {"expiry": "99999999"}, {"name": "x" * 256}]
)
def test_bad_form_input_says_why_and_creates_nothing(client, logged_in_alice, bad):
    response = client.post("/profile/sharedkeys/create", {"name": "k", "kudos": "10", **bad}, follow=True)
    assert response.status_code == 200
    assert '<li class="error">' in response.content.decode()
    assert not SharedKey.objects.exists()


def test_the_owner_edits_and_deletes_a_key_from_the_page(client, logged_in_alice):
    shared_key, _ = shared_key_create(user=logged_in_alice[0], settings={"name": "old", "kudos": 10})
    client.post(f"/profile/sharedkeys/{shared_key.handle}/edit", {"name": "new", "kudos": "-1", "expiry": "3"})
    shared_key.refresh_from_db()
    assert (shared_key.name, shared_key.kudos) == ("new", -1)
    assert shared_key.expiry is not None
    client.post(f"/profile/sharedkeys/{shared_key.handle}/delete")
    assert not SharedKey.objects.exists()


def test_another_users_key_cannot_be_edited_or_deleted_from_the_page(client, alice, bob):
    shared_key, _ = shared_key_create(user=alice[0], settings={"name": "alices", "kudos": 10})
    client.force_login(bob[0])
    assert client.post(f"/profile/sharedkeys/{shared_key.handle}/edit", {"kudos": "999"}).status_code == 404
    assert client.post(f"/profile/sharedkeys/{shared_key.handle}/delete").status_code == 404
    shared_key.refresh_from_db()
    assert shared_key.kudos == 10
    assert "alices" not in client.get("/profile/").content.decode()


def test_the_create_form_goes_once_the_user_has_as_many_keys_as_allowed(client, logged_in_alice):
    for _ in range(3):
        shared_key_create(user=logged_in_alice[0], settings={})
    page = client.get("/profile/").content.decode()
    assert 'data-testid="sharedkey-create"' not in page
    response = client.post("/profile/sharedkeys/create", {"kudos": "5"}, follow=True)
    assert "more than 3 shared keys" in response.content.decode()
    assert SharedKey.objects.count() == 3


def test_the_page_forms_need_a_log_in_and_a_post(client, alice):
    assert client.post("/profile/sharedkeys/create", {"kudos": "5"}).status_code == 302
    client.force_login(alice[0])
    assert client.get("/profile/sharedkeys/create").status_code == 405
    assert not SharedKey.objects.exists()
