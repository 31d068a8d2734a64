"""Kudos in view and the error pages, in Chromium: the balance in every page's header and next
to the price, the first-run explanation, branded 403/404 pages and a favicon."""

from __future__ import annotations

import io

import pytest
from django.core.cache import cache
from django.core.management import call_command

from kudos.services import kudos_adjust
from tests.ratings import conftest as ratings_fixtures

sdxl_model = ratings_fixtures.sdxl_model
make_pair = ratings_fixtures.make_pair

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"


def log_in(page, username: str, next_url: str) -> None:
    page.goto(f"/accounts/login/?next={next_url}")
    page.fill("input[name=login]", username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit]").first.click()
    page.wait_for_url(f"**{next_url}")


@pytest.fixture
def demo(settings):
    settings.HORDE_CELERY_DISPATCH = False
    cache.clear()
    call_command("seed_demo", stdout=io.StringIO())
    yield
    cache.clear()


def test_the_balance_is_in_the_header_of_every_page_and_beside_the_price(page, make_user, demo):
    alice, _ = make_user("alice", kudos=30, password=PASSWORD)
    log_in(page, "alice", "/generate")
    for url in ("/generate", "/models", "/workers", "/ratings/leaderboard", "/kudos/", "/images"):
        page.goto(url)
        assert page.locator("#header-balance").inner_text() == "30", url
    kudos_adjust(user=alice, amount=-50, reason="test", staff_user=None)
    page.goto("/generate")
    assert page.locator("#header-balance").inner_text() == "-20"
    assert "negative" in page.locator("#header-balance").get_attribute("class")
    assert page.locator("#generate-balance").inner_text() == "-20"
    page.wait_for_function("document.getElementById('price').textContent !== '…'")
    price = int(page.locator("#price").inner_text())
    assert page.locator("#balance-after").inner_text() == str(-20 - price)


def test_someone_who_has_asked_for_nothing_yet_sees_how_kudos_work(page, make_user, make_pair, demo):
    make_user("alice", password=PASSWORD)
    log_in(page, "alice", "/generate")
    explainer = page.locator("#kudos-explainer")
    assert explainer.get_attribute("open") is not None
    text = explainer.inner_text()
    for words in ("charged when you submit", "below zero", "refunded", "arena", "worker"):
        assert words in text
    page.goto("/kudos/")
    assert page.locator("#kudos-explainer").get_attribute("open") is None  # there, one click away


def test_an_unknown_page_is_branded_and_fits_a_phone(browser, live_server, make_user):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        response = page.goto("/no-such-page")
        assert response.status == 404
        assert page.locator("#error-page h1").inner_text().startswith("Page not found")
        assert page.locator("header.topbar .brand").is_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        api = page.request.get("/api/v2/no-such-thing")
        assert api.status == 404 and api.json() == {"message": "Not found.", "rc": "ThingNotFound"}
    finally:
        context.close()


def test_someone_elses_judge_page_is_a_branded_403_saying_why(page, make_user, make_pair):
    alice, _ = make_user("alice", kudos=1000)
    pair = make_pair(alice)
    make_user("bob", password=PASSWORD)
    log_in(page, "bob", "/models")
    response = page.goto(f"/ratings/judge/{pair.id}")
    assert response.status == 403
    assert page.locator("#error-page h1").inner_text().startswith("Not allowed")
    assert page.locator("#error-reason").inner_text() == "Only the requester may judge this pair."


def test_the_favicon_is_served(page):
    response = page.request.get("/favicon.ico")
    assert response.status == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    page.goto("/")
    assert page.locator("link[rel=icon]").get_attribute("href").endswith("favicon.svg")
