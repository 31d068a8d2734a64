"""Single-image control answers and divergence feed the same rater trust as the arena."""

from __future__ import annotations

import pytest

from aesthetics.services import image_rate
from ratings.services.trust import rater_trust_recompute

from .conftest import set_images

pytestmark = pytest.mark.django_db


def test_failed_control_images_exclude_the_rater_at_once_and_stop_the_rewards(charlie, make_set, settings):
    settings.RATINGS_TRUST_MIN_GOLD = 3
    images = set_images(make_set(count=5, controls={0: 7, 1: 3, 2: 9}))
    rewards = [image_rate(rater=charlie[0], image_id=image.id, rating=5, artifacts=None).kudos_paid for image in images]
    trust = charlie[0].rater_trust
    trust.refresh_from_db()
    assert (trust.gold_votes, trust.gold_agreement) == (3, 0.0)
    assert trust.excluded
    # The three control answers paid like any image (they must not stand out); after them, nothing.
    assert rewards[:3] == [settings.AESTHETICS_RATING_REWARD] * 3 and rewards[3:] == [0, 0]


def test_control_images_answered_as_told_keep_the_rater_in(charlie, make_set, settings):
    settings.RATINGS_TRUST_MIN_GOLD = 3
    images = set_images(make_set(count=3, controls={0: 7, 1: 3, 2: 9}))
    for image in images:
        image_rate(rater=charlie[0], image_id=image.id, rating=image.control_rating, artifacts=0)
    trust = charlie[0].rater_trust
    trust.refresh_from_db()
    assert (trust.gold_votes, trust.gold_agreement, trust.excluded) == (3, 1.0, False)


def test_divergence_from_the_crowd_counts_as_consensus_disagreement(alice, bob, charlie, make_user, make_set, settings):
    settings.RATINGS_TRUST_MIN_CONSENSUS = 5
    settings.AESTHETICS_MAX_DIVERGENCE = 3
    images = set_images(make_set(count=5))
    dave = make_user("dave")
    for image in images:
        image_rate(rater=alice[0], image_id=image.id, rating=9, artifacts=None)
        image_rate(rater=bob[0], image_id=image.id, rating=8, artifacts=None)
        image_rate(rater=charlie[0], image_id=image.id, rating=1, artifacts=None)  # far from 8.5
        image_rate(rater=dave[0], image_id=image.id, rating=7, artifacts=None)  # within 3 of the rest

    charlie_trust = rater_trust_recompute(user=charlie[0])
    dave_trust = rater_trust_recompute(user=dave[0])

    assert (charlie_trust.consensus_votes, charlie_trust.consensus_agreement) == (5, 0.0)
    assert charlie_trust.excluded
    assert (dave_trust.consensus_votes, dave_trust.consensus_agreement, dave_trust.excluded) == (5, 1.0, False)


def test_an_excluded_raters_ratings_are_not_the_consensus_others_are_judged_by(alice, bob, charlie, make_set, settings):
    settings.RATINGS_TRUST_MIN_CONSENSUS = 1
    image = set_images(make_set(count=1))[0]
    for rater, value in ((alice, 1), (bob, 1), (charlie, 9)):
        image_rate(rater=rater[0], image_id=image.id, rating=value, artifacts=None)
    alice[0].rater_trust.__class__.objects.filter(user__in=[alice[0], bob[0]]).update(excluded=True)
    assert rater_trust_recompute(user=charlie[0]).consensus_votes == 0  # no counted others left
