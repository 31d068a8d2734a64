"""The viewer's NSFW choice and a suspended account's notice, on a phone (390 px) in Chromium."""

from __future__ import annotations

import pytest

from moderation.services import user_suspend

from .test_phone import PASSWORD, assert_fits, log_in, phone  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_viewer_opts_in_to_nsfw_images_on_the_profile_at_390_px(phone, make_user):  # noqa: F811
    viewer, _ = make_user("vera", password=PASSWORD)
    log_in(phone, "vera", "/profile/")
    assert_fits(phone, "/profile/")
    assert "Hidden" in phone.locator("#nsfw-state").inner_text()
    with phone.expect_navigation():  # the form posts and comes back to /profile/
        phone.locator("#nsfw-toggle").tap()
    assert "Shown" in phone.locator("#nsfw-state").inner_text()
    viewer.refresh_from_db()
    assert viewer.show_nsfw
    assert_fits(phone, "/profile/")


def test_a_suspended_user_sees_the_notice_at_390_px(phone, make_user):  # noqa: F811
    user, _ = make_user("dora", password=PASSWORD)
    user_suspend(user=user, by=None, reason="abuse")
    log_in(phone, "dora", "/profile/")
    assert phone.locator("[data-testid=suspended]").is_visible()
    assert_fits(phone, "/profile/")
