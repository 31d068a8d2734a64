"""Two judgements of the same request at the same moment, on PostgreSQL with threads.

The pair of tests: a naive check-then-pay (written here, for the test only)
lets both threads through and pays twice; the service, whose vote insert and
rebate share one transaction behind the vote's unique constraint, pays once.
"""

from __future__ import annotations

import threading
import uuid

import pytest
from django.db import IntegrityError

from kudos.models import Transaction
from kudos.services import kudos_rebate
from ratings.models import Vote
from ratings.services import Judgement, RatingError, own_pair_vote, voting
from tests.threads import run_in_threads

from .conftest import shown_pair

pytestmark = pytest.mark.django_db(transaction=True)


def naive_judge(*, rater, request, barrier: threading.Barrier) -> str:
    """Check, then pay, then record: the window between check and record is the bug."""
    if Vote.objects.filter(request=request, rater=rater, retracted_at__isnull=True).exists():
        return "refused"
    barrier.wait(timeout=10)  # both threads have passed the check
    kudos_rebate(user=rater, amount=15, event_key=f"naive-rating:{uuid.uuid4()}")
    left, right = shown_pair(request)
    try:
        Vote.objects.create(
            request=request, rater=rater, source="owner", left_image=left, right_image=right, choice="left"
        )
    except IntegrityError:
        return "paid, vote refused"
    return "paid"


def test_the_race_shows_without_the_guard_a_naive_check_then_pay_pays_twice(alice, make_pair):
    request = make_pair(alice[0])
    barrier = threading.Barrier(2)
    results = run_in_threads(lambda _: naive_judge(rater=alice[0], request=request, barrier=barrier))
    assert sorted(results) == ["paid", "paid, vote refused"]
    assert Transaction.objects.filter(kind="rating_rebate").count() == 2


def test_the_guard_stops_it_two_simultaneous_judgements_pay_once(alice, make_pair, monkeypatch):
    request = make_pair(alice[0])
    barrier = threading.Barrier(2)
    original = voting.live_vote

    def live_vote_then_wait(**kwargs):
        found = original(**kwargs)
        barrier.wait(timeout=10)  # both threads have passed the service's own early check
        return found

    monkeypatch.setattr(voting, "live_vote", live_vote_then_wait)
    choices = ["left", "right"]
    results = run_in_threads(
        lambda index: own_pair_vote(
            rater=alice[0], generation_request=request, judgement=Judgement(choice=choices[index])
        )
    )
    votes = [result for result in results if isinstance(result, Vote)]
    errors = [result for result in results if isinstance(result, RatingError)]
    assert len(votes) == 1, results
    assert [error.rc for error in errors] == ["AestheticsAlreadyExist"]
    assert Vote.objects.filter(request=request).count() == 1
    assert Transaction.objects.filter(kind="rating_rebate").count() == 1
