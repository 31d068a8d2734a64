"""Rigging the leaderboard from the arena, through the real services with a controllable clock.

Eight seasoned raters prefer base over refiner 4 to 1. Then four fresh accounts vote refiner
on every pair, as fast as the throttle lets them, for five minutes. With the defence (the
default settings: calibration on check items, the throttle, trust weights and their cap)
no rank moves and the order of strengths holds; with every weight forced to 1 (and nobody
excluded) the ranks flip, so the scenario is strong enough to need the defence. Patient
sybils who pass calibration honestly and then vote one way are flagged and left out.
"""

from __future__ import annotations

import datetime as dt
import random

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import User
from generation.models import Pipeline
from kudos.selectors import user_balance
from ratings import leaderboard
from ratings.leaderboard import leaderboard_compute
from ratings.models import GoldPair, RaterTrust, Vote
from ratings.selectors import vote_weights
from ratings.services import Judgement, RatingError, arena_next, rater_trust_recompute_all

from .arena_helpers import honest_judgement, pipeline_side, vote_at
from .conftest import shown_pair

pytestmark = pytest.mark.django_db

T0 = timezone.now().replace(microsecond=0) + dt.timedelta(days=1)
HONEST_PAIRS = 22  # 15 calibration pairs (5 of them checks), then 7 more


@pytest.fixture(autouse=True)
def defaults(settings):
    # The shipped defaults, spelled out: these are what the test shows to hold.
    settings.RATINGS_MIN_SECONDS_TO_VOTE = 1.5
    settings.RATINGS_ARENA_MIN_VOTE_INTERVAL_SECONDS = 3
    settings.RATINGS_ARENA_MAX_VOTES_PER_MINUTE = 12
    settings.RATINGS_CALIBRATION_CHECKS = 5
    settings.RATINGS_CALIBRATION_PAIRS = 15
    settings.RATINGS_CALIBRATION_AGREEMENT = 0.8
    settings.RATINGS_GOLD_EVERY = 10
    settings.RATINGS_WEIGHT_CAP = 1.0
    settings.RATINGS_RATER_FULL_VOTES_PER_MODEL = 50


@pytest.fixture
def pipelines(sdxl_model):
    return Pipeline.objects.get(model=sdxl_model, name="base"), Pipeline.objects.get(model=sdxl_model, name="refiner")


@pytest.fixture
def pool(alice, make_pair, pipelines):
    """80 shared pairs; 10 of them gold, half won by the base image and half by the refiner's."""
    base, _ = pipelines
    requests = [make_pair(alice[0]) for _ in range(80)]
    for index, request in enumerate(requests[:10]):
        position0, _ = shown_pair(request)
        base_at_0 = position0.job.pipeline_id == base.pk
        wants_base = index % 2 == 0
        GoldPair.objects.create(request=request, expected_choice="left" if base_at_0 == wants_base else "right")
    return requests


def seasoned(make_user, name: str) -> User:
    user = make_user(name)[0]
    User.objects.filter(pk=user.pk).update(date_joined=T0 - dt.timedelta(days=30))
    user.refresh_from_db()
    return user


@pytest.fixture
def honest_crowd(make_user, pool, pipelines):
    """Eight raters, one after another, 8 s a pair; base's image wins 4 times in 5 for them.

    4 to 1 (not 3 to 1) so that the honest board's interval of the difference clears 0 by a
    margin whatever pairs the arena hands out: at 3 to 1 its lower end ranged 0.1-0.6 over the
    arena's draws, close enough to 0 for a rare tied rank unrelated to the defence.
    """
    base, _ = pipelines
    chooser = random.Random(8)
    random.seed(8)  # the arena's own draws (check slots, shown order)
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.08)")  # and PostgreSQL's (the fewest-votes tie break)
    crowd = [seasoned(make_user, f"honest{index}") for index in range(8)]
    for index, rater in enumerate(crowd):
        now = T0 + dt.timedelta(hours=index)
        for _ in range(HONEST_PAIRS):
            assignment = arena_next(rater=rater, now=now)
            now += dt.timedelta(seconds=8)
            base_side = pipeline_side(assignment, base.pk)
            liked = base_side if chooser.random() < 0.8 else ("right" if base_side == "left" else "left")
            vote_at(rater, assignment, honest_judgement(assignment, preferred_side=liked), now)
    rater_trust_recompute_all(now=T0 + dt.timedelta(hours=9))
    return crowd


