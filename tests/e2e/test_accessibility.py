"""Accessibility in Chromium: axe-core finds no serious or critical violation on the main pages
(at 390 px and at 1280 px), and the skip link, aria-current and alt texts are there."""

from __future__ import annotations

import io

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core.cache import cache
from django.core.management import call_command

from tests.ratings import conftest as ratings_fixtures

sdxl_model = ratings_fixtures.sdxl_model
make_pair = ratings_fixtures.make_pair

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"
SERIOUS = {"serious", "critical"}


def serious_violations(page) -> list[str]:
    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[node['target'] for node in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in SERIOUS
    ]


def log_in(page, username: str, next_url: str) -> None:
    page.goto(f"/accounts/login/?next={next_url}")
    page.fill("input[name=login]", username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit]").first.click()
    page.wait_for_url(f"**{next_url}")


@pytest.mark.parametrize("width", [390, 1280])
def test_axe_finds_no_serious_violation_on_the_main_pages(browser, live_server, make_user, make_pair, settings, width):
    settings.HORDE_CELERY_DISPATCH = False
    settings.RATINGS_MIN_SECONDS_TO_VOTE = 0
    cache.clear()
    call_command("seed_demo", stdout=io.StringIO())
    alice, _ = make_user("alice", kudos=1000, password=PASSWORD)
    pair = make_pair(alice)
    judged = make_pair(alice)
    context = browser.new_context(base_url=live_server.url, viewport={"width": width, "height": 900})
    try:
        page = context.new_page()
        page.goto("/")
        assert serious_violations(page) == [], "/ (logged out)"
        log_in(page, "alice", f"/ratings/judge/{judged.id}")
        page.locator("button[value=left]").click()
        page.wait_for_selector("#reward")
        for url in (
            "/",
            "/generate",
            f"/requests/{pair.id}",
            f"/ratings/judge/{pair.id}",
            f"/ratings/judge/{judged.id}",
            "/ratings/arena",
            "/ratings/leaderboard",
            "/models",
            "/workers",
            "/kudos/",
            "/images",
            "/gallery",
            "/profile/",
            "/no-such-page",
        ):
            page.goto(url)
            page.wait_for_load_state("load")
            if url.startswith("/requests/"):
                page.wait_for_selector("#verdict #judge-form")
            if url == "/ratings/arena":
                page.wait_for_selector("#arena-empty:not([hidden]), #arena-pair:not([hidden])")
            assert serious_violations(page) == [], url
    finally:
        cache.clear()
        context.close()


def test_the_skip_link_takes_the_keyboard_to_the_content_and_the_nav_marks_the_page(page, make_user, make_pair):
    alice, _ = make_user("alice", kudos=1000, password=PASSWORD)
    make_pair(alice)
    log_in(page, "alice", "/images")
    page.keyboard.press("Tab")
    skip = page.locator(".skip-link")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    assert skip.is_visible()  # shown when focused
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    assert page.locator("nav[aria-label=Main] a[aria-current=page]").inner_text() == "My images"
    alts = page.locator("article.request-card img").evaluate_all("imgs => imgs.map(i => i.alt)")
    assert alts == [
        "Left image of the pair for: a lighthouse at dusk",
        "Right image of the pair for: a lighthouse at dusk",
    ]
