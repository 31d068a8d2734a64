"""Raters earn after proof: a new rater's first pairs carry check items, served like any pair;
arena kudos and vote weight start only once they passed calibration."""

from __future__ import annotations

import datetime as dt
import json
import random

import pytest
from django.utils import timezone

from ratings.models import GoldPair, PairAssignment, RaterTrust, Vote
from ratings.selectors import vote_weights
from ratings.services import Judgement, arena_next, rater_trust_recompute, rater_trust_set_override
from ratings.services.voting import check_chance

from .arena_helpers import honest_judgement, side_of, vote_at
from .conftest import shown_pair

pytestmark = pytest.mark.django_db

CHECKS, PAIRS = 3, 6


@pytest.fixture(autouse=True)
def calibration(settings):
    settings.RATINGS_MIN_SECONDS_TO_VOTE = 0
    settings.RATINGS_ARENA_MIN_VOTE_INTERVAL_SECONDS = 0
    settings.RATINGS_ARENA_MAX_VOTES_PER_MINUTE = 0
    settings.RATINGS_GOLD_EVERY = 0  # once calibrated: no more check items in these tests
    settings.RATINGS_CALIBRATION_CHECKS = CHECKS
    settings.RATINGS_CALIBRATION_PAIRS = PAIRS
    settings.RATINGS_CALIBRATION_AGREEMENT = 0.8
    settings.RATINGS_TRUST_MIN_GOLD = 3
    settings.RATINGS_TRUST_MAX_VOTES_PER_MINUTE = 1e9


@pytest.fixture
def arena(alice, make_pair):
    """Twelve real pairs and four gold pairs (the image at position 0 is the known winner)."""
    real = [make_pair(alice[0]) for _ in range(12)]
    golds = [make_pair(alice[0]) for _ in range(4)]
    for request in golds:
        GoldPair.objects.create(request=request, expected_choice="left")
    return real, golds


def test_the_first_pairs_carry_the_check_items_at_random_places(make_user, arena):
    random.seed(11)
    places = set()
    for index in range(8):
        rater = make_user(f"new{index}")[0]
        issued = [arena_next(rater=rater) for _ in range(PAIRS)]
        flags = tuple(assignment.is_gold for assignment in issued)
        assert sum(flags) >= CHECKS, flags
        places.add(flags)
    assert len(places) > 1  # not always the same slots: the place of a check says nothing


def test_the_chance_of_a_check_item_follows_the_calibration_plan(settings):
    assert check_chance(calibrated=False, issued=0, checks_issued=0) == pytest.approx(CHECKS / PAIRS)
    assert check_chance(calibrated=False, issued=3, checks_issued=0) == 1.0  # every slot left must be one
    assert check_chance(calibrated=False, issued=4, checks_issued=3) == 0.0  # enough already
    assert check_chance(calibrated=False, issued=PAIRS + 5, checks_issued=1) == pytest.approx(CHECKS / PAIRS)
    settings.RATINGS_GOLD_EVERY = 10
    assert check_chance(calibrated=True, issued=50, checks_issued=3) == pytest.approx(0.1)
    settings.RATINGS_CALIBRATION_CHECKS = 0
    assert check_chance(calibrated=False, issued=0, checks_issued=0) == pytest.approx(0.1)


def test_a_check_item_looks_exactly_like_a_real_pair_in_the_api(api_client, charlie, arena):
    random.seed(3)
    key = charlie[1]
    served = []
    while len(served) < PAIRS:
        served.append(api_client.get("/api/v2/ratings/arena/next", HTTP_APIKEY=key).json())
    checks = [data for data in served if PairAssignment.objects.get(pk=data["assignment"]["id"]).is_gold]
    reals = [data for data in served if not PairAssignment.objects.get(pk=data["assignment"]["id"]).is_gold]
    assert checks and reals

    def shape(value):
        if isinstance(value, dict):
            return {name: shape(item) for name, item in value.items()}
        return type(value).__name__

    assert {json.dumps(shape(data), sort_keys=True) for data in served} == {json.dumps(shape(reals[0]), sort_keys=True)}
    for data in checks:
        raw = json.dumps(data).lower()
        assert "gold" not in raw and "control" not in raw and "check" not in raw
    # Voting on either answers the same way, with the same reward (0 before calibration).
    answers = []
    for data in (checks[0], reals[0]):
        response = api_client.post(
            f"/api/v2/ratings/arena/{data['assignment']['id']}", {"choice": "tie"}, format="json", HTTP_APIKEY=key
        )
        assert response.status_code == 200
        answers.append(response.json())
    assert [sorted(answer) for answer in answers] == [["reveal", "reward", "today", "vote_id"]] * 2
    assert json.dumps(shape(answers[0]), sort_keys=True) == json.dumps(shape(answers[1]), sort_keys=True)
    assert [answer["reward"] for answer in answers] == [0, 0]


