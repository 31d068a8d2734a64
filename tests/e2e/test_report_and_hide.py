"""Reporting and hiding, in Chromium: a user reports an image from the arena (at 390 px), a
moderator hides it in the admin, and then another user no longer sees it anywhere and its
URL answers 404."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib.auth.models import Group

from moderation.models import AuditEntry, Report
from moderation.roles import GROUP_NAME, moderators_group_sync
from tests.ratings import conftest as ratings_fixtures

sdxl_model = ratings_fixtures.sdxl_model
make_pair = ratings_fixtures.make_pair

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"
PHONE = {"width": 390, "height": 844}


def log_in(page, username: str, next_url: str) -> None:
    page.goto(f"/accounts/login/?next={next_url}")
    page.fill("input[name=login]", username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit]").first.click()
    page.wait_for_url(f"**{next_url}*")


def admin_log_in(page, username: str) -> None:
    page.goto("/admin/login/?next=/admin/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("input[type=submit]").click()
    page.wait_for_url("**/admin/")


def test_a_report_from_the_arena_then_a_hide_in_the_admin_takes_the_image_away_from_everyone(
    browser, live_server, make_user, make_pair, settings
):
    settings.RATINGS_GOLD_EVERY = 0
    settings.RATINGS_CALIBRATION_CHECKS = 0
    moderators_group_sync(apps)
    alice, _ = make_user("alice", kudos=1000, password=PASSWORD)
    make_user("bob", password=PASSWORD)
    make_user("charlie", password=PASSWORD)
    moderator, _ = make_user("mod", password=PASSWORD, is_staff=True)
    moderator.groups.add(Group.objects.get(name=GROUP_NAME))
    pair = make_pair(alice)
    images = {image.file.url: image for image in pair.images.all()}

    # Bob, on a phone, reports the left image from the arena.
    bob = browser.new_context(base_url=live_server.url, viewport=PHONE)
    page = bob.new_page()
    page.set_default_timeout(10_000)
    log_in(page, "bob", "/ratings/arena")
    page.wait_for_selector("#arena-pair:not([hidden])")
    # The arena draws each rater's own order: the left image is whichever it shows there.
    left = images.pop(page.locator("#left-image").get_attribute("src"))
    right = next(iter(images.values()))
    page.locator("#left-report").click()
    dialog = page.locator("#report-dialog")
    dialog.wait_for(state="visible")
    assert page.evaluate("Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)") <= 390
    box = dialog.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    dialog.get_by_label("Sexual content not marked NSFW").check()
    page.fill("#report-note", "nudity in an unmarked request")
    page.locator("#report-send").click()
    page.wait_for_selector("#report-status.positive")
    assert "Report received" in page.locator("#report-status").inner_text()
    assert "picked" not in (page.locator("#left-figure").get_attribute("class") or "")  # not a pick
    report = Report.objects.get()
    assert (report.image_id, report.reason) == (left.pk, "sexual_not_nsfw")
    assert report.note == "nudity in an unmarked request"
    bob.close()

    # The moderator finds it first in the queue and hides it, with a reason.
    mod = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    page = mod.new_page()
    page.set_default_timeout(10_000)
    admin_log_in(page, "mod")
    page.goto("/admin/moderation/reportedimage/")
    row = page.locator("#result_list tbody tr").first
    assert "a lighthouse at dusk" in row.inner_text() and "alice" in row.inner_text()
    row.locator("input[name=_selected_action]").check()
    page.select_option("select[name=action]", "hide")
    page.locator("button[name=index]").click()
    page.fill("textarea[name=reason]", "sexual content in an unmarked request")
    page.locator("form input[type=submit]").click()
    page.wait_for_selector(".messagelist .success")
    entry = AuditEntry.objects.get()
    assert (entry.actor_id, entry.action, entry.reason) == (
        moderator.pk,
        "image_hide",
        "sexual content in an unmarked request",
    )
    mod.close()

    # Charlie sees it nowhere: not in the gallery, not in the arena, and its URL is gone.
    charlie = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    page = charlie.new_page()
    page.set_default_timeout(10_000)
    log_in(page, "charlie", "/gallery")
    html = page.content()
    assert left.file.url not in html and right.file.url not in html
    page.goto("/ratings/arena")
    page.wait_for_selector("#arena-empty:not([hidden])")
    assert page.locator("#arena-pair").is_hidden()
    for url in (left.file.url, f"/requests/{pair.id}"):
        response = page.request.get(url)
        if url == left.file.url:
            assert response.status == 404
        else:
            assert left.file.url not in response.text() and "removed by the moderators" in response.text()
    charlie.close()
