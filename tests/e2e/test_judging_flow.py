"""Judging where the pair appears, in Chromium: the request page's inline verdict, the next
pair, the look-first countdown, and an arena that says when nothing is left."""

from __future__ import annotations

import time

import pytest

from ratings.models import Vote
from tests.ratings import conftest as ratings_fixtures

sdxl_model = ratings_fixtures.sdxl_model
make_pair = ratings_fixtures.make_pair

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"


@pytest.fixture
def arena_settings(settings):
    settings.RATINGS_GOLD_EVERY = 0
    # Calibration and the throttle have their own tests (tests/ratings/test_calibration.py, test_throttle.py).
    settings.RATINGS_CALIBRATION_CHECKS = 0
    settings.RATINGS_ARENA_MIN_VOTE_INTERVAL_SECONDS = 0
    settings.RATINGS_ARENA_MAX_VOTES_PER_MINUTE = 0
    return settings


def log_in(page, username: str, next_url: str) -> None:
    page.goto(f"/accounts/login/?next={next_url}")
    page.fill("input[name=login]", username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit]").first.click()
    page.wait_for_url(f"**{next_url.split('#')[0]}*")


def test_the_requester_judges_on_the_request_page_then_goes_to_the_next_pair_then_the_arena(
    page, make_user, make_pair, settings
):
    settings.RATINGS_MIN_SECONDS_TO_VOTE = 0
    alice, _ = make_user("alice", kudos=1000, password=PASSWORD)
    first = make_pair(alice)
    second = make_pair(alice, finished_ago=30)
    log_in(page, "alice", f"/requests/{first.id}")
    page.wait_for_selector("#verdict #judge-form")
    # Before the vote nothing on the page names a pipeline.
    for name in ("refiner", "left-pipeline"):
        assert name not in page.content()
    page.locator("#request-status .request-image.pick-right img").click()
    assert "picked" in page.locator("#request-status .request-image.pick-right").get_attribute("class")
    page.select_option("select[name=right_aesthetic]", "9")
    send = page.locator("#send-pick")
    assert send.inner_text() == "Send: Right is better ▶"
    send.click()
    page.wait_for_url(f"**/requests/{first.id}#verdict")
    page.wait_for_selector("#verdict #reward")
    vote = Vote.objects.get(request=first)
    assert (vote.choice, vote.right_aesthetic) == ("right", 9)
    assert page.locator("#your-choice").inner_text() == "Right is better"
    assert page.locator("#reward").inner_text() == str(vote.kudos_paid)
    right = first.images.select_related("job__pipeline").get(job__position=1).job.pipeline
    assert page.locator("#right-pipeline").inner_text() == f"{right.name} v{right.version}"
    assert page.locator("#header-balance").inner_text() == page.locator("#balance").inner_text()

    page.locator("#next-pair").click()
    page.wait_for_url(f"**/requests/{second.id}#verdict")
    page.wait_for_selector("#verdict #judge-form")
    page.keyboard.press("t")  # the judge page's keys work here too
    page.wait_for_selector("#verdict #reward")
    assert Vote.objects.get(request=second).choice == "tie"
    page.locator("#to-arena").click()
    page.wait_for_url("**/ratings/arena")


def test_the_verdict_controls_count_down_until_the_pair_has_been_seen_long_enough(page, make_user, make_pair, settings):
    settings.RATINGS_MIN_SECONDS_TO_VOTE = 2
    alice, _ = make_user("alice", kudos=1000, password=PASSWORD)
    fresh = make_pair(alice, finished_ago=0)
    log_in(page, "alice", f"/ratings/judge/{fresh.id}")
    note = page.locator("#look-first")
    assert note.is_visible() and "Look at both images first" in note.inner_text()
    assert page.locator("button[value=left]").is_disabled()
    page.keyboard.press("1")  # too early: refused on the page, nothing sent
    assert "a moment longer" in page.locator("#key-pending").inner_text()
    assert not Vote.objects.exists()
    page.wait_for_function("!document.querySelector('button[value=left]').disabled", timeout=5000)
    assert not note.is_visible()
    page.locator("button[value=left]").click()
    page.wait_for_selector("#reward")
    assert Vote.objects.get(request=fresh).choice == "left"


def test_the_arena_counts_down_on_each_pair_and_a_tap_picks_it(page, make_user, make_pair, arena_settings):
    arena_settings.RATINGS_MIN_SECONDS_TO_VOTE = 1
    alice, _ = make_user("alice", kudos=1000)
    make_pair(alice)
    make_user("bob", password=PASSWORD)
    log_in(page, "bob", "/ratings/arena")
    page.wait_for_function("document.getElementById('arena').dataset.assignmentId !== ''")
    assert page.locator("#look-first").is_visible()
    assert page.locator("button[data-choice=left]").is_disabled()
    page.locator("#left-image").click()
    assert page.locator("#send-pick").inner_text() == "Send: ◀ Left is better"
    assert page.locator("#send-pick").is_disabled()
    page.keyboard.press("1")  # too early: refused on the page, nothing sent
    assert "a moment longer" in page.locator("#arena-status").inner_text()
    time.sleep(0.2)
    assert not Vote.objects.exists()
    page.wait_for_function("!document.getElementById('send-pick').disabled", timeout=5000)
    page.locator("#send-pick").click()
    page.wait_for_selector("#arena-empty:not([hidden])")
    assert Vote.objects.get(rater__username="bob").choice == "left"


def test_an_empty_arena_says_nothing_is_left_and_shows_no_frames_or_buttons(page, make_user, arena_settings):
    make_user("bob", password=PASSWORD)
    log_in(page, "bob", "/ratings/arena")
    empty = page.locator("#arena-empty")
    empty.wait_for(state="visible")
    assert "Nothing left to judge" in empty.inner_text()
    assert not page.locator("#arena-pair").is_visible()
    assert not page.locator("#left-image").is_visible()
    assert not page.locator("#arena-controls").is_visible()
    assert not page.locator("#loading-pair").is_visible()
    assert page.locator("#arena-status").inner_text() == ""
