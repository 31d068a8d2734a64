"""Rater trust: gold pairs, control images, consensus, speed, account age; exclusion stops earning."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from accounts.models import User
from kudos.selectors import user_balance
from ratings.models import ControlImage, GoldPair, PairAssignment, RaterTrust, Vote
from ratings.selectors import votes_counted
from ratings.services import (
    Judgement,
    arena_next,
    arena_vote,
    rater_trust_recompute,
    rater_trust_recompute_all,
    rater_trust_set_override,
)
from ratings.tasks import rater_trust_recompute_all_task

from .conftest import shown_pair

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def quick(settings):
    settings.RATINGS_MIN_SECONDS_TO_VOTE = 0
    settings.RATINGS_GOLD_EVERY = 0
    # Calibration and the throttle have their own tests (test_calibration.py, test_throttle.py).
    settings.RATINGS_CALIBRATION_CHECKS = 0
    settings.RATINGS_ARENA_MIN_VOTE_INTERVAL_SECONDS = 0
    settings.RATINGS_ARENA_MAX_VOTES_PER_MINUTE = 0
    settings.RATINGS_TRUST_MIN_GOLD = 3
    settings.RATINGS_TRUST_MIN_CONSENSUS = 2
    settings.RATINGS_CONSENSUS_MIN_OTHERS = 2
    # These raters vote at machine speed; the speed figure has its own test.
    settings.RATINGS_TRUST_MAX_VOTES_PER_MINUTE = 1e9


def seasoned(user: User) -> User:
    """An account older than the young-account window."""
    User.objects.filter(pk=user.pk).update(date_joined=timezone.now() - dt.timedelta(days=30))
    user.refresh_from_db()
    return user


def judge_in_arena(rater: User, *, winner_position: int | str, **scores) -> Vote:
    """Vote on the arena's next pair, naming the winner by its stored position (0/1) or tie/both_bad."""
    assignment = arena_next(rater=rater)
    assert assignment is not None
    if isinstance(winner_position, int):
        winner = shown_pair(assignment.request)[winner_position]
        choice = "left" if assignment.left_image_id == winner.id else "right"
    else:
        choice = winner_position
    return arena_vote(rater=rater, assignment_id=assignment.id, judgement=Judgement(choice=choice, **scores))


@pytest.fixture
def golds(alice, make_pair):
    pairs = []
    for _ in range(3):
        request = make_pair(alice[0])
        GoldPair.objects.create(request=request, expected_choice="left")  # position 0 wins
        pairs.append(request)
    return pairs


def test_a_rater_who_agrees_with_gold_keeps_earning(charlie, golds):
    rater = seasoned(charlie[0])
    for _request in golds:
        judge_in_arena(rater, winner_position=0)
    trust = RaterTrust.objects.get(user=rater)
    assert (trust.gold_votes, trust.gold_agreement, trust.excluded) == (3, 1.0, False)
    assert user_balance(user=rater) == 6


def test_gold_is_judged_by_image_not_by_the_side_it_was_shown_on(charlie, golds):
    rater = seasoned(charlie[0])
    for request in golds:
        # Shown swapped: the expected winner (position 0) is on the right of this rater's screen.
        position0, position1 = shown_pair(request)
        swapped = PairAssignment.objects.create(
            rater=rater, request=request, left_image=position1, right_image=position0, is_gold=True
        )
        arena_vote(rater=rater, assignment_id=swapped.id, judgement=Judgement(choice="right"))
    trust = RaterTrust.objects.get(user=rater)
    assert (trust.gold_votes, trust.gold_agreement, trust.excluded) == (3, 1.0, False)


def test_a_rater_who_fails_gold_is_excluded_stops_earning_and_their_votes_stop_counting(
    charlie, golds, alice, make_pair
):
    rater = seasoned(charlie[0])
    for _request in golds:
        judge_in_arena(rater, winner_position=1)
    trust = RaterTrust.objects.get(user=rater)
    assert (trust.gold_votes, trust.gold_agreement) == (3, 0.0)
    assert trust.score < django_settings.RATINGS_TRUST_THRESHOLD
    assert trust.excluded
    balance = user_balance(user=rater)
    make_pair(alice[0])
    vote = judge_in_arena(rater, winner_position=0)
    assert vote.kudos_paid == 0
    assert user_balance(user=rater) == balance
    assert Vote.objects.filter(rater=rater).count() == 4  # kept
    assert not votes_counted().filter(rater=rater).exists()  # but left out


