"""The arena's stored live-vote counter and pool flag: exact after votes, undos and skips,
fewest votes served first, and retirement (by the vote target or by age) for good."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from generation.models import GenerationRequest
from ratings.arena_pool import arena_pool
from ratings.models import Vote
from ratings.selectors import arena_retired_filter
from ratings.services import Judgement, arena_next, arena_pairs_retire, arena_skip, arena_undo, arena_vote

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def quick(settings):
    settings.RATINGS_MIN_SECONDS_TO_VOTE = 0
    settings.RATINGS_GOLD_EVERY = 0
    settings.RATINGS_CALIBRATION_CHECKS = 0
    settings.RATINGS_ARENA_MIN_VOTE_INTERVAL_SECONDS = 0
    settings.RATINGS_ARENA_MAX_VOTES_PER_MINUTE = 0


def stored(request: GenerationRequest) -> int:
    return GenerationRequest.objects.values_list("arena_votes", flat=True).get(pk=request.pk)


def real(request: GenerationRequest) -> int:
    return Vote.objects.filter(request=request, retracted_at__isnull=True).count()


def raters(make_user, count: int) -> list:
    return [make_user(f"rater{index}")[0] for index in range(count)]


def test_the_counter_follows_votes_undos_and_skips(alice, make_user, make_pair):
    pair = make_pair(alice[0])
    first, second, third = raters(make_user, 3)
    for rater in (first, second):
        assignment = arena_next(rater=rater)
        arena_vote(rater=rater, assignment_id=assignment.id, judgement=Judgement(choice="left"))
    assert stored(pair) == real(pair) == 2
    arena_undo(rater=first, assignment_id=Vote.objects.get(rater=first).assignment_id)
    assert stored(pair) == real(pair) == 1
    arena_skip(rater=third, assignment_id=arena_next(rater=third).id)
    assert stored(pair) == real(pair) == 1


def test_the_owners_verdict_counts_as_a_live_vote(alice, make_pair):
    from ratings.services import own_pair_vote

    pair = make_pair(alice[0])
    own_pair_vote(rater=alice[0], generation_request=pair, judgement=Judgement(choice="tie"))
    assert stored(pair) == real(pair) == 1


def test_the_pair_with_the_fewest_votes_is_served_first(alice, make_user, make_pair):
    busy, quiet = make_pair(alice[0]), make_pair(alice[0])
    voters = raters(make_user, 3)
    for rater in voters[:2]:
        # Both voters are served the two pairs in turn; they vote only on `busy`.
        for _ in range(2):
            assignment = arena_next(rater=rater)
            if assignment.request_id == busy.id:
                arena_vote(rater=rater, assignment_id=assignment.id, judgement=Judgement(choice="left"))
    assert stored(busy) == 2 and stored(quiet) == 0
    for _ in range(5):
        newcomer = make_user(f"newcomer{_}")[0]
        assert arena_next(rater=newcomer).request_id == quiet.id


def test_a_tier_is_served_in_random_order(alice, make_user, make_pair):
    pairs = {make_pair(alice[0]).id for _ in range(4)}
    served = [arena_next(rater=make_user(f"fresh{index}")[0]).request_id for index in range(40)]
    assert set(served) <= pairs
    # Not always the same pair: the seek starts at a random id. (Each pair's chance is the gap
    # of random ids before it, so not every pair of four need come up in 40 draws.)
    assert len(set(served)) >= 2


def test_a_pair_reaching_the_target_leaves_the_pool_for_good(alice, make_user, make_pair, settings):
    settings.RATINGS_ARENA_TARGET_VOTES = 2
    pair = make_pair(alice[0])
    first, second, third = raters(make_user, 3)
    assignments = {}
    for rater in (first, second):
        assignments[rater.pk] = arena_next(rater=rater)
        arena_vote(rater=rater, assignment_id=assignments[rater.pk].id, judgement=Judgement(choice="left"))
    pair.refresh_from_db()
    assert pair.arena_pool is False and pair.arena_retired_at is not None
    assert arena_next(rater=third) is None
    # An undo takes the vote back, but the pair may already be shown as an example: it stays retired.
    arena_undo(rater=second, assignment_id=assignments[second.pk].id)
    pair.refresh_from_db()
    assert (stored(pair), pair.arena_pool) == (1, False)
    assert arena_next(rater=third) is None


def test_old_pairs_are_retired_by_the_periodic_task(alice, make_user, make_pair, settings):
    settings.RATINGS_ARENA_RETIRE_DAYS = 30
    old, fresh = make_pair(alice[0]), make_pair(alice[0])
    GenerationRequest.objects.filter(pk=old.pk).update(finished_at=timezone.now() - dt.timedelta(days=31))
    assert arena_pairs_retire() == 1
    assert arena_pairs_retire() == 0  # already retired: nothing moves twice
    rater = make_user("dana")[0]
    assert set(arena_pool(rater=rater).values_list("pk", flat=True)) == {fresh.pk}


def test_a_pair_in_the_pool_is_never_retired_by_the_rule(alice, make_user, make_pair, settings):
    from ratings.services import own_pair_vote

    settings.RATINGS_ARENA_TARGET_VOTES = 1
    in_pool, retired, held = make_pair(alice[0]), make_pair(alice[0]), make_pair(alice[0])
    for pair in (in_pool, retired, held):
        own_pair_vote(rater=alice[0], generation_request=pair, judgement=Judgement(choice="left"))
    # The owner's verdict reached the target for all three; put one back in the pool, and
    # leave an unanswered arena assignment on another (its rater could still vote on it).
    GenerationRequest.objects.filter(pk=in_pool.pk).update(arena_pool=True, arena_retired_at=None)
    from ratings.models import PairAssignment
    from tests.ratings.conftest import shown_pair

    left, right = shown_pair(held)
    PairAssignment.objects.create(rater=make_user("erin")[0], request=held, left_image=left, right_image=right)
    shown = set(GenerationRequest.objects.filter(arena_retired_filter()).values_list("pk", flat=True))
    assert shown == {retired.pk}


def test_a_retired_pair_waits_for_its_owners_verdict(alice, make_user, make_pair, settings):
    settings.RATINGS_ARENA_TARGET_VOTES = 1
    pair = make_pair(alice[0])
    rater = make_user("frank")[0]
    arena_vote(rater=rater, assignment_id=arena_next(rater=rater).id, judgement=Judgement(choice="left"))
    assert not GenerationRequest.objects.filter(arena_retired_filter()).exists()
    from ratings.services import own_pair_vote

    own_pair_vote(rater=alice[0], generation_request=pair, judgement=Judgement(choice="left"))
    assert GenerationRequest.objects.filter(arena_retired_filter()).get() == pair


def test_next_pair_takes_a_fixed_handful_of_queries(alice, make_user, make_pair, django_assert_max_num_queries):
    for _ in range(30):
        make_pair(alice[0])
    rater = make_user("gina")[0]
    arena_next(rater=rater)
    with django_assert_max_num_queries(12):
        assert arena_next(rater=rater) is not None
