"""A new user in Chromium: sign up, see the API key once, rotate it, send kudos, see both histories."""

from __future__ import annotations

import pytest
import requests

from accounts.models import User
from accounts.services import user_create
from kudos.selectors import user_balance
from kudos.services import kudos_adjust

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-enough-pass-phrase"


def find_user(live_server, key: str) -> requests.Response:
    return requests.get(f"{live_server.url}/api/v2/find_user", headers={"apikey": key}, timeout=10)


def log_in(page, username: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.fill("input[name=login]", username)
    page.fill("input[name=password]", password)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url("**/profile/")


def test_a_new_user_signs_up_rotates_the_key_and_sends_kudos(page, live_server):
    rita = user_create(username="rita", email="rita@example.com", password=PASSWORD)
    kudos_adjust(user=rita, amount=40, reason="welcome grant", staff_user=None)

    # Sign up: the profile shows the fresh API key, once.
    page.goto("/")
    page.get_by_role("link", name="Sign up").click()
    page.wait_for_url("**/accounts/signup/")
    page.fill("input[name=username]", "newbee")
    page.fill("input[name=email]", "newbee@example.com")
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.get_by_role("button", name="Sign Up").click()
    page.wait_for_url("**/profile/")
    newbee = User.objects.get(username="newbee")
    assert page.locator("h1").inner_text() == f"newbee#{newbee.pk}"
    first_key = page.locator("#apikey").inner_text()
    assert len(first_key) == 22
    response = find_user(live_server, first_key)
    assert response.status_code == 200
    assert response.json()["username"] == f"newbee#{newbee.pk}"

    page.reload()
    assert page.locator("#apikey").count() == 0
    assert first_key not in page.content()

    # Rotate: the new key is shown once; the old one stops working.
    page.get_by_role("button", name="Rotate API key").click()
    page.wait_for_url("**/profile/")
    second_key = page.locator("#apikey").inner_text()
    assert len(second_key) == 22 and second_key != first_key
    assert find_user(live_server, first_key).status_code == 401
    assert find_user(live_server, second_key).json()["id"] == newbee.pk
    page.reload()
    assert page.locator("#apikey").count() == 0

    # Send kudos to rita through the kudos page (newbee gets a staff grant first).
    kudos_adjust(user=newbee, amount=500, reason="starter kudos", staff_user=None)
    page.locator("#header-kudos").click()  # "Kudos" and the balance
    page.wait_for_url("**/kudos/")
    assert page.locator("#balance").inner_text() == "500"
    page.fill("input[name=recipient]", "rita")
    page.fill("input[name=amount]", "150")
    page.get_by_role("button", name="Send").click()
    page.wait_for_url("**/kudos/")
    assert f"Sent 150 kudos to rita#{rita.pk}" in page.locator(".messages").inner_text()
    assert page.locator("#balance").inner_text() == "350"
    newest = page.locator("table.history tbody tr").first
    assert "newbee -> rita" in newest.inner_text()
    assert newest.locator("td").nth(3).inner_text() == "-150"
    assert newest.locator("td").nth(4).inner_text() == "350"
    assert page.locator("svg.balance-chart polyline").count() == 1
    assert user_balance(user=newbee) == 350
    assert user_balance(user=rita) == 190

    # Rita logs in and sees what she received.
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(f"{live_server.url}/")
    log_in(page, "rita", PASSWORD)
    page.goto("/kudos/")
    assert page.locator("#balance").inner_text() == "190"
    rows = page.locator("table.history tbody tr")
    assert rows.count() == 2
    assert "newbee -> rita" in rows.first.inner_text()
    assert rows.first.locator("td").nth(3).inner_text() == "+150"
    assert "welcome grant" in rows.nth(1).inner_text()
