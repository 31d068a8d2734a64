"""The arena throttle: a minimum interval between a rater's votes and a per-minute cap.

A throttled vote is refused with 429 TooManyVotes, stores nothing, pays nothing, and the
same pair can be voted on once the rater waited.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from ratings.models import PairAssignment, Vote
from ratings.services import Judgement, RatingError, arena_next, arena_undo, arena_vote

from .conftest import ledger_counts

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def throttle(settings):
    settings.RATINGS_MIN_SECONDS_TO_VOTE = 0
    settings.RATINGS_GOLD_EVERY = 0
    settings.RATINGS_CALIBRATION_CHECKS = 0  # calibration has its own tests
    settings.RATINGS_ARENA_MIN_VOTE_INTERVAL_SECONDS = 3
    settings.RATINGS_ARENA_MAX_VOTES_PER_MINUTE = 4


@pytest.fixture
def many_pairs(alice, make_pair):
    return [make_pair(alice[0]) for _ in range(8)]


T0 = timezone.now().replace(microsecond=0) + dt.timedelta(days=1)


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def vote(rater, seconds: float, assignment: PairAssignment | None = None) -> Vote:
    assignment = assignment or arena_next(rater=rater, now=at(seconds))
    return arena_vote(rater=rater, assignment_id=assignment.id, judgement=Judgement(choice="left"), now=at(seconds))


def test_a_vote_sooner_than_the_interval_is_refused_stores_nothing_and_can_be_cast_later(charlie, many_pairs):
    rater = charlie[0]
    vote(rater, 0)
    waiting = arena_next(rater=rater, now=at(0))
    before = ledger_counts()
    with pytest.raises(RatingError) as refused:
        vote(rater, 2.5, waiting)
    assert (refused.value.status, refused.value.rc) == (429, "TooManyVotes")
    assert "3s apart" in refused.value.message
    assert ledger_counts() == before
    assert Vote.objects.filter(rater=rater).count() == 1
    assert PairAssignment.objects.get(pk=waiting.pk).answered_at is None
    # The same pair, once the interval has passed: counted and paid.
    assert vote(rater, 3, waiting).kudos_paid == 2


def test_the_per_minute_cap_refuses_the_next_vote_until_the_minute_has_passed(charlie, many_pairs):
    rater = charlie[0]
    for second in (0, 3, 6, 9):
        vote(rater, second)
    waiting = arena_next(rater=rater, now=at(9))
    with pytest.raises(RatingError) as refused:
        vote(rater, 30, waiting)
    assert (refused.value.status, refused.value.rc) == (429, "TooManyVotes")
    assert "At most 4 arena votes a minute" in refused.value.message
    with pytest.raises(RatingError):
        vote(rater, 59.5, waiting)  # the vote at 0 s is still inside the last 60 s
    assert vote(rater, 60, waiting).choice == "left"
    assert Vote.objects.filter(rater=rater).count() == 5


def test_undoing_a_vote_does_not_buy_back_throttle_room(charlie, many_pairs, settings):
    settings.RATINGS_ARENA_MAX_VOTES_PER_MINUTE = 1
    settings.RATINGS_ARENA_MIN_VOTE_INTERVAL_SECONDS = 0
    rater = charlie[0]
    first = arena_next(rater=rater, now=at(0))
    vote(rater, 1, first)
    arena_undo(rater=rater, assignment_id=first.id, now=at(2))
    with pytest.raises(RatingError) as refused:
        vote(rater, 5)
    assert refused.value.rc == "TooManyVotes"


def test_each_rater_has_their_own_throttle(charlie, bob, many_pairs):
    vote(charlie[0], 0)
    assert vote(bob[0], 0.5).rater == bob[0]


def test_the_api_answers_429_too_many_votes_and_changes_nothing(api_client, charlie, many_pairs):
    key = charlie[1]
    first = api_client.get("/api/v2/ratings/arena/next", HTTP_APIKEY=key).json()["assignment"]
    second = api_client.get("/api/v2/ratings/arena/next", HTTP_APIKEY=key).json()["assignment"]
    assert api_client.post(f"/api/v2/ratings/arena/{first['id']}", {"choice": "left"}, format="json", HTTP_APIKEY=key)
    before = ledger_counts()
    response = api_client.post(
        f"/api/v2/ratings/arena/{second['id']}", {"choice": "right"}, format="json", HTTP_APIKEY=key
    )
    assert response.status_code == 429
    assert response.json()["rc"] == "TooManyVotes"
    assert response.json()["message"]
    assert ledger_counts() == before
    assert not Vote.objects.filter(assignment_id=second["id"]).exists()
    assert PairAssignment.objects.get(pk=second["id"]).answered_at is None


def test_own_pair_votes_are_not_throttled(alice, make_pair):
    from ratings.services import own_pair_vote

    requests = [make_pair(alice[0]) for _ in range(2)]
    for request in requests:
        own_pair_vote(rater=alice[0], generation_request=request, judgement=Judgement(choice="left"))
    assert Vote.objects.filter(rater=alice[0]).count() == 2
