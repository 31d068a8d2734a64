"""The leaderboard page draws its chart in a real browser."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from ratings.leaderboard import CACHE_KEY
from tests.ratings.leaderboard import factories

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_leaderboard_shows_each_pipeline_with_its_interval(page, make_user):
    cache.delete(CACHE_KEY)
    owner, rater = make_user("owner")[0], factories.calibrated(make_user("rater")[0])
    model = factories.make_model()
    strong, weak = factories.make_pipeline(model, "strong", "2"), factories.make_pipeline(model, "weak")
    for i in range(12):
        request, a, b = factories.make_pair(model, strong, weak, owner=owner)
        factories.make_vote(request, rater, a, b, "left" if i % 4 else "right")
    try:
        page.goto("/ratings/leaderboard")
        chart = page.locator("svg.lb-chart")
        assert chart.is_visible()
        box = chart.bounding_box()
        assert box["width"] > 300 and box["height"] > 60
        assert page.locator("svg.lb-chart circle.point").count() == 2
        assert page.locator("svg.lb-chart text", has_text="#1 strong v2").is_visible()
        strong_x = page.locator("svg.lb-chart circle.point").nth(0).bounding_box()["x"]
        weak_x = page.locator("svg.lb-chart circle.point").nth(1).bounding_box()["x"]
        assert strong_x > weak_x
        rows = page.locator("table.lb-table tbody tr")
        assert rows.count() == 2 and "strong" in rows.nth(0).inner_text()
    finally:
        cache.delete(CACHE_KEY)


def test_at_390_px_the_page_does_not_scroll_sideways_and_lists_pipelines_without_votes(browser, live_server, make_user):
    cache.delete(CACHE_KEY)
    owner, rater = make_user("owner")[0], factories.calibrated(make_user("rater")[0])
    model = factories.make_model()
    strong, weak = factories.make_pipeline(model, "strong", "2"), factories.make_pipeline(model, "weak")
    factories.make_pipeline(model, "newcomer")
    for i in range(6):
        request, a, b = factories.make_pair(model, strong, weak, owner=owner)
        factories.make_vote(request, rater, a, b, "left" if i % 3 else "right")
    context = browser.new_context(base_url=live_server.url, viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        page.goto("/ratings/leaderboard")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        assert page.locator("svg.lb-chart").bounding_box()["width"] <= 390
        unrated = page.locator("table.lb-table tr.lb-unrated")
        assert unrated.count() == 1 and "no votes yet" in unrated.inner_text() and "newcomer" in unrated.inner_text()
        assert page.locator("svg.lb-chart circle.point").count() == 2  # nothing drawn for it
    finally:
        context.close()


def test_the_defence_text_reads_at_390_px_without_scrolling_sideways(page, make_user):
    cache.delete(CACHE_KEY)
    page.set_viewport_size({"width": 390, "height": 844})
    try:
        page.goto("/ratings/leaderboard")
        page.locator("#how-votes-count summary").click()
        limits = page.locator("#how-votes-count", has_text="What it cannot stop.")
        assert limits.is_visible()
        assert limits.bounding_box()["width"] <= 390
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        cache.delete(CACHE_KEY)
