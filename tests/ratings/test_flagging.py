"""Flagging raters who side with one pipeline far more than chance allows.

The test (ratings.services.trust.side_taking) treats each of a rater's decisive votes as one
more draw among the pair's voters; a rater who picks one pipeline's image far more often than
those draws allow is flagged for staff, with the figures, and left out.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
from django.test import Client

from accounts.services import user_create
from generation.models import Pipeline
from ratings.models import Vote
from ratings.selectors import vote_weights
from ratings.services import rater_trust_recompute, rater_trust_set_override
from ratings.services.trust import side_taking

from .conftest import shown_pair

pytestmark = pytest.mark.django_db

ALPHA, MIN_SIDED = 0.001, 8


def simulated_rater(rng, *, votes: int, lean: float, rig: float) -> list[tuple[int, bool, float]]:
    """Observations of one rater on `votes` pairs of pipelines 1 and 2, with 2-6 other voters each.

    Each pair has its own quality gap (normal around `lean`, in log-odds toward pipeline 1);
    everyone picks pipeline 1 with the pair's chance; the rater, with chance `rig`, picks 2 anyway.
    """
    observations = []
    for _ in range(votes):
        chance_one = 1 / (1 + np.exp(-rng.normal(lean, 1.2)))
        others = int(rng.integers(2, 7))
        others_one = int((rng.random(others) < chance_one).sum())
        mine_one = bool(rng.random() < chance_one) and not rng.random() < rig
        voters = others + 1
        observations.append((1, mine_one, (others_one + mine_one) / voters))
        observations.append((2, not mine_one, (others - others_one + (not mine_one)) / voters))
    return observations


def flag_rate(*, raters: int, lean: float, rig: float, seed: int) -> float:
    rng = np.random.default_rng(seed)
    flagged = sum(
        side_taking(simulated_rater(rng, votes=80, lean=lean, rig=rig), alpha=ALPHA, min_sided=MIN_SIDED).flagged
        for _ in range(raters)
    )
    return flagged / raters


@pytest.mark.parametrize("lean", [0.0, 1.0, 2.5])
def test_honest_raters_are_almost_never_flagged_even_when_one_pipeline_is_far_better(lean):
    # Measured: 0 of 400 at each lean (alpha 0.001); the bound leaves room for chance.
    assert flag_rate(raters=400, lean=lean, rig=0.0, seed=1) <= 0.005


# Measured (80 votes each): a rater who overrides half their votes is caught 68% / 98% / 100%
# of the time at these leans; one who always picks the same pipeline, 100% at every lean.
@pytest.mark.parametrize(("lean", "at_least"), [(0.0, 0.6), (1.0, 0.9), (2.5, 0.95)])
def test_raters_who_side_with_one_pipeline_half_the_time_are_mostly_caught(lean, at_least):
    assert flag_rate(raters=100, lean=lean, rig=0.5, seed=2) >= at_least


def test_raters_who_always_pick_one_pipeline_are_caught():
    assert flag_rate(raters=100, lean=1.0, rig=1.0, seed=4) == 1.0


def test_the_test_reports_the_most_one_sided_pipeline_with_its_figures():
    # 20 pairs where 1 of 5 voters (the rater included) picked pipeline 2: the rater always did.
    observations = [(2, True, 1 / 5) for _ in range(20)] + [(1, False, 4 / 5) for _ in range(20)]
    result = side_taking(observations, alpha=ALPHA, min_sided=MIN_SIDED)
    assert (result.pipeline_id, result.opportunities, result.sided, result.expected_rate) == (2, 20, 20, 0.2)
    assert result.p_value == pytest.approx(2 * 0.2**20)  # one-sided binomial, Bonferroni over 2 pipelines
    assert result.flagged


def test_too_few_one_sided_votes_are_not_enough_to_flag():
    observations = [(2, True, 1 / 5) for _ in range(MIN_SIDED - 1)]
    result = side_taking(observations, alpha=ALPHA, min_sided=MIN_SIDED)
    assert result.p_value < ALPHA and not result.flagged
    assert side_taking([], alpha=ALPHA, min_sided=MIN_SIDED).p_value is None


@pytest.fixture
def crowd_and_sybil(settings, make_user, alice, make_pair, sdxl_model):
    """Six raters who prefer base 70/30 on 30 pairs; a patient sybil, calibrated like them, who
    picks refiner 85% of the time (so still agreeing with the crowd on many pairs)."""
    settings.RATINGS_CALIBRATION_CHECKS = 0  # all calibrated: this is about the flag
    settings.RATINGS_CONSENSUS_MIN_OTHERS = 2
    settings.RATINGS_FLAG_ALPHA = ALPHA
    settings.RATINGS_FLAG_MIN_SIDED = MIN_SIDED
    base = Pipeline.objects.get(model=sdxl_model, name="base")
    refiner = Pipeline.objects.get(model=sdxl_model, name="refiner")
    chooser = random.Random(42)
    crowd = [make_user(f"crowd{index}")[0] for index in range(6)]
    sybil = make_user("sybil")[0]
    for _ in range(30):
        request = make_pair(alice[0])
        left, right = shown_pair(request)
        for rater in [*crowd, sybil]:
            share_base = 0.15 if rater is sybil else 0.7
            wanted = base if chooser.random() < share_base else refiner
            choice = "left" if left.job.pipeline_id == wanted.pk else "right"
            Vote.objects.create(
                request=request, rater=rater, source="arena", left_image=left, right_image=right, choice=choice
            )
    return crowd, sybil, refiner


def test_a_one_sided_rater_is_flagged_with_the_figures_and_left_out(crowd_and_sybil):
    crowd, sybil, refiner = crowd_and_sybil
    trust = rater_trust_recompute(user=sybil)
    assert trust.flagged and trust.excluded
    assert trust.bias_pipeline_id == refiner.pk
    assert trust.bias_opportunities == 30 and trust.bias_sided >= 20
    assert trust.bias_expected_rate < trust.bias_sided / trust.bias_opportunities
    assert trust.bias_p_value < ALPHA
    assert vote_weights(rater_ids={sybil.pk}) == {sybil.pk: 0.0}
    assert not any(rater_trust_recompute(user=rater).flagged for rater in crowd)
    # Staff who know better can trust the rater: the figures stay, the exclusion goes.
    trusted = rater_trust_set_override(user=sybil, override="trusted")
    assert trusted.flagged and not trusted.excluded


def test_the_admin_trust_table_shows_flagged_raters_with_their_figures(crowd_and_sybil):
    _, sybil, _ = crowd_and_sybil
    trust = rater_trust_recompute(user=sybil)
    staff = user_create(username="staff", is_staff=True)
    staff.is_superuser = True
    staff.save()
    client = Client()
    client.force_login(staff)
    html = client.get("/admin/ratings/ratertrust/?flagged__exact=1").content.decode()
    assert "sybil" in html
    assert f"refiner v2: {trust.bias_sided}/30" in html
    assert f"p = {trust.bias_p_value:.2g}" in html
    assert "vote weight" in html.lower() and "calibrated" in html.lower()
    assert client.get(f"/admin/ratings/ratertrust/{trust.pk}/change/").status_code == 200