def attack(riggers: list[User], *, favourite: Pipeline, start: dt.datetime, minutes: float) -> dict[str, int]:
    """Each rigger fetches a pair and tries to vote for `favourite` every 1.5 s (the fastest a
    vote is accepted after a pair appears), fetching the next pair the moment a vote lands."""
    current: dict[int, object] = {}
    tally = {"accepted": 0, "throttled": 0}
    for tick in range(int(minutes * 60 / 1.5)):
        now = start + dt.timedelta(seconds=1.5 * tick)
        for rigger in riggers:
            assignment = current.get(rigger.pk)
            if assignment is None:
                current[rigger.pk] = arena_next(rater=rigger, now=now)
                continue
            judgement_side = pipeline_side(assignment, favourite.pk)
            try:
                vote_at(rigger, assignment, Judgement(choice=judgement_side), now)
            except RatingError as exc:
                assert exc.rc == "TooManyVotes", exc.message
                tally["throttled"] += 1
                continue
            tally["accepted"] += 1
            current[rigger.pk] = arena_next(rater=rigger, now=now)
    return tally


def standings(board) -> list[tuple[str, int]]:
    (model,) = board["models"]
    return [(row["name"], row["rank"]) for row in model["pipelines"]]


def undefended(monkeypatch) -> None:
    """The leaderboard without the defence: every live vote counts, each with weight 1."""

    def everyone_alike(*, rater_ids):
        voters = Vote.objects.values_list("rater_id", flat=True) if rater_ids is None else rater_ids
        return dict.fromkeys(voters, 1.0)

    monkeypatch.setattr(leaderboard, "vote_weights", everyone_alike)
    monkeypatch.setattr(leaderboard, "votes_counted", lambda: Vote.objects.filter(retracted_at__isnull=True))


def test_fresh_accounts_voting_the_other_way_at_full_speed_move_no_rank(
    honest_crowd, pipelines, make_user, monkeypatch
):
    _, refiner = pipelines
    before = leaderboard_compute(rounds=100, seed=1)
    assert standings(before) == [("base", 1), ("refiner", 2)]
    riggers = [make_user(f"fresh{index}")[0] for index in range(4)]
    tally = attack(riggers, favourite=refiner, start=T0 + dt.timedelta(hours=10), minutes=5)
    # The throttle held them to 12 votes a minute each, and refused the rest.
    assert tally["throttled"] > tally["accepted"] > 0
    assert tally["accepted"] <= 4 * 12 * 5
    rater_trust_recompute_all(now=T0 + dt.timedelta(hours=11))

    after = leaderboard_compute(rounds=100, seed=1)
    assert standings(after) == standings(before)
    strengths = {row["name"]: row["strength"] for row in after["models"][0]["pipelines"]}
    assert strengths["base"] > strengths["refiner"]
    assert after["models"] == before["models"]  # their votes weigh nothing at all
    assert set(vote_weights(rater_ids={r.pk for r in riggers}).values()) == {0.0}
    assert not any(RaterTrust.objects.get(user=r).calibrated for r in riggers)
    assert all(user_balance(user=r) == 0 for r in riggers)  # and they earned nothing
    honest = vote_weights(rater_ids={r.pk for r in honest_crowd})
    assert all(weight > 0 for weight in honest.values()), honest

    # Without the defence the same votes flip the board.
    undefended(monkeypatch)
    flipped = leaderboard_compute(rounds=100, seed=1)
    assert standings(flipped)[0] == ("refiner", 1)
    assert flipped["models"][0]["votes"] > after["models"][0]["votes"]


def test_patient_sybils_who_pass_calibration_and_then_vote_one_way_are_flagged_and_left_out(
    honest_crowd, pipelines, make_user, monkeypatch
):
    base, refiner = pipelines
    before = leaderboard_compute(rounds=100, seed=1)
    chooser = random.Random(3)
    sybils = [seasoned(make_user, f"patient{index}") for index in range(3)]
    start = T0 + dt.timedelta(hours=10)
    for index, sybil in enumerate(sybils):
        # Calibration done honestly (they cannot tell the check items apart, so every pair is judged well).
        now = start + dt.timedelta(minutes=10 * index)
        for _ in range(15):
            assignment = arena_next(rater=sybil, now=now)
            now += dt.timedelta(seconds=8)
            base_side = pipeline_side(assignment, base.pk)
            liked = base_side if chooser.random() < 0.75 else ("right" if base_side == "left" else "left")
            vote_at(sybil, assignment, honest_judgement(assignment, preferred_side=liked), now)
        assert RaterTrust.objects.get(user=sybil).calibrated
    # Then all of them vote refiner as fast as the throttle allows.
    tally = attack(sybils, favourite=refiner, start=start + dt.timedelta(hours=1), minutes=4)
    assert tally["accepted"] > 0
    rater_trust_recompute_all(now=start + dt.timedelta(hours=2))
    trusts = [RaterTrust.objects.get(user=sybil) for sybil in sybils]
    assert all(trust.excluded for trust in trusts)
    assert any(trust.flagged and trust.bias_pipeline_id == refiner.pk for trust in trusts)
    assert set(vote_weights(rater_ids={s.pk for s in sybils}).values()) == {0.0}
    after = leaderboard_compute(rounds=100, seed=1)
    assert standings(after) == standings(before) == [("base", 1), ("refiner", 2)]
    undefended(monkeypatch)
    assert standings(leaderboard_compute(rounds=100, seed=1))[0] == ("refiner", 1)
