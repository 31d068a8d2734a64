"""The set-based recompute of every rater's trust gives what the one-rater figures give.

A realistic small horde built with the ORM: pairs of two pipelines, gold pairs and control
images, owner and arena votes (some undone) in both shown orders, raters calibrated or not,
excluded, trusted and blocked by staff, a rigger who always picks one pipeline, and
single-image ratings with control images. Every rater's figures are computed one by one
(`_trust_figures`, read only) on that state, then `rater_trust_recompute_all` (set-based on
PostgreSQL) writes them all: each stored figure, score, flag and exclusion must match.
"""

from __future__ import annotations

import datetime as dt
import random

import pytest
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from aesthetics.models import ImageRating, RatingSet, SetImage
from ratings.models import ControlImage, GoldPair, RaterTrust, Vote
from ratings.services import rater_trust_recompute_all
from ratings.services.trust import _excluded, _trust_figures, trust_score

from .leaderboard import factories

pytestmark = pytest.mark.django_db

FIELDS = [
    "gold_votes",
    "gold_agreement",
    "consensus_votes",
    "consensus_agreement",
    "votes_per_minute",
    "account_age_days",
    "arena_votes",
    "flagged",
    "bias_pipeline_id",
    "bias_opportunities",
    "bias_sided",
    "bias_expected_rate",
    "bias_p_value",
]


@pytest.fixture(autouse=True)
def figures_settings(settings):
    settings.RATINGS_CALIBRATION_CHECKS = 2
    settings.RATINGS_CALIBRATION_PAIRS = 3
    settings.RATINGS_CALIBRATION_AGREEMENT = 0.5
    settings.RATINGS_CONSENSUS_MIN_OTHERS = 2
    settings.RATINGS_TRUST_MIN_GOLD = 2
    settings.RATINGS_TRUST_MIN_CONSENSUS = 2
    # Loose enough that the rigger and some honest raters are flagged: the bias figures are
    # compared with something in them.
    settings.RATINGS_FLAG_ALPHA = 0.2
    settings.RATINGS_FLAG_MIN_SIDED = 3
    settings.AESTHETICS_MAX_DIVERGENCE = 2


def build_horde(rng: random.Random, now: dt.datetime) -> list[User]:
    model = factories.make_model()
    pipelines = [factories.make_pipeline(model, name) for name in ("base", "refiner", "turbo")]
    owners = [User.objects.create(username=f"owner{index}") for index in range(3)]
    raters = [User.objects.create(username=f"rater{index}") for index in range(14)]
    for index, rater in enumerate(raters):
        User.objects.filter(pk=rater.pk).update(date_joined=now - dt.timedelta(days=index * 0.3))
    pairs = []
    for index in range(24):
        first, second = rng.sample(pipelines, 2)
        pairs.append(factories.make_pair(model, first, second, owner=owners[index % 3], prompt=f"prompt {index}"))
    for request, _, _ in pairs[:3]:
        GoldPair.objects.create(request=request, expected_choice=rng.choice(["left", "right", "tie"]))
    GoldPair.objects.create(request=pairs[3][0], expected_choice="left", active=False)
    for _, image, _ in pairs[4:7]:
        ControlImage.objects.create(image=image, expected_aesthetic=rng.randint(1, 10))
    rigger = raters[0]
    for request, image_a, image_b in pairs:
        voters = rng.sample(raters, rng.randint(2, 9))
        if rigger not in voters:
            voters.append(rigger)
        for voter in voters:
            left, right = (image_a, image_b) if rng.random() < 0.5 else (image_b, image_a)
            if voter is rigger:
                favourite = image_a if image_a.job.pipeline_id == pipelines[0].pk else image_b
                choice = "left" if left == favourite else "right"
            else:
                choice = rng.choice(["left", "right", "left", "right", "tie", "both_bad"])
            Vote.objects.create(
                request=request,
                rater=voter,
                source=rng.choice([Vote.Source.ARENA, Vote.Source.ARENA, Vote.Source.OWNER]),
                left_image=left,
                right_image=right,
                choice=choice,
                left_aesthetic=rng.choice([None, rng.randint(1, 10)]),
                right_aesthetic=rng.choice([None, rng.randint(1, 10)]),
                seconds_to_vote=rng.choice([None, 0.0, rng.uniform(1, 20)]),
                created_at=now - dt.timedelta(minutes=rng.randint(1, 5000)),
                retracted_at=now if rng.random() < 0.1 else None,
            )
    # Trust rows as earlier recomputes and staff left them: calibrated or not, excluded, overrides.
    for index, rater in enumerate(raters[:11]):
        RaterTrust.objects.create(
            user=rater,
            # Most calibrated (the crowd the consensus is drawn from), some not.
            gold_votes=rng.randint(1, 6),
            gold_agreement=rng.choice([None, 0.4, 0.9, 1.0, 1.0]),
            arena_votes=rng.randint(2, 10),
            excluded=index in (3, 7),
            override={4: RaterTrust.Override.TRUSTED, 5: RaterTrust.Override.BLOCKED}.get(index, ""),
        )
    # Single-image ratings: a set with two control images.
    rating_set = RatingSet.objects.create(name="batch-set")
    images = [
        SetImage.objects.create(
            rating_set=rating_set,
            file=f"images/none/{index}.webp",
            content_hash=f"{index:064d}",
            width=64,
            height=64,
            control_rating=7 if index < 2 else None,
        )
        for index in range(12)
    ]
    for image in images:
        for rater in rng.sample(raters, rng.randint(1, 8)):
            rating = 7 if image.control_rating and rng.random() < 0.7 else rng.randint(1, 10)
            ImageRating.objects.create(
                image=image,
                rater=rater,
                rating=rating,
                is_check=image.control_rating is not None,
                created_at=now - dt.timedelta(minutes=rng.randint(1, 5000)),
            )
    # The images' stored counters, as the rating service keeps them.
    for image in images:
        rows = ImageRating.objects.filter(image=image)
        SetImage.objects.filter(pk=image.pk).update(
            rating_count=rows.count(), rating_sum=sum(rows.values_list("rating", flat=True))
        )
    # An owner who judged one own pair (then undid it) is recomputed too: they have voted.
    request, image_a, image_b = pairs[0]
    Vote.objects.create(
        request=request,
        rater=owners[0],
        source=Vote.Source.OWNER,
        left_image=image_a,
        right_image=image_b,
        choice="left",
        retracted_at=now,
    )
    return raters + owners