def test_the_arena_page_carries_no_check_flag(charlie, arena):
    from django.test import Client

    client = Client()
    client.force_login(charlie[0])
    html = client.get("/ratings/arena").content.decode().lower()
    assert "gold" not in html and "is_gold" not in html and "control image" not in html


def answer_honestly(rater, assignment, now):
    return vote_at(rater, assignment, honest_judgement(assignment, preferred_side="left"), now)


def test_arena_kudos_and_weight_start_only_after_calibration(charlie, arena):
    random.seed(5)
    rater = charlie[0]
    now = timezone.now()
    rewards, weights = [], []
    for step in range(PAIRS + 3):
        moment = now + dt.timedelta(seconds=10 * step)
        assignment = arena_next(rater=rater, now=moment)
        rewards.append(answer_honestly(rater, assignment, moment).kudos_paid)
        weights.append(vote_weights(rater_ids={rater.pk})[rater.pk])
    trust = rater_trust_recompute(user=rater)  # once calibrated, figures refresh on checks and periodically
    assert trust.gold_votes >= CHECKS  # at least K among the first P (more is allowed by chance)
    assert (trust.gold_agreement, trust.arena_votes) == (1.0, PAIRS + 3)
    assert trust.calibrated
    # Nothing while proving themselves (P pairs, K checks among them); then the usual reward.
    assert rewards == [0] * PAIRS + [2, 2, 2]
    assert weights[: PAIRS - 1] == [0.0] * (PAIRS - 1)
    assert weights[-1] == pytest.approx(RaterTrust.objects.get(user=rater).score)


def test_a_rater_who_fails_the_check_items_never_earns_and_weighs_nothing(charlie, arena):
    random.seed(7)
    rater = charlie[0]
    now = timezone.now()
    for step in range(PAIRS + 3):
        moment = now + dt.timedelta(seconds=10 * step)
        assignment = arena_next(rater=rater, now=moment)
        if assignment is None:
            break
        # Always the image at position 1: the wrong one on every gold pair.
        wrong = side_of(assignment, shown_pair(assignment.request)[1].id)
        assert vote_at(rater, assignment, Judgement(choice=wrong), moment).kudos_paid == 0
    trust = RaterTrust.objects.get(user=rater)
    assert trust.gold_votes >= CHECKS and trust.gold_agreement == 0.0
    assert not trust.calibrated and trust.excluded
    assert vote_weights(rater_ids={rater.pk}) == {rater.pk: 0.0}
    assert Vote.objects.filter(rater=rater).count() >= PAIRS  # kept, but weighing nothing


