"""The stored live-vote counter under concurrent votes, undos and skips, on PostgreSQL with
threads: a read-then-write counter loses votes; the one F() update keeps every one."""

from __future__ import annotations

import threading

import pytest

from generation.models import GenerationRequest
from ratings.models import Vote
from ratings.services import Judgement, arena_next, arena_skip, arena_undo, arena_vote, voting
from tests.threads import run_in_threads

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def quick(settings):
    settings.RATINGS_MIN_SECONDS_TO_VOTE = 0
    settings.RATINGS_GOLD_EVERY = 0
    settings.RATINGS_CALIBRATION_CHECKS = 0
    settings.RATINGS_ARENA_MIN_VOTE_INTERVAL_SECONDS = 0
    settings.RATINGS_ARENA_MAX_VOTES_PER_MINUTE = 0
    settings.RATINGS_ARENA_TARGET_VOTES = 0


def counts(pair: GenerationRequest) -> tuple[int, int]:
    stored = GenerationRequest.objects.values_list("arena_votes", flat=True).get(pk=pair.pk)
    return stored, Vote.objects.filter(request=pair, retracted_at__isnull=True).count()


def served(make_user, name: str, pair: GenerationRequest):
    rater = make_user(name)[0]
    assignment = arena_next(rater=rater)
    assert assignment.request_id == pair.id
    return rater, assignment


def test_without_the_f_update_simultaneous_votes_lose_counts(alice, make_user, make_pair, monkeypatch):
    pair = make_pair(alice[0])
    seats = [served(make_user, f"rater{index}", pair) for index in range(3)]
    barrier = threading.Barrier(3)

    def read_then_write(*, request_id, delta, now):
        seen = GenerationRequest.objects.values_list("arena_votes", flat=True).get(pk=request_id)
        barrier.wait(timeout=10)  # all three read before any writes
        GenerationRequest.objects.filter(pk=request_id).update(arena_votes=seen + delta)

    monkeypatch.setattr(voting, "_count_vote", read_then_write)
    run_in_threads(
        lambda index: arena_vote(
            rater=seats[index][0], assignment_id=seats[index][1].id, judgement=Judgement(choice="left")
        ),
        count=3,
    )
    stored, real = counts(pair)
    assert real == 3 and stored < real  # the race is real: the read-then-write counter lost votes


def test_simultaneous_votes_on_one_pair_are_all_counted(alice, make_user, make_pair):
    pair = make_pair(alice[0])
    seats = [served(make_user, f"rater{index}", pair) for index in range(4)]
    barrier = threading.Barrier(4)

    def vote(index):
        barrier.wait(timeout=10)
        rater, assignment = seats[index]
        return arena_vote(rater=rater, assignment_id=assignment.id, judgement=Judgement(choice="right"))

    results = run_in_threads(vote, count=4)
    assert all(isinstance(result, Vote) for result in results), results
    assert counts(pair) == (4, 4)


def test_the_counter_equals_the_real_count_after_a_burst_of_votes_undos_and_skips(alice, make_user, make_pair):
    pair = make_pair(alice[0])
    undoers = [served(make_user, f"undoer{index}", pair) for index in range(3)]
    for rater, assignment in undoers:
        arena_vote(rater=rater, assignment_id=assignment.id, judgement=Judgement(choice="tie"))
    voters = [served(make_user, f"voter{index}", pair) for index in range(3)]
    skippers = [served(make_user, f"skipper{index}", pair) for index in range(2)]
    # One rater whose vote and skip of the same pair race each other: exactly one of them wins.
    racer = served(make_user, "racer", pair)
    actions = (
        [lambda r=r, a=a: arena_undo(rater=r, assignment_id=a.id) for r, a in undoers]
        + [
            lambda r=r, a=a: arena_vote(rater=r, assignment_id=a.id, judgement=Judgement(choice="left"))
            for r, a in voters
        ]
        + [lambda r=r, a=a: arena_skip(rater=r, assignment_id=a.id) for r, a in skippers]
        + [
            lambda: arena_vote(rater=racer[0], assignment_id=racer[1].id, judgement=Judgement(choice="left")),
            lambda: arena_skip(rater=racer[0], assignment_id=racer[1].id),
        ]
    )
    barrier = threading.Barrier(len(actions))

    def act(index):
        barrier.wait(timeout=10)
        return actions[index]()

    results = run_in_threads(act, count=len(actions))
    raced = results[-2:]
    assert sum(not isinstance(result, Exception) for result in raced) == 1, raced
    stored, real = counts(pair)
    assert stored == real
    assert real == 3 + (1 if isinstance(raced[0], Vote) else 0)