def test_a_control_image_expects_exactly_the_asked_rating(charlie, alice, make_pair):
    rater = seasoned(charlie[0])
    requests = [make_pair(alice[0], texts=("Rate this image 7", "")) for _ in range(3)]
    for request in requests:
        ControlImage.objects.create(image=shown_pair(request)[0], expected_aesthetic=7)
    votes = []
    for given in (7, 3, None):
        assignment = arena_next(rater=rater)
        control = ControlImage.objects.get(image__request=assignment.request)
        field = "left_aesthetic" if assignment.left_image_id == control.image_id else "right_aesthetic"
        scores = {field: given} if given else {}
        votes.append(arena_vote(rater=rater, assignment_id=assignment.id, judgement=Judgement(choice="tie", **scores)))
    assert all(PairAssignment.objects.get(vote=vote).is_gold for vote in votes)
    trust = rater_trust_recompute(user=rater)
    assert trust.gold_votes == 3
    assert trust.gold_agreement == pytest.approx(1 / 3)
    assert trust.excluded


def test_consensus_agreement_compares_with_the_majority_of_other_trusted_raters(make_user, alice, make_pair):
    requests = [make_pair(alice[0]) for _ in range(2)]
    crowd = [seasoned(make_user(f"crowd{index}")[0]) for index in range(2)]
    for rater in crowd:
        for _request in requests:
            judge_in_arena(rater, winner_position=0)
    loner = seasoned(make_user("loner")[0])
    for _request in requests:
        judge_in_arena(loner, winner_position=1)
    trust = rater_trust_recompute(user=loner)
    assert (trust.consensus_votes, trust.consensus_agreement) == (2, 0.0)
    assert trust.excluded
    agreeing = rater_trust_recompute(user=crowd[0])
    # Its others are crowd[1] (agrees) and the loner (disagrees): no strict majority yet.
    assert agreeing.consensus_votes == 0
    assert not agreeing.excluded


def test_excluded_raters_do_not_count_towards_the_consensus(make_user, alice, make_pair):
    make_pair(alice[0])
    voters = [seasoned(make_user(f"v{index}")[0]) for index in range(3)]
    judge_in_arena(voters[0], winner_position=0)
    judge_in_arena(voters[1], winner_position=1)
    judge_in_arena(voters[2], winner_position=1)
    rater_trust_set_override(user=voters[2], override="blocked")
    # Others of voter 0: voter 1 only (voter 2 is excluded): too few for a consensus.
    assert rater_trust_recompute(user=voters[0]).consensus_votes == 0


def test_speed_and_account_age_are_tracked_and_weigh_on_the_score(charlie, alice, make_pair, settings):
    settings.RATINGS_TRUST_MAX_VOTES_PER_MINUTE = 20
    rater = charlie[0]  # joined just now: a young account
    for _ in range(3):
        make_pair(alice[0])
        judge_in_arena(rater, winner_position=0)
    Vote.objects.filter(rater=rater).update(seconds_to_vote=1.0)  # 60 votes a minute
    trust = rater_trust_recompute(user=rater)
    assert trust.votes_per_minute == pytest.approx(60.0)
    assert trust.account_age_days < 1
    assert trust.score == pytest.approx(20 / 60 * settings.RATINGS_TRUST_YOUNG_ACCOUNT_FACTOR, rel=1e-3)
    assert trust.excluded
    Vote.objects.filter(rater=rater).update(seconds_to_vote=6.0)
    seasoned(rater)
    trust = rater_trust_recompute(user=rater)
    assert (trust.votes_per_minute, trust.score, trust.excluded) == (10.0, 1.0, False)
    assert trust.account_age_days > 29


def test_staff_trust_overrides_a_low_score_and_block_overrides_a_high_one(charlie, bob, golds):
    rater = seasoned(charlie[0])
    for _request in golds:
        judge_in_arena(rater, winner_position=1)
    assert RaterTrust.objects.get(user=rater).excluded
    assert not rater_trust_set_override(user=rater, override="trusted").excluded
    assert not rater_trust_recompute(user=rater).excluded  # the override survives recomputing
    good = seasoned(bob[0])
    assert rater_trust_set_override(user=good, override="blocked").excluded
    assert rater_trust_recompute(user=good).excluded


def test_the_periodic_task_recomputes_every_rater(charlie, golds):
    rater = seasoned(charlie[0])
    for _request in golds:
        judge_in_arena(rater, winner_position=1)
    RaterTrust.objects.filter(user=rater).update(excluded=False, score=1.0, gold_votes=0)
    assert rater_trust_recompute_all_task.apply().get() >= 1
    trust = RaterTrust.objects.get(user=rater)
    assert (trust.gold_votes, trust.excluded) == (3, True)
    assert rater_trust_recompute_all() >= 1


def test_the_task_is_scheduled_on_the_housekeeping_queue(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["ratings-trust-recompute"]
    assert entry["task"] == rater_trust_recompute_all_task.name
    assert entry["options"]["queue"] == "housekeeping"
