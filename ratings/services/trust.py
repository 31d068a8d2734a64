"""Rater trust: how far each rater's votes can be believed.

Figures (kept in RaterTrust, recomputed here and by a periodic task):
- gold agreement: share of their votes on gold pairs that picked the known
  answer, and of control images ("rate this image N") given exactly N;
- consensus agreement: share of their votes that agree with the strict
  majority of other, non-excluded raters' live votes on the same pair;
- speed: votes per minute, from the median time their arena votes took;
- account age in days.

score = min(gold, consensus) x speed factor x young-account factor, where a
figure with too few votes behind it counts as 1 (no evidence against the
rater). Below RATINGS_TRUST_THRESHOLD the rater is excluded; staff overrides
(trusted / blocked) win over the score.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter, defaultdict

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from generation.models import Job

from ..models import ControlImage, GoldPair, RaterTrust, Vote


def vote_winner(vote: Vote) -> str:
    """What the vote says, independent of the order it was shown in: the better image's
    id, or "tie" / "both_bad"."""
    if vote.choice == Vote.Choice.LEFT:
        return str(vote.left_image_id)
    if vote.choice == Vote.Choice.RIGHT:
        return str(vote.right_image_id)
    return str(vote.choice)


def _gold_expectations(request_ids: set) -> dict:
    """request id -> expected winner (image id, "tie" or "both_bad") of active gold pairs."""
    expected = {}
    golds = GoldPair.objects.filter(active=True, request_id__in=request_ids)
    positions = {
        (job["request_id"], job["position"]): str(job["image__id"])
        for job in Job.objects.filter(request_id__in=[g.request_id for g in golds], image__isnull=False).values(
            "request_id", "position", "image__id"
        )
    }
    for gold in golds:
        if gold.expected_choice == Vote.Choice.LEFT:
            expected[gold.request_id] = positions.get((gold.request_id, 0))
        elif gold.expected_choice == Vote.Choice.RIGHT:
            expected[gold.request_id] = positions.get((gold.request_id, 1))
        else:
            expected[gold.request_id] = gold.expected_choice
    return expected


def _trust_figures(user: User, now: dt.datetime) -> dict:
    votes = list(Vote.objects.filter(rater=user, retracted_at__isnull=True).order_by("-created_at")[:1000])
    request_ids = {vote.request_id for vote in votes}

    # Gold pairs and control images.
    gold_total = gold_right = 0
    expected = _gold_expectations(request_ids)
    controls = {
        str(image_id): value
        for image_id, value in ControlImage.objects.filter(active=True, image__request_id__in=request_ids).values_list(
            "image_id", "expected_aesthetic"
        )
    }
    for vote in votes:
        if vote.request_id in expected:
            gold_total += 1
            gold_right += vote_winner(vote) == expected[vote.request_id]
        for image_id, given in ((vote.left_image_id, vote.left_aesthetic), (vote.right_image_id, vote.right_aesthetic)):
            if str(image_id) in controls:
                gold_total += 1
                gold_right += given == controls[str(image_id)]

    # Consensus of the other, non-excluded raters on the same pairs.
    others = defaultdict(list)
    other_votes = (
        Vote.objects.filter(request_id__in=request_ids, retracted_at__isnull=True)
        .exclude(rater=user)
        .exclude(rater__rater_trust__excluded=True)
    )
    for other in other_votes:
        others[other.request_id].append(vote_winner(other))
    consensus_total = consensus_right = 0
    for vote in votes:
        winners = others.get(vote.request_id, [])
        if len(winners) < settings.RATINGS_CONSENSUS_MIN_OTHERS:
            continue
        top, count = Counter(winners).most_common(1)[0]
        if count * 2 <= len(winners):
            continue  # no strict majority: nothing to agree with
        consensus_total += 1
        consensus_right += vote_winner(vote) == top

    seconds = [v.seconds_to_vote for v in votes if v.source == Vote.Source.ARENA and v.seconds_to_vote][:200]
    median = statistics.median(seconds) if seconds else None
    return {
        "gold_votes": gold_total,
        "gold_agreement": gold_right / gold_total if gold_total else None,
        "consensus_votes": consensus_total,
        "consensus_agreement": consensus_right / consensus_total if consensus_total else None,
        "votes_per_minute": 60.0 / median if median else None,
        "account_age_days": (now - user.date_joined).total_seconds() / 86400,
    }


def trust_score(figures: dict) -> float:
    gold = figures["gold_agreement"] if figures["gold_votes"] >= settings.RATINGS_TRUST_MIN_GOLD else 1.0
    consensus = 1.0
    if figures["consensus_votes"] >= settings.RATINGS_TRUST_MIN_CONSENSUS:
        consensus = figures["consensus_agreement"]
    speed = 1.0
    vpm, limit = figures["votes_per_minute"], settings.RATINGS_TRUST_MAX_VOTES_PER_MINUTE
    if vpm and vpm > limit:
        speed = limit / vpm  # faster than a careful human: believe them proportionally less
    young = figures["account_age_days"] < settings.RATINGS_TRUST_YOUNG_ACCOUNT_DAYS
    age = settings.RATINGS_TRUST_YOUNG_ACCOUNT_FACTOR if young else 1.0
    return round(min(gold, consensus) * speed * age, 4)


def _excluded(override: str, score: float) -> bool:
    if override == RaterTrust.Override.BLOCKED:
        return True
    if override == RaterTrust.Override.TRUSTED:
        return False
    return score < settings.RATINGS_TRUST_THRESHOLD


def rater_trust_recompute(*, user: User, now: dt.datetime | None = None) -> RaterTrust:
    """Recompute one rater's figures, score and exclusion (the staff override is kept)."""
    now = now or timezone.now()
    figures = _trust_figures(user, now)
    score = trust_score(figures)
    trust, _ = RaterTrust.objects.get_or_create(user=user)
    # update(), not save(): only the computed columns change, never a concurrent override.
    RaterTrust.objects.filter(pk=trust.pk).update(**figures, score=score, updated_at=now)
    override = RaterTrust.objects.filter(pk=trust.pk).values_list("override", flat=True).get()
    RaterTrust.objects.filter(pk=trust.pk).update(excluded=_excluded(override, score))
    trust.refresh_from_db()
    return trust


def rater_trust_recompute_all(*, now: dt.datetime | None = None) -> int:
    """Recompute every rater who has voted, or has a trust row; returns how many."""
    now = now or timezone.now()
    users = User.objects.filter(Q(votes__isnull=False) | Q(rater_trust__isnull=False)).distinct()
    count = 0
    for user in users.iterator():
        rater_trust_recompute(user=user, now=now)
        count += 1
    return count


def rater_trust_set_override(*, user: User, override: str) -> RaterTrust:
    """Staff trust or block a rater (or give them back to the automatic score); effective at once."""
    if override not in RaterTrust.Override.values:
        raise ValueError(f"Unknown override {override!r}.")
    trust, _ = RaterTrust.objects.get_or_create(user=user)
    RaterTrust.objects.filter(pk=trust.pk).update(override=override, excluded=_excluded(override, trust.score))
    trust.refresh_from_db()
    return trust
