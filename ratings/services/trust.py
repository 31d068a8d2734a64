"""Rater trust: how far each rater's votes can be believed.

Figures (kept in RaterTrust, recomputed here and by a periodic task):
- gold agreement: share of their votes on gold pairs that picked the known
  answer, and of control images ("rate this image N") given exactly N;
- consensus agreement: share of their votes that agree with the strict
  majority of the other counted raters' live votes on the same pair (others
  who are calibrated and not excluded: fresh accounts cannot outvote the crowd
  into a "consensus" and get honest raters excluded);
- speed: votes per minute, from the median time their arena votes took;
- account age in days;
- what registered `trust_sources` add (single-image control answers and
  divergence from an image's consensus, from the aesthetics app);
- side-taking (`side_taking`): whether they pick one pipeline more often than
  the other raters on the same pairs allow. A flagged rater is excluded.

score = min(gold, consensus) x speed factor x young-account factor, where a
figure with too few votes behind it counts as 1 (no evidence against the
rater). Below RATINGS_TRUST_THRESHOLD, or flagged, the rater is excluded;
staff overrides (trusted / blocked) win over both.

Calibration (RaterTrust.calibrated) and the vote weight
(ratings.selectors.vote_weights) are read from these figures.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable

from django.conf import settings
from django.db import connection
from django.db.models import Q
from django.utils import timezone
from scipy import stats

from accounts.models import User
from generation.models import Image, Job

from ..models import ControlImage, GoldPair, RaterTrust, Vote
from ..selectors import calibrated_raters_filter


@dataclasses.dataclass(frozen=True)
class CheckTally:
    """What another kind of rating (an app above this one) adds to a rater's figures:
    answered checks and how many were right, consensus comparisons and how many agreed."""

    checks: int = 0
    checks_right: int = 0
    consensus: int = 0
    consensus_right: int = 0


# Apps above ratings (imports point down) register a function user -> CheckTally here in
# their AppConfig.ready(): e.g. aesthetics adds single-image control answers and divergence,
# so one rater has one trust whatever they rate.
trust_sources: list[Callable[[User], CheckTally]] = []

# A rater's figures come from their latest live votes, and their speed from the latest timed ones.
RECENT_VOTES = 1000
TIMED_VOTES = 200


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


@dataclasses.dataclass(frozen=True)
class SideTaking:
    """The most one-sided pipeline of a rater, with the figures staff see."""

    pipeline_id: int | None = None
    opportunities: int = 0
    sided: int = 0
    expected_rate: float | None = None
    p_value: float | None = None
    flagged: bool = False


def side_taking(observations: Iterable[tuple[int, bool, float]], *, alpha: float, min_sided: int) -> SideTaking:
    """Does the rater side with one pipeline more often than chance allows?

    Each observation is one of the rater's decisive votes seen from one of the two pipelines
    of the pair: (pipeline id, whether the rater picked that pipeline's image, the chance they
    would have if they were one more rater like the others). That chance is exact under the
    null hypothesis that the rater's vote is exchangeable with the other voters' on that pair:
    with m of the pair's n voters (the rater included) picking that image, it is m / n. So
    no estimate of the pair's "true" preference is needed, and a pipeline that simply is
    better raises everyone's expected rate alike: honest raters are not flagged for agreeing
    with a lopsided crowd. The test is one-sided binomial with the mean chance (conservative
    for a sum of unequal chances), Bonferroni-corrected over the pipelines tested; flagged
    when p < alpha with at least `min_sided` picks of that pipeline.
    """
    by_pipeline: dict[int, list[tuple[bool, float]]] = defaultdict(list)
    for pipeline_id, picked, chance in observations:
        by_pipeline[pipeline_id].append((picked, chance))
    if not by_pipeline:
        return SideTaking()
    tests = len(by_pipeline)
    worst = SideTaking()
    for pipeline_id, rows in sorted(by_pipeline.items()):
        count = len(rows)
        sided = sum(picked for picked, _ in rows)
        expected = sum(chance for _, chance in rows) / count
        p_value = min(1.0, tests * float(stats.binomtest(sided, count, expected, alternative="greater").pvalue))
        if worst.p_value is None or p_value < worst.p_value:
            worst = SideTaking(
                pipeline_id=pipeline_id,
                opportunities=count,
                sided=sided,
                expected_rate=round(expected, 4),
                p_value=p_value,
                flagged=p_value < alpha and sided >= min_sided,
            )
    return worst


def _trust_figures(user: User, now: dt.datetime) -> dict:
    votes = list(Vote.objects.filter(rater=user, retracted_at__isnull=True).order_by("-created_at")[:RECENT_VOTES])
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

    # Consensus of the other counted (calibrated, not excluded) raters on the same pairs.
    others = defaultdict(list)
    other_votes = (
        Vote.objects.filter(request_id__in=request_ids, retracted_at__isnull=True)
        .exclude(rater=user)
        .exclude(rater__rater_trust__excluded=True)
        .filter(calibrated_raters_filter("rater__rater_trust__"))
    )
    for other in other_votes:
        others[other.request_id].append(vote_winner(other))
    pipeline_of = dict(
        Image.objects.filter(request_id__in=request_ids).values_list("id", "job__pipeline_id").iterator()
    )
    consensus_total = consensus_right = 0
    observations = []
    for vote in votes:
        winners = others.get(vote.request_id, [])
        if len(winners) < settings.RATINGS_CONSENSUS_MIN_OTHERS:
            continue
        mine = vote_winner(vote)
        left, right = pipeline_of.get(vote.left_image_id), pipeline_of.get(vote.right_image_id)
        if vote.choice in (Vote.Choice.LEFT, Vote.Choice.RIGHT) and left and right and left != right:
            # Both pipelines' side of this pair, for the side-taking test.
            voters = len(winners) + 1
            for image_id, pipeline_id in ((vote.left_image_id, left), (vote.right_image_id, right)):
                picks = winners.count(str(image_id)) + (mine == str(image_id))
                observations.append((pipeline_id, mine == str(image_id), picks / voters))
        top, count = Counter(winners).most_common(1)[0]
        if count * 2 <= len(winners):
            continue  # no strict majority: nothing to agree with
        consensus_total += 1
        consensus_right += mine == top
    for source in trust_sources:
        tally = source(user)
        gold_total += tally.checks
        gold_right += tally.checks_right
        consensus_total += tally.consensus
        consensus_right += tally.consensus_right
    bias = side_taking(observations, alpha=settings.RATINGS_FLAG_ALPHA, min_sided=settings.RATINGS_FLAG_MIN_SIDED)

    seconds = [v.seconds_to_vote for v in votes if v.source == Vote.Source.ARENA and v.seconds_to_vote][:TIMED_VOTES]
    median = statistics.median(seconds) if seconds else None
    return {
        "gold_votes": gold_total,
        "gold_agreement": gold_right / gold_total if gold_total else None,
        "consensus_votes": consensus_total,
        "consensus_agreement": consensus_right / consensus_total if consensus_total else None,
        "votes_per_minute": 60.0 / median if median else None,
        "account_age_days": (now - user.date_joined).total_seconds() / 86400,
        "arena_votes": sum(vote.source == Vote.Source.ARENA for vote in votes),
        "flagged": bias.flagged,
        "bias_pipeline_id": bias.pipeline_id,
        "bias_opportunities": bias.opportunities,
        "bias_sided": bias.sided,
        "bias_expected_rate": bias.expected_rate,
        "bias_p_value": bias.p_value,
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


def _excluded(override: str, score: float, flagged: bool) -> bool:
    if override == RaterTrust.Override.BLOCKED:
        return True
    if override == RaterTrust.Override.TRUSTED:
        return False
    return flagged or score < settings.RATINGS_TRUST_THRESHOLD


def rater_trust_locked(*, rater: User) -> RaterTrust:
    """The rater's trust row, locked until the caller's transaction ends; made on a rater's
    first vote or rating. Call it inside a transaction: the lock makes one rater's votes (and,
    apart, their image ratings) commit one at a time, so two at once cannot both pass a throttle.

    Django's get_or_create on a FOR UPDATE queryset: one statement when the row exists (the
    common case, and the lock read is also the read of the figures a reward depends on); a
    concurrent first vote's insert loses to the unique user and reads and locks the winner's."""
    return RaterTrust.objects.select_for_update().get_or_create(user=rater)[0]


def rater_trust_recompute(*, user: User, now: dt.datetime | None = None) -> RaterTrust:
    """Recompute one rater's figures, score, flag and exclusion (the staff override is kept)."""
    now = now or timezone.now()
    figures = _trust_figures(user, now)
    score = trust_score(figures)
    trust, _ = RaterTrust.objects.get_or_create(user=user)
    # update(), not save(): only the computed columns change, never a concurrent override.
    RaterTrust.objects.filter(pk=trust.pk).update(**figures, score=score, updated_at=now)
    override = RaterTrust.objects.filter(pk=trust.pk).values_list("override", flat=True).get()
    RaterTrust.objects.filter(pk=trust.pk).update(excluded=_excluded(override, score, figures["flagged"]))
    trust.refresh_from_db()
    return trust


