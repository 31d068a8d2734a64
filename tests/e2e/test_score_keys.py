"""A digit typed into a score menu sets that score, never a verdict; after the vote the pipelines are revealed.

Chromium, on the own-pair page and in the arena (the arena at 390 px wide).
"""

from __future__ import annotations

import time

import pytest

from ratings.models import PairAssignment, Vote
from tests.ratings import conftest as ratings_fixtures

from .test_ratings_keyboard import PASSWORD, current_id, log_in, wait_for_new_pair

sdxl_model = ratings_fixtures.sdxl_model
make_pair = ratings_fixtures.make_pair

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def type_into(page, name: str, key: str) -> None:
    page.focus(f"select[name={name}]")
    page.keyboard.press(key)


def value(page, name: str) -> str:
    return page.locator(f"select[name={name}]").input_value()


def pipeline_label(image) -> str:
    return f"{image.job.pipeline.name} v{image.job.pipeline.version}"


def test_on_the_judge_page_digits_in_a_score_menu_set_scores_and_the_verdict_needs_its_own_key(
    page, make_user, make_pair
):
    alice, _ = make_user("alice", kudos=1000, password=PASSWORD)
    pair = make_pair(alice)
    url = f"/ratings/judge/{pair.id}"
    log_in(page, "alice", url)
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing sticks out on a phone

    type_into(page, "left_aesthetic", "2")  # 2 is "right is better" outside a score menu
    assert value(page, "left_aesthetic") == "2"
    page.keyboard.press("1")  # still in the menu: a new score, not "left is better"
    assert value(page, "left_aesthetic") == "1"
    type_into(page, "right_aesthetic", "0")
    assert value(page, "right_aesthetic") == "10"
    type_into(page, "right_artifacts", "1")
    assert value(page, "right_artifacts") == "1"
    page.keyboard.press("7")
    assert value(page, "right_artifacts") == "1"
    assert "0 to 5" in page.locator("#key-pending").inner_text()
    page.wait_for_timeout(500)  # a verdict would have submitted the form by now
    assert page.url.endswith(url)
    assert page.locator("#judge-form").count() == 1
    assert not Vote.objects.filter(request=pair).exists()
    assert page.locator("#reveal").count() == 0  # blind until the vote

    page.keyboard.press("Escape")  # leave the menu: 1 / 2 are verdicts again
    page.keyboard.press("2")
    page.wait_for_selector("#reveal")
    vote = Vote.objects.get(request=pair)
    assert (vote.choice, vote.left_aesthetic, vote.right_aesthetic, vote.left_artifacts, vote.right_artifacts) == (
        "right",
        1,
        10,
        None,
        1,
    )
    assert Vote.objects.filter(request=pair).count() == 1
    left, right = ratings_fixtures.shown_pair(pair)
    assert page.locator("#left-pipeline").inner_text() == pipeline_label(left)
    assert page.locator("#right-pipeline").inner_text() == pipeline_label(right)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_in_the_arena_at_390px_a_digit_in_a_score_menu_is_no_vote_and_the_vote_reveals_the_pipelines(
    browser, live_server, make_user, make_pair, settings
):
    settings.RATINGS_MIN_SECONDS_TO_VOTE = 0.3
    settings.RATINGS_GOLD_EVERY = 0
    alice, _ = make_user("alice", kudos=1000)
    for _ in range(3):
        make_pair(alice)
    make_user("bob", password=PASSWORD)
    context = browser.new_context(base_url=live_server.url, viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        log_in(page, "bob", "/ratings/arena")
        page.wait_for_function("document.getElementById('arena').dataset.assignmentId !== ''")
        first = current_id(page)
        assert page.locator("#arena-reveal").is_hidden()
        time.sleep(0.4)

        type_into(page, "right_aesthetic", "1")  # 1 is "left is better" outside a score menu
        assert value(page, "right_aesthetic") == "1"
        type_into(page, "left_artifacts", "2")
        assert value(page, "left_artifacts") == "2"
        page.wait_for_timeout(500)
        assert current_id(page) == first
        assert not Vote.objects.exists()
        assert PairAssignment.objects.get(pk=first).answered_at is None

        page.keyboard.press("t")  # a verdict key of its own works from inside the menu
        wait_for_new_pair(page, first)
        vote = Vote.objects.get(assignment_id=first)
        assert (vote.choice, vote.right_aesthetic, vote.left_artifacts, vote.left_aesthetic) == ("tie", 1, 2, None)
        assert Vote.objects.count() == 1
        assert value(page, "right_aesthetic") == ""  # the next pair starts with empty scores

        page.wait_for_selector("#arena-reveal:not([hidden])")
        assignment = PairAssignment.objects.select_related(
            "left_image__job__pipeline", "right_image__job__pipeline"
        ).get(pk=first)
        assert page.locator("#reveal-left").inner_text() == pipeline_label(assignment.left_image)
        assert page.locator("#reveal-right").inner_text() == pipeline_label(assignment.right_image)
        assert page.locator("#reveal-choice").inner_text() == "tie"
        assert page.locator("#reveal-left-image").get_attribute("src") == assignment.left_image.file.url
        # Nothing sticks out sideways on a phone.
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        context.close()
