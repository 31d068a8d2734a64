"""Answers to checks (gold pairs, control images) are flagged when cast, and never count as preferences."""

from __future__ import annotations

import pytest

from ratings.models import ControlImage, GoldPair, PairAssignment
from ratings.selectors import votes_counted
from ratings.services import Judgement, arena_next, arena_vote, own_pair_vote

from .conftest import shown_pair

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def quick(settings):
    settings.RATINGS_MIN_SECONDS_TO_VOTE = 0
    settings.RATINGS_GOLD_EVERY = 0
    # These raters vote at machine speed; a gold answer recomputes trust, which must not exclude them.
    settings.RATINGS_TRUST_MAX_VOTES_PER_MINUTE = 1e9
    settings.RATINGS_ARENA_MIN_VOTE_INTERVAL_SECONDS = 0  # the arena's throttle has its own tests
    settings.RATINGS_ARENA_MAX_VOTES_PER_MINUTE = 0


def vote_next(rater):
    assignment = arena_next(rater=rater)
    assert assignment is not None
    return assignment, arena_vote(rater=rater, assignment_id=assignment.id, judgement=Judgement(choice="left"))


def test_an_ordinary_arena_vote_is_a_preference(alice, bob, make_pair):
    make_pair(alice[0])
    _, vote = vote_next(bob[0])
    assert vote.is_check is False
    assert votes_counted().filter(pk=vote.pk).exists()


def test_an_arena_vote_on_a_gold_pair_is_a_check(alice, bob, make_pair):
    request = make_pair(alice[0])
    GoldPair.objects.create(request=request, expected_choice="left")
    assignment, vote = vote_next(bob[0])
    assert assignment.is_gold and vote.is_check
    assert not votes_counted().filter(pk=vote.pk).exists()
    assert votes_counted(include_checks=True).filter(pk=vote.pk).exists()


def test_an_arena_vote_on_a_pair_holding_an_active_control_image_is_a_check(alice, bob, charlie, make_pair):
    request = make_pair(alice[0])
    ControlImage.objects.create(image=shown_pair(request)[0], expected_aesthetic=7)
    _, vote = vote_next(bob[0])
    assert vote.is_check
    # An inactive control image is no longer a check.
    ControlImage.objects.filter(image__request=request).update(active=False)
    _, later = vote_next(charlie[0])
    assert later.is_check is False


def test_a_pair_marked_gold_after_it_was_issued_is_a_check_when_voted_on(alice, bob, make_pair):
    request = make_pair(alice[0])
    assignment = arena_next(rater=bob[0])
    assert not assignment.is_gold
    GoldPair.objects.create(request=request, expected_choice="right")
    vote = arena_vote(rater=bob[0], assignment_id=assignment.id, judgement=Judgement(choice="left"))
    assert vote.is_check


def test_a_pair_served_as_a_check_stays_a_check_if_staff_switch_it_off_before_the_vote(alice, bob, make_pair):
    request = make_pair(alice[0])
    GoldPair.objects.create(request=request, expected_choice="left")
    assignment = arena_next(rater=bob[0])
    GoldPair.objects.filter(request=request).update(active=False)
    vote = arena_vote(rater=bob[0], assignment_id=assignment.id, judgement=Judgement(choice="left"))
    assert PairAssignment.objects.get(pk=assignment.pk).is_gold and vote.is_check


def test_the_owners_vote_on_a_gold_pair_is_a_check_too(alice, make_pair):
    request = make_pair(alice[0])
    GoldPair.objects.create(request=request, expected_choice="left")
    vote = own_pair_vote(rater=alice[0], generation_request=request, judgement=Judgement(choice="left"))
    assert vote.is_check
    plain = make_pair(alice[0])
    assert own_pair_vote(rater=alice[0], generation_request=plain, judgement=Judgement(choice="left")).is_check is False


def test_the_owners_vote_on_a_pair_with_a_control_image_is_a_check(alice, make_pair):
    request = make_pair(alice[0])
    ControlImage.objects.create(image=shown_pair(request)[1], expected_aesthetic=3)
    vote = own_pair_vote(rater=alice[0], generation_request=request, judgement=Judgement(choice="tie"))
    assert vote.is_check


def test_the_migration_flags_check_answers_cast_before_the_flag_existed(alice, bob, make_pair):
    import importlib

    from django.apps import apps

    from ratings.models import Vote

    gold, control, plain, was_gold = (make_pair(alice[0]) for _ in range(4))
    GoldPair.objects.create(request=gold, expected_choice="left")
    ControlImage.objects.create(image=shown_pair(control)[0], expected_aesthetic=5)
    GoldPair.objects.create(request=was_gold, expected_choice="left")
    votes = {vote.request_id: vote for vote in (vote_next(bob[0])[1] for _ in range(4))}
    GoldPair.objects.filter(request=was_gold).update(active=False)  # served as gold, switched off since
    Vote.objects.update(is_check=False)  # as the rows stood before the migration
    importlib.import_module("ratings.migrations.0004_vote_is_check").mark_existing_checks(apps, None)
    flags = {request_id: Vote.objects.get(pk=vote.pk).is_check for request_id, vote in votes.items()}
    assert flags == {gold.pk: True, control.pk: True, plain.pk: False, was_gold.pk: True}