def rater_trust_recompute_all(*, now: dt.datetime | None = None) -> int:
    """Recompute every rater who has voted, or has a trust row; returns how many.

    On PostgreSQL set-based (trust_batch: a few statements for all raters, the same figures,
    all judged against one snapshot of the crowd), recorded as a full run (trust_runs);
    elsewhere (the SQLite dev default, small data) one rater at a time.
    """
    now = now or timezone.now()
    if connection.vendor == "postgresql":
        from .trust_runs import trust_recompute

        return trust_recompute(now=now, full=True).raters
    users = User.objects.filter(Q(votes__isnull=False) | Q(rater_trust__isnull=False)).distinct()
    count = 0
    for user in users.iterator():
        rater_trust_recompute(user=user, now=now)
        count += 1
    return count


def rater_trust_recompute_changed(*, now: dt.datetime | None = None) -> int:
    """The periodic recompute: on PostgreSQL only the raters whose figures can have changed
    since the previous run (everyone when that cannot be told: trust_runs); returns how many
    were recomputed. Elsewhere everyone, as rater_trust_recompute_all."""
    if connection.vendor == "postgresql":
        from .trust_runs import trust_recompute

        return trust_recompute(now=now).raters
    return rater_trust_recompute_all(now=now)


def rater_trust_set_override(*, user: User, override: str) -> RaterTrust:
    """Staff trust or block a rater (or give them back to the automatic score); effective at once."""
    if override not in RaterTrust.Override.values:
        raise ValueError(f"Unknown override {override!r}.")
    trust, _ = RaterTrust.objects.get_or_create(user=user)
    RaterTrust.objects.filter(pk=trust.pk).update(
        override=override, excluded=_excluded(override, trust.score, trust.flagged)
    )
    trust.refresh_from_db()
    return trust
