"""Example pairs on the leaderboard: only from retired pairs (ratings.selectors.arena_retired_filter),
never from one that anyone could still be served or still judges."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.test import Client

from ratings.leaderboard import CACHE_KEY
from ratings.services import Judgement, arena_next, arena_vote, own_pair_vote

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def quick(settings):
    settings.RATINGS_MIN_SECONDS_TO_VOTE = 0
    settings.RATINGS_GOLD_EVERY = 0
    settings.RATINGS_CALIBRATION_CHECKS = 0
    settings.RATINGS_ARENA_MIN_VOTE_INTERVAL_SECONDS = 0
    settings.RATINGS_ARENA_MAX_VOTES_PER_MINUTE = 0
    settings.RATINGS_ARENA_TARGET_VOTES = 2
    cache.delete(CACHE_KEY)
    yield
    cache.delete(CACHE_KEY)


def shown_examples() -> set[str]:
    html = Client().get("/ratings/leaderboard").content.decode()
    return set(re.findall(r'class="lb-example" data-request="([0-9a-f-]+)"', html))


def vote_in_arena(rater, pair) -> None:
    assignment = arena_next(rater=rater)
    assert assignment.request_id == pair.id
    arena_vote(rater=rater, assignment_id=assignment.id, judgement=Judgement(choice="left"))


def test_only_retired_pairs_that_nobody_still_judges_are_examples(alice, bob, make_user, make_pair):
    owner = alice[0]
    # Retired: the owner's verdict and one arena vote reach the target of 2.
    retired = make_pair(owner)
    own_pair_vote(rater=owner, generation_request=retired, judgement=Judgement(choice="right"))
    vote_in_arena(make_user("r1")[0], retired)
    # Retired by two arena votes, but its owner may still judge it. (Made before the next
    # one, so that each of its voters is served it: the arena serves the fewest votes first.)
    unjudged = make_pair(bob[0])
    vote_in_arena(make_user("r2")[0], unjudged)
    vote_in_arena(make_user("r3")[0], unjudged)
    # Still in the pool: one vote only, whatever else is true of it.
    in_pool = make_pair(owner)
    own_pair_vote(rater=owner, generation_request=in_pool, judgement=Judgement(choice="left"))
    assert shown_examples() == {str(retired.id)}
    assert in_pool.id != retired.id


def test_a_pair_retired_while_someone_holds_it_is_not_an_example(alice, make_user, make_pair):
    owner = alice[0]
    pair = make_pair(owner)
    own_pair_vote(rater=owner, generation_request=pair, judgement=Judgement(choice="left"))
    holder = make_user("holder")[0]
    held = arena_next(rater=holder)  # on their screen, unanswered
    vote_in_arena(make_user("r4")[0], pair)  # the target is reached: retired
    pair.refresh_from_db()
    assert pair.arena_pool is False
    assert shown_examples() == set()
    # Once the holder answered (here: voted), nobody can judge it any more.
    arena_vote(rater=holder, assignment_id=held.id, judgement=Judgement(choice="tie"))
    assert shown_examples() == {str(pair.id)}


def test_the_example_names_both_pipelines_and_the_tally(alice, make_user, make_pair):
    owner = alice[0]
    pair = make_pair(owner)
    own_pair_vote(rater=owner, generation_request=pair, judgement=Judgement(choice="left"))
    vote_in_arena(make_user("r5")[0], pair)
    html = Client().get("/ratings/leaderboard").content.decode()
    figure = re.search(rf'data-request="{pair.id}">(.*?)</figure>', html, re.S).group(1)
    assert "base v1" in figure and "refiner v2" in figure
    assert re.search(r"won \d+,\s+lost \d+, even \d+", figure)


def test_a_pair_whose_images_wait_for_single_image_ratings_is_not_an_example(alice, make_user, make_pair, settings):
    from aesthetics.models import RatingSet, SetImage
    from tests.ratings.conftest import shown_pair

    settings.AESTHETICS_TARGET_RATINGS = 5
    owner = alice[0]
    pair = make_pair(owner)
    own_pair_vote(rater=owner, generation_request=pair, judgement=Judgement(choice="left"))
    vote_in_arena(make_user("r6")[0], pair)
    image = shown_pair(pair)[0]
    waiting = SetImage.objects.create(
        rating_set=RatingSet.objects.create(name="shared-test"),
        file=image.file.name,
        content_hash="a" * 64,
        width=96,
        height=96,
        generated=image,
        rating_count=4,
    )
    assert shown_examples() == set()
    SetImage.objects.filter(pk=waiting.pk).update(rating_count=5)  # rated enough: it left that pool
    assert shown_examples() == {str(pair.id)}


def test_a_hidden_censored_or_nsfw_retired_pair_is_never_an_example(alice, make_user, make_pair):
    from generation.models import GenerationRequest, Image
    from moderation.hiding import image_hide

    owner, staff = alice[0], make_user("mod", is_staff=True)[0]
    voters = iter(make_user(f"v{index}")[0] for index in range(4))

    def retired_pair():
        pair = make_pair(owner)
        own_pair_vote(rater=owner, generation_request=pair, judgement=Judgement(choice="left"))
        vote_in_arena(next(voters), pair)
        cache.delete(CACHE_KEY)
        return pair

    plain = retired_pair()
    takedowns = {
        "hidden": lambda pair: image_hide(image=pair.images.first(), by=staff, reason="reported"),
        "censored": lambda pair: Image.objects.filter(pk=pair.images.first().pk).update(censored=True),
        "nsfw": lambda pair: GenerationRequest.objects.filter(pk=pair.pk).update(nsfw=True),
    }
    for name, take_down in takedowns.items():
        pair = retired_pair()  # the newest retired pair: shown beside the plain one (2 a pipeline)
        assert shown_examples() == {str(plain.id), str(pair.id)}, name
        take_down(pair)
        cache.delete(CACHE_KEY)
        assert shown_examples() == {str(plain.id)}, name
