"""Rating single images from the keyboard on a phone-sized screen (390x844), in Chromium."""

from __future__ import annotations

import pytest

from aesthetics.models import ImageRating
from aesthetics.sets.importing import rating_set_import
from kudos.selectors import user_balance
from tests.aesthetics.conftest import write_folder

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"


@pytest.fixture
def phone(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 390, "height": 844}, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def log_in(page, username: str, next_url: str) -> None:
    page.goto(f"/accounts/login/?next={next_url}")
    page.fill("input[name=login]", username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit]").click()
    page.wait_for_url(f"**{next_url}")


def shown_id(page) -> str:
    page.wait_for_function("document.getElementById('rate-image').dataset.imageId")
    return page.locator("#rate-image").get_attribute("data-image-id")


def test_a_rater_rates_images_by_keyboard_on_a_phone_screen_and_earns_each_time(phone, make_user, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.AESTHETICS_RATING_REWARD = 2
    settings.AESTHETICS_CONTROL_EVERY = 0
    # Keys come faster than a person rates; the throttle has its own tests (tests/aesthetics/test_throttle.py).
    settings.AESTHETICS_MIN_RATING_INTERVAL_SECONDS = 0
    settings.AESTHETICS_MAX_RATINGS_PER_MINUTE = 0
    write_folder(tmp_path / "set", 3)
    rating_set_import(name="phone-set", path=tmp_path / "set")
    charlie, _ = make_user("charlie", password=PASSWORD)
    log_in(phone, "charlie", "/rate/images")

    first = shown_id(phone)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling
    assert phone.locator("#rate-image").bounding_box()["width"] <= 390
    phone.wait_for_function("document.getElementById('rate-image').naturalWidth > 0")  # the image loaded
    assert phone.locator("#rate-submit").is_disabled()
    phone.keyboard.press("0")  # 0 means 10
    phone.keyboard.press("e")  # artifacts 2
    assert phone.locator("[data-rating='10']").get_attribute("aria-pressed") == "true"
    assert phone.locator("[data-artifacts='2']").get_attribute("aria-pressed") == "true"
    phone.keyboard.press("Enter")
    phone.wait_for_function(f"document.getElementById('rate-image').dataset.imageId !== '{first}'")
    assert "+2 kudos" in phone.locator("#rate-status").inner_text()

    second = shown_id(phone)
    phone.keyboard.press("Enter")  # no rating chosen yet: nothing is sent
    assert "Choose a rating first" in phone.locator("#rate-status").inner_text()
    phone.keyboard.press("7")
    phone.keyboard.press("Enter")  # artifacts left out
    phone.wait_for_function(f"document.getElementById('rate-image').dataset.imageId !== '{second}'")

    # The third by touch: the buttons are big enough to tap.
    third = shown_id(phone)
    button = phone.locator("[data-rating='3']")
    assert button.bounding_box()["height"] >= 40
    button.tap()
    phone.locator("[data-artifacts='5']").tap()
    phone.locator("#rate-submit").tap()
    phone.wait_for_selector("#rate-empty:not([hidden])")
    assert phone.locator("#rate-count").inner_text() == "3"
    assert phone.locator("#rate-kudos").inner_text() == "6"

    ratings = {str(r.image_id): (r.rating, r.artifacts) for r in ImageRating.objects.filter(rater=charlie)}
    assert ratings == {first: (10, 2), second: (7, None), third: (3, 5)}
    assert user_balance(user=charlie) == 6