def test_vote_weights_are_zero_for_new_raters_capped_and_diminish_past_many_votes_on_one_model(
    make_user, alice, make_pair, plain_model, settings
):
    settings.RATINGS_WEIGHT_CAP = 0.9
    settings.RATINGS_RATER_FULL_VOTES_PER_MODEL = 4
    proven = {"gold_votes": CHECKS, "gold_agreement": 1.0, "arena_votes": PAIRS}
    new = make_user("new")[0]
    middling = make_user("middling")[0]
    RaterTrust.objects.create(user=middling, score=0.6, **proven)
    star = make_user("star")[0]
    RaterTrust.objects.create(user=star, score=1.0, **proven)
    staff_pick = make_user("staff_pick")[0]
    rater_trust_set_override(user=staff_pick, override="trusted")
    flagged = make_user("flagged")[0]
    RaterTrust.objects.create(user=flagged, score=1.0, flagged=True, **proven)
    weights = vote_weights(rater_ids={new.pk, middling.pk, star.pk, staff_pick.pk, flagged.pk})
    assert weights == {new.pk: 0.0, middling.pk: 0.6, star.pk: 0.9, staff_pick.pk: 0.9, flagged.pk: 0.0}
    # Eight live votes on one model: each weighs 4/8 of the rater's weight (together: four).
    requests = [make_pair(alice[0]) for _ in range(8)]
    for request in requests:
        left, right = shown_pair(request)
        Vote.objects.create(
            request=request, rater=star, source="arena", left_image=left, right_image=right, choice="left"
        )
    assert vote_weights(rater_ids={star.pk}) == {star.pk: pytest.approx(0.45)}
    # Votes on another model do not add to the busiest model's count.
    other = make_pair(alice[0], model=plain_model)
    left, right = shown_pair(other)
    Vote.objects.create(request=other, rater=star, source="arena", left_image=left, right_image=right, choice="left")
    assert vote_weights(rater_ids={star.pk}) == {star.pk: pytest.approx(0.45)}
    assert vote_weights(rater_ids=set()) == {}
    # Every rater at once (the leaderboard's read): those with live votes, the same weights.
    assert vote_weights(rater_ids=None) == {star.pk: pytest.approx(0.45)}


def test_check_items_are_drawn_balanced_so_voting_one_way_cannot_pass(charlie, alice, make_pair, sdxl_model):
    from generation.models import Pipeline

    from .arena_helpers import pipeline_side

    base = Pipeline.objects.get(model=sdxl_model, name="base")
    for _ in range(8):
        make_pair(alice[0])
    for index in range(8):
        request = make_pair(alice[0])
        position0 = shown_pair(request)[0]
        wants_base = index % 2 == 0
        expected = "left" if (position0.job.pipeline_id == base.pk) == wants_base else "right"
        GoldPair.objects.create(request=request, expected_choice=expected)
    rater = charlie[0]
    now = timezone.now()
    for step in range(PAIRS + 8):
        moment = now + dt.timedelta(seconds=10 * step)
        assignment = arena_next(rater=rater, now=moment)
        if assignment is None:
            break
        vote_at(rater, assignment, Judgement(choice=pipeline_side(assignment, base.pk)), moment)
        trust = RaterTrust.objects.get(user=rater)
        assert not trust.calibrated
        assert trust.gold_votes < 2 or trust.gold_agreement <= 2 / 3
    assert RaterTrust.objects.get(user=rater).gold_votes >= CHECKS


def test_the_arena_reads_a_raters_standing_in_one_query(charlie, arena, django_assert_num_queries):
    """What the check-item chance depends on (calibrated, pairs issued, check items issued),
    read in one statement: no trust row yet, then issued pairs counted once per request, then
    calibrated by its figures and by a staff override."""
    from ratings.selectors import rater_arena_standing

    rater = charlie[0]
    with django_assert_num_queries(1):
        assert rater_arena_standing(rater=rater) == (False, 0, 0)
    real, golds = arena
    # One real pair shown twice (either order), one check item.
    for request, is_gold, flip in ((real[0], False, False), (real[0], False, True), (golds[0], True, False)):
        left, right = shown_pair(request)
        if flip:
            left, right = right, left
        PairAssignment.objects.create(
            rater=rater, request=request, left_image=left, right_image=right, is_gold=is_gold, issued_at=timezone.now()
        )
    assert rater_arena_standing(rater=rater) == (False, 2, 1)
    RaterTrust.objects.create(user=rater, gold_votes=CHECKS, gold_agreement=0.9, arena_votes=PAIRS - 1)
    assert rater_arena_standing(rater=rater)[0] is False  # one pair short
    RaterTrust.objects.filter(user=rater).update(arena_votes=PAIRS)
    assert rater_arena_standing(rater=rater)[0] is True
    RaterTrust.objects.filter(user=rater).update(gold_agreement=0.5)
    assert rater_arena_standing(rater=rater)[0] is False
    RaterTrust.objects.filter(user=rater).update(override=RaterTrust.Override.TRUSTED)
    assert rater_arena_standing(rater=rater)[0] is True
