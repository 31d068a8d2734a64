"""The home page renders in a real browser."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_home_page_invites_a_visitor_to_sign_up(page):
    page.goto("/")
    assert page.locator("h1").inner_text() == "Images by the crowd, judged by the crowd"
    page.get_by_role("link", name="Sign up").click()
    page.wait_for_url("**/accounts/signup/")
    assert page.locator("input[name=username]").is_visible()
