"""The throttle under concurrency, on PostgreSQL with threads.

The pair: a naive check-then-insert (written here, for the test only) lets two votes of one
rater through at the same instant; arena_vote checks the throttle holding the rater's
trust-row lock, so the second waits for the first to commit, sees it, and is refused.
"""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.utils import timezone

from ratings.models import Vote
from ratings.services import Judgement, RatingError, arena_next, arena_vote, voting
from ratings.services.voting import check_arena_throttle
from tests.threads import run_in_threads

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def throttle(settings):
    settings.RATINGS_MIN_SECONDS_TO_VOTE = 0
    settings.RATINGS_GOLD_EVERY = 0
    settings.RATINGS_CALIBRATION_CHECKS = 0
    settings.RATINGS_ARENA_MIN_VOTE_INTERVAL_SECONDS = 3
    settings.RATINGS_ARENA_MAX_VOTES_PER_MINUTE = 12


def test_without_the_lock_two_simultaneous_votes_both_pass_the_throttle(alice, charlie, make_pair):
    for _ in range(2):
        make_pair(alice[0])
    now = timezone.now()
    assignments = [arena_next(rater=charlie[0], now=now) for _ in range(2)]
    barrier = threading.Barrier(2)

    def naive_vote(index):
        check_arena_throttle(rater=charlie[0], now=now)  # read without the trust-row lock
        barrier.wait(timeout=10)
        assignment = assignments[index]
        return Vote.objects.create(
            created_at=now,
            request=assignment.request,
            rater=charlie[0],
            source=Vote.Source.ARENA,
            assignment=assignment,
            left_image=assignment.left_image,
            right_image=assignment.right_image,
            choice="left",
        )

    results = run_in_threads(naive_vote)
    assert all(isinstance(result, Vote) for result in results), results
    assert Vote.objects.filter(rater=charlie[0]).count() == 2  # two votes 0 s apart: the race happened


def test_with_the_lock_only_one_of_two_simultaneous_votes_passes(alice, charlie, make_pair, monkeypatch):
    for _ in range(2):
        make_pair(alice[0])
    now = timezone.now() + dt.timedelta(seconds=1)
    assignments = [arena_next(rater=charlie[0], now=now - dt.timedelta(seconds=1)) for _ in range(2)]
    barrier = threading.Barrier(2)
    original = voting.rater_last_answer_at

    def read_then_wait(**kwargs):
        found = original(**kwargs)
        barrier.wait(timeout=10)  # both are past their checks before either takes the lock
        return found

    monkeypatch.setattr(voting, "rater_last_answer_at", read_then_wait)
    results = run_in_threads(
        lambda index: arena_vote(
            rater=charlie[0], assignment_id=assignments[index].id, judgement=Judgement(choice="left"), now=now
        )
    )
    assert sum(isinstance(result, Vote) for result in results) == 1, results
    assert [(r.status, r.rc) for r in results if isinstance(r, RatingError)] == [(429, "TooManyVotes")]
    assert Vote.objects.filter(rater=charlie[0]).count() == 1
