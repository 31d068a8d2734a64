"""Every page at a phone's 390x844 in Chromium: nothing scrolls sideways, the menu folds away,
and a pair is judged with the thumb (tap an image to pick it, the verdict bar in reach)."""

from __future__ import annotations

import io

import pytest
from django.core.cache import cache
from django.core.management import call_command

from generation.models import Worker
from ratings.models import Vote
from tests.ratings import conftest as ratings_fixtures

sdxl_model = ratings_fixtures.sdxl_model
make_pair = ratings_fixtures.make_pair

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


@pytest.fixture
def site(make_user, make_pair, settings):
    """Alice with a finished pair, the demo models, and a worker with long names in every column."""
    settings.RATINGS_MIN_SECONDS_TO_VOTE = 0
    settings.HORDE_CELERY_DISPATCH = False
    cache.clear()
    call_command("seed_demo", stdout=io.StringIO())
    alice, _ = make_user("alice", kudos=1000, password=PASSWORD)
    Worker.objects.create(
        name="a-volunteer-worker-with-a-really-long-name-0123456789",
        owner=alice,
        kind=Worker.Kind.HTTP,
        model_names=["SDXL_beta::stability.ai#6901", "stable_diffusion_xl_base_1.0_with_a_long_name"],
        info={"device": "NVIDIA GeForce RTX 4090 24GB (PCIe 4.0 x16)", "memory_used_mb": 18000},
    )
    yield alice, make_pair(alice)
    cache.clear()


def log_in(page, username: str, next_url: str) -> None:
    page.goto(f"/accounts/login/?next={next_url}")
    page.fill("input[name=login]", username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit]").first.click()
    page.wait_for_url(f"**{next_url}")


def page_width(page) -> int:
    return page.evaluate("Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)")


def assert_fits(page, url: str) -> None:
    page.goto(url)
    page.wait_for_load_state("load")
    assert page_width(page) <= PHONE["width"], f"{url} is {page_width(page)} px wide"


def test_no_page_scrolls_sideways_at_390_px(phone, site):
    _alice, pair = site
    log_in(phone, "alice", "/generate")
    for url in (
        "/",
        "/generate",
        f"/requests/{pair.id}",
        f"/ratings/judge/{pair.id}",
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
        assert_fits(phone, url)


def test_the_menu_folds_behind_one_button_on_a_phone_and_opens_on_a_tap(phone, site):
    log_in(phone, "alice", "/models")
    header = phone.locator("header.topbar").bounding_box()
    assert header["height"] < 80  # one row: brand and the menu button
    assert not phone.locator("nav[aria-label=Main] a[href='/workers']").is_visible()
    toggle = phone.locator("#menu-toggle")
    assert toggle.get_attribute("aria-expanded") == "false"
    toggle.tap()
    assert toggle.get_attribute("aria-expanded") == "true"
    workers = phone.locator("nav[aria-label=Main] a[href='/workers']")
    assert workers.is_visible()
    assert phone.locator("nav[aria-label=Main] a[aria-current=page]").inner_text() == "Models"
    workers.tap()
    phone.wait_for_url("**/workers")


def test_on_a_wide_screen_the_menu_button_is_hidden_and_the_links_show(page, site):
    log_in(page, "alice", "/models")
    assert not page.locator("#menu-toggle").is_visible()
    assert page.locator("nav[aria-label=Main] a[href='/workers']").is_visible()


def test_a_tap_on_an_image_picks_it_and_the_send_button_in_thumb_reach_sends_it(phone, site):
    _alice, pair = site
    log_in(phone, "alice", f"/ratings/judge/{pair.id}")
    phone.locator("#right-image").tap()
    assert "picked" in phone.locator("#right-figure").get_attribute("class")
    assert "picked" not in (phone.locator("#left-figure").get_attribute("class") or "")
    assert phone.locator("#right-image").get_attribute("aria-pressed") == "true"
    send = phone.locator("#send-pick")
    assert send.is_visible() and "Right is better" in send.inner_text()
    box = send.bounding_box()
    assert box["y"] + box["height"] <= PHONE["height"]  # on screen without scrolling
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    # A second tap on the other image moves the pick; nothing has been sent yet.
    phone.locator("#left-image").tap()
    assert "Left is better" in send.inner_text()
    assert not Vote.objects.filter(request=pair).exists()
    send.tap()
    phone.wait_for_selector("#reward")
    assert Vote.objects.get(request=pair).choice == "left"


def test_every_verdict_button_is_on_screen_and_tappable_at_390_px(phone, site):
    _alice, pair = site
    log_in(phone, "alice", f"/ratings/judge/{pair.id}")
    for choice in ("left", "tie", "both_bad", "right"):
        box = phone.locator(f"button[value={choice}]").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], choice
        assert box["y"] + box["height"] <= PHONE["height"], choice  # the verdict bar sticks to the bottom
    phone.locator("button[value=tie]").tap()
    phone.wait_for_selector("#reward")
    assert Vote.objects.get(request=pair).choice == "tie"


def test_my_images_on_a_phone_leads_from_a_waiting_pair_to_its_verdict(phone, site):
    _alice, pair = site
    log_in(phone, "alice", "/images")
    card = phone.locator(f"article[data-request-id='{pair.id}']")
    assert card.locator("img").count() == 2
    assert card.locator("a.download").first.get_attribute("download").startswith("horde-")
    card.locator("a.verdict-wanted").tap()
    phone.wait_for_url(f"**/requests/{pair.id}#verdict")
    phone.wait_for_selector("#verdict #judge-form")
    phone.locator("#verdict button[value=both_bad]").tap()
    phone.wait_for_selector("#verdict #reward")
    assert Vote.objects.get(request=pair).choice == "both_bad"
    phone.goto("/images?judged=judged")
    assert phone.locator(f"article[data-request-id='{pair.id}'] .positive").inner_text() == "judged"
