"""Arena votes and undos racing each other, on PostgreSQL with threads: nothing is paid twice."""

from __future__ import annotations

import threading
import uuid

import pytest

from kudos.models import Transaction
from kudos.selectors import user_balance
from kudos.services import kudos_rebate
from ratings.models import Vote
from ratings.services import Judgement, RatingError, arena_next, arena_undo, arena_vote, voting
from tests.threads import run_in_threads

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def quick(settings):
    settings.RATINGS_MIN_SECONDS_TO_VOTE = 0
    settings.RATINGS_GOLD_EVERY = 0
    # Calibration and the throttle have their own tests (test_calibration.py, test_throttle.py).
    settings.RATINGS_CALIBRATION_CHECKS = 0
    settings.RATINGS_ARENA_MIN_VOTE_INTERVAL_SECONDS = 0
    settings.RATINGS_ARENA_MAX_VOTES_PER_MINUTE = 0


def test_two_simultaneous_votes_on_one_arena_pair_pay_once(alice, charlie, make_pair):
    make_pair(alice[0])
    assignment = arena_next(rater=charlie[0])
    barrier = threading.Barrier(2)

    def vote(index):
        barrier.wait(timeout=10)
        return arena_vote(rater=charlie[0], assignment_id=assignment.id, judgement=Judgement(choice="left"))

    results = run_in_threads(vote)
    assert sum(isinstance(result, Vote) for result in results) == 1, results
    assert [r.rc for r in results if isinstance(r, RatingError)] == ["AestheticsAlreadyExist"]
    assert Transaction.objects.filter(kind="rating_rebate").count() == 1
    assert user_balance(user=charlie[0]) == 2


def test_two_simultaneous_undos_pay_back_once(alice, charlie, make_pair):
    make_pair(alice[0])
    assignment = arena_next(rater=charlie[0])
    arena_vote(rater=charlie[0], assignment_id=assignment.id, judgement=Judgement(choice="left"))
    barrier = threading.Barrier(2)

    def undo(index):
        barrier.wait(timeout=10)
        return arena_undo(rater=charlie[0], assignment_id=assignment.id)

    results = run_in_threads(undo)
    assert [r.rc for r in results if isinstance(r, RatingError)] == ["VoteAlreadyUndone"], results
    assert Transaction.objects.filter(event_key__startswith="rating-undo:").count() == 1
    assert user_balance(user=charlie[0]) == 0


def test_the_lock_keeps_simultaneous_votes_under_the_daily_cap(alice, charlie, make_pair, settings, monkeypatch):
    settings.RATINGS_ARENA_DAILY_CAP = 3
    for _ in range(3):
        make_pair(alice[0])
    assignments = [arena_next(rater=charlie[0]) for _ in range(3)]
    barrier = threading.Barrier(3)
    original = voting.rater_last_answer_at

    def read_then_wait(**kwargs):
        found = original(**kwargs)
        barrier.wait(timeout=10)  # all three are past their checks before any commits
        return found

    monkeypatch.setattr(voting, "rater_last_answer_at", read_then_wait)
    results = run_in_threads(
        lambda index: arena_vote(
            rater=charlie[0], assignment_id=assignments[index].id, judgement=Judgement(choice="tie")
        ),
        count=3,
    )
    assert all(isinstance(result, Vote) for result in results), results
    assert sorted(result.kudos_paid for result in results) == [0, 1, 2]
    assert user_balance(user=charlie[0]) == 3


def test_the_cap_race_shows_without_the_lock_a_naive_read_then_pay_overshoots(charlie, settings):
    settings.RATINGS_ARENA_DAILY_CAP = 3
    barrier = threading.Barrier(3)

    def naive_pay(index):
        earned = user_balance(user=charlie[0])  # what was earned so far, read without a lock
        barrier.wait(timeout=10)
        amount = min(settings.RATINGS_ARENA_REWARD, settings.RATINGS_ARENA_DAILY_CAP - earned)
        kudos_rebate(user=charlie[0], amount=amount, event_key=f"naive-arena:{uuid.uuid4()}")

    run_in_threads(naive_pay, count=3)
    assert user_balance(user=charlie[0]) == 6  # twice the cap
