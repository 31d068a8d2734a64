"""The keyboard flows of the own-pair page and the arena, in Chromium."""

from __future__ import annotations

import time

import pytest

from kudos.selectors import user_balance
from ratings.models import PairAssignment, Vote
from tests.ratings import conftest as ratings_fixtures

# The finished-pair factory of the ratings tests, shared as fixtures of this module.
sdxl_model = ratings_fixtures.sdxl_model
make_pair = ratings_fixtures.make_pair

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"


def log_in(page, username: str, next_url: str) -> None:
    page.goto(f"/accounts/login/?next={next_url}")
    page.fill("input[name=login]", username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit]").click()
    page.wait_for_url(f"**{next_url}")


def test_the_requester_judges_their_pair_from_the_keyboard_and_sees_reward_and_balance(page, make_user, make_pair):
    alice, _ = make_user("alice", kudos=1000, password=PASSWORD)
    pair = make_pair(alice, job_kudos=30)
    assert user_balance(user=alice) == 940
    log_in(page, "alice", f"/ratings/judge/{pair.id}")
    assert page.locator("#shortcuts").is_visible()
    page.keyboard.press("a")
    assert "aesthetic of the left image" in page.locator("#key-pending").inner_text()
    page.keyboard.press("8")
    page.keyboard.press("d")
    page.keyboard.press("0")  # 0 means 10
    page.keyboard.press("z")
    page.keyboard.press("1")
    assert page.locator("select[name=left_aesthetic]").input_value() == "8"
    assert page.locator("select[name=right_aesthetic]").input_value() == "10"
    assert page.locator("select[name=left_artifacts]").input_value() == "1"
    page.keyboard.press("ArrowRight")
    page.wait_for_selector("#reward")
    # 15 for the pick, 2 x 5 for the aesthetics, 5 for the artifacts.
    assert page.locator("#reward").inner_text() == "30"
    assert page.locator("#balance").inner_text() == "970"
    vote = Vote.objects.get(request=pair)
    assert (vote.choice, vote.left_aesthetic, vote.right_aesthetic, vote.left_artifacts) == ("right", 8, 10, 1)
    assert user_balance(user=alice) == 970


def current_id(page) -> str:
    return page.locator("#arena").get_attribute("data-assignment-id")


def wait_for_new_pair(page, old: str) -> str:
    page.wait_for_function(
        "old => { const id = document.getElementById('arena').dataset.assignmentId; return id && id !== old; }",
        arg=old,
    )
    return current_id(page)


def test_a_rater_votes_undoes_and_skips_in_the_arena_from_the_keyboard(page, make_user, make_pair, settings):
    settings.RATINGS_MIN_SECONDS_TO_VOTE = 0.3
    settings.RATINGS_GOLD_EVERY = 0
    # Bob is a new rater voting faster than the throttle allows: calibration and the
    # throttle have their own tests (tests/ratings/test_calibration.py, test_throttle.py).
    settings.RATINGS_CALIBRATION_CHECKS = 0
    settings.RATINGS_ARENA_MIN_VOTE_INTERVAL_SECONDS = 0
    settings.RATINGS_ARENA_MAX_VOTES_PER_MINUTE = 0
    alice, _ = make_user("alice", kudos=1000)
    for _ in range(4):
        make_pair(alice)
    make_user("bob", password=PASSWORD)
    log_in(page, "bob", "/ratings/arena")
    page.wait_for_function("document.getElementById('arena').dataset.assignmentId !== ''")
    first = current_id(page)
    # The next pair is fetched (and its images loaded) while this one shows.
    page.wait_for_function(
        "performance.getEntriesByType('resource').filter(e => e.name.includes('/media/')).length >= 4"
    )
    time.sleep(0.4)

    page.keyboard.press("1")
    started = time.monotonic()
    second = wait_for_new_pair(page, first)
    assert time.monotonic() - started < 2
    page.wait_for_function("document.getElementById('today-votes').textContent === '1'")
    assert page.locator("#today-kudos").inner_text() == "2"
    assert page.locator("#last-reward").inner_text() == "+2"
    assert Vote.objects.get(assignment_id=first).choice == "left"

    page.keyboard.press("u")
    page.wait_for_function("document.getElementById('today-votes').textContent === '0'")
    assert "Vote withdrawn" in page.locator("#arena-status").inner_text()
    assert current_id(page) == second  # the revealed pair is not shown again
    assert Vote.objects.get(assignment_id=first).retracted_at is not None
    assert PairAssignment.objects.filter(request=PairAssignment.objects.get(pk=first).request).count() == 1

    time.sleep(0.4)
    page.keyboard.press("t")
    after_tie = wait_for_new_pair(page, second)
    page.wait_for_function("document.getElementById('today-votes').textContent === '1'")
    assert Vote.objects.get(assignment_id=second).choice == "tie"

    time.sleep(0.4)
    page.keyboard.press("s")
    wait_for_new_pair(page, after_tie)
    assert PairAssignment.objects.get(pk=after_tie).answered_at is not None
    assert not Vote.objects.filter(assignment_id=after_tie).exists()
    live = Vote.objects.filter(rater__username="bob", retracted_at__isnull=True)
    assert [vote.choice for vote in live] == ["tie"]
    assert user_balance(user=live[0].rater) == 2