@pytest.mark.parametrize(
    ("seed", "cut_offs"),
    [(11, None), (23, None), (37, None), (11, (20, 6, 4)), (23, (8, 3, 2))],
    ids=["all-votes-11", "all-votes-23", "all-votes-37", "latest-only-11", "latest-only-23"],
)
def test_the_set_based_recompute_matches_the_one_rater_figures(settings, monkeypatch, seed, cut_offs):
    if cut_offs is not None:
        # Raters past the cut-offs (latest votes, latest timed votes, latest single-image
        # ratings): the windowed statements, checked against the one-rater figures alike.
        from aesthetics import trust as aesthetics_trust
        from ratings.services import trust as ratings_trust

        monkeypatch.setattr(ratings_trust, "RECENT_VOTES", cut_offs[0])
        monkeypatch.setattr(ratings_trust, "TIMED_VOTES", cut_offs[1])
        monkeypatch.setattr(aesthetics_trust, "RECENT", cut_offs[2])
    now = timezone.now()
    build_horde(random.Random(seed), now)
    # The raters recomputed: whoever has voted or has a trust row (owners 1 and 2 have neither).
    users = list(User.objects.filter(Q(votes__isnull=False) | Q(rater_trust__isnull=False)).distinct())
    assert len(users) == 15
    expected = {user.pk: _trust_figures(User.objects.get(pk=user.pk), now) for user in users}
    overrides = dict(RaterTrust.objects.values_list("user_id", "override"))

    assert rater_trust_recompute_all(now=now) == len(users)

    tested = 0
    for user in users:
        trust = RaterTrust.objects.get(user=user)
        figures = expected[user.pk]
        for name in FIELDS:
            got, want = getattr(trust, name), figures[name]
            if isinstance(want, float):
                assert got == pytest.approx(want, rel=1e-9, abs=1e-12), (user.username, name)
            else:
                assert got == want, (user.username, name, got, want)
        score = trust_score(figures)
        assert trust.score == pytest.approx(score), user.username
        assert trust.excluded == _excluded(overrides.get(user.pk, ""), score, figures["flagged"]), user.username
        assert trust.updated_at == now
        tested += trust.bias_p_value is not None and trust.bias_p_value < 1
    assert tested >= 1  # the side-taking figures were really compared (the rigger's at least)
    assert any(expected[user.pk]["consensus_votes"] for user in users)
    assert any(expected[user.pk]["gold_votes"] for user in users)


def test_a_staff_override_set_meanwhile_is_kept(settings):
    now = timezone.now()
    users = build_horde(random.Random(5), now)
    RaterTrust.objects.filter(user=users[8]).update(override=RaterTrust.Override.BLOCKED)
    rater_trust_recompute_all(now=now)
    trust = RaterTrust.objects.get(user=users[8])
    assert (trust.override, trust.excluded) == (RaterTrust.Override.BLOCKED, True)
