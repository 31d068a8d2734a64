"""Shared keys on the profile page in Chromium at a phone's 390 px: made (shown once), used as an
apikey, edited and deleted; no page of them (nor /terms, /privacy) scrolls sideways, and axe finds
no serious violation on them."""

from __future__ import annotations

import re

import pytest
import requests

from accounts.models import SharedKey
from tests.e2e.test_accessibility import serious_violations

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport=PHONE, has_touch=True, is_mobile=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def width(page) -> int:
    return page.evaluate("Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)")


def test_a_phone_user_makes_uses_edits_and_deletes_a_shared_key(phone, live_server, make_user):
    make_user("alice", kudos=1000, password=PASSWORD)
    phone.goto("/accounts/login/?next=/profile/")
    phone.fill("input[name=login]", "alice")
    phone.fill("input[name=password]", PASSWORD)
    phone.locator("form button[type=submit]").first.click()
    phone.wait_for_url("**/profile/")

    phone.fill("#sk-name", "a key with a rather long name for my friend's phone app")
    phone.fill("#sk-kudos", "400")
    phone.get_by_role("button", name="Create shared key").click()
    phone.wait_for_url("**/profile/")
    key = phone.locator("#sharedkey").inner_text()
    assert re.fullmatch(r"[0-9a-f-]{36}", key)
    assert width(phone) <= PHONE["width"], f"/profile/ is {width(phone)} px wide"
    assert serious_violations(phone) == [], "/profile/ with a shared key"

    found = requests.get(f"{live_server.url}/api/v2/find_user", headers={"apikey": key}, timeout=10)
    assert found.status_code == 200 and found.json()["username"].startswith("alice#")

    phone.reload()
    assert phone.locator("#sharedkey").count() == 0  # shown once only
    phone.locator("details.shared-key-edit summary").click()
    phone.locator("details.shared-key-edit input[name=kudos]").fill("-1")
    phone.get_by_role("button", name="Save").click()
    phone.wait_for_url("**/profile/")
    assert "unlimited" in phone.locator("table.shared-key-list").inner_text()
    assert SharedKey.objects.get().kudos == -1
    assert width(phone) <= PHONE["width"]

    phone.locator("details.shared-key-edit summary").click()
    phone.get_by_role("button", name="Delete this key").click()
    phone.wait_for_url("**/profile/")
    assert "You have no shared keys." in phone.content()
    assert requests.get(f"{live_server.url}/api/v2/find_user", headers={"apikey": key}, timeout=10).status_code == 401

    for url in ("/terms", "/privacy"):
        phone.goto(url)
        assert phone.locator("[data-testid=document] h1").count() == 1
        assert width(phone) <= PHONE["width"], f"{url} is {width(phone)} px wide"
        assert serious_violations(phone) == [], url
