"""Reads of votes, pairs and raters' figures."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable

from django.conf import settings
from django.db import connection
from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet, Sum
from django.utils import timezone

from accounts.models import User
from generation.models import GenerationRequest, Image, Job, hidden_pair_requests
from generation.selectors import request_ledger
from kudos.models import Entry

from .models import PairAssignment, RaterTrust, Vote


def votes_counted(*, include_checks: bool = False) -> QuerySet[Vote]:
    """Votes the leaderboard and the export use: live, by raters not excluded, suspended or
    shadow-banned (their votes are kept, never counted), on pairs no moderator hid and with no
    censored image (a placeholder against a real image is no comparison), and (unless
    `include_checks`) not answers to a gold pair or control image: those have a known answer
    set by staff and are never preferences."""
    # The left-out raters as subqueries (hashed once), not joins: at a million votes the planner
    # misjudged the trust join and looked each vote's rater up one by one.
    silenced = User.objects.filter(Q(suspended_at__isnull=False) | Q(shadow_banned=True)).values("pk")
    votes = (
        Vote.objects.filter(retracted_at__isnull=True)
        .exclude(rater_id__in=RaterTrust.objects.filter(excluded=True).values("user_id"))
        .exclude(rater_id__in=silenced)
        .exclude(request_id__in=censored_request_ids())
    )
    # A pair a moderator took down (either image hidden) leaves both; its votes stay stored.
    votes = votes.exclude(request_id__in=hidden_pair_requests())
    return votes if include_checks else votes.filter(is_check=False)


def censored_request_ids() -> QuerySet:
    """Requests with a censored image (a worker's censorship placeholder): out of the comparison
    data and the arena, kept."""
    return Image.objects.filter(censored=True).values("request_id")


def pair_images(*, request_id) -> tuple[Image, Image] | None:
    """The request's two images in its stored shown order (Job.position 0 = left), with their
    job and the request and its model, or None when the request has no finished pair."""
    images = list(
        Image.objects.filter(request_id=request_id, job__status=Job.Status.DONE)
        .select_related("job", "request__model")
        .order_by("job__position")
    )
    if len(images) != 2:
        return None
    return images[0], images[1]


def own_pairs_waiting(*, rater: User) -> QuerySet[GenerationRequest]:
    """The rater's own finished pairs that wait for their verdict, oldest first (a pair
    judged long after it was made is still a vote; one left to wait is none)."""
    return (
        GenerationRequest.objects.filter(
            user=rater, model__compare_pipelines=True, status=GenerationRequest.Status.DONE
        )
        .annotate(done_images=Count("images", filter=Q(images__job__status=Job.Status.DONE)))
        .filter(done_images=2)
        .exclude(pk__in=Vote.objects.filter(rater=rater, retracted_at__isnull=True).values("request_id"))
        .exclude(pk__in=hidden_pair_requests())
        .order_by("finished_at", "id")
    )


def request_cost(*, generation_request: GenerationRequest) -> int:
    """What the request really cost its requester, net, from the ledger: what its jobs
    were charged, minus refunds of those charges, minus worker rewards paid to the
    requester for those jobs (a job served by the requester's own worker pays none since
    self-serving earns nothing; older ones may have), minus the owner's rating rebate
    already paid for it (`rating:owner:<request id>`). 0 when nothing is left: a rebate
    must stay strictly below this, so then there is none."""
    money = request_ledger(request=generation_request)
    rebated = Entry.objects.filter(
        transaction__event_key=f"rating:owner:{generation_request.pk}", account__user_id=generation_request.user_id
    ).aggregate(total=Sum("amount"))["total"]
    return max(0, money.net - int(rebated or 0))


def live_vote(*, generation_request: GenerationRequest, rater: User) -> Vote | None:
    return (
        Vote.objects.filter(request=generation_request, rater=rater, retracted_at__isnull=True)
        .select_related("left_image__job__pipeline", "right_image__job__pipeline")
        .first()
    )


def pair_reveal(*, vote: Vote) -> dict[str, dict[str, str | None]]:
    """Which pipeline made which image of a judged pair, in the order the rater saw it.

    Only for after the vote: judging is blind until then (nothing on the pages or in
    the API names a pipeline before it), and the chat arenas' reveal follows it.
    """

    def side(image: Image) -> dict[str, str | None]:
        pipeline = image.job.pipeline
        return {
            "id": str(image.job_id),  # the generation id, as status `generations[].id` names it
            "image_id": str(image.id),
            "pipeline": pipeline.name if pipeline else None,
            "version": pipeline.version if pipeline else None,
        }

    return {"left": side(vote.left_image), "right": side(vote.right_image)}


def day_start(now: dt.datetime | None = None) -> dt.datetime:
    """Midnight UTC of the current day: daily caps reset then."""
    now = now or timezone.now()
    return now.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def arena_today(*, rater: User, now: dt.datetime | None = None) -> dict[str, int]:
    """The rater's live arena votes and arena kudos since midnight UTC (undone votes don't count)."""
    row = Vote.objects.filter(
        rater=rater, source=Vote.Source.ARENA, retracted_at__isnull=True, created_at__gte=day_start(now)
    ).aggregate(votes=Count("id"), kudos=Sum("kudos_paid"))
    return {"votes": int(row["votes"] or 0), "kudos": int(row["kudos"] or 0), "cap": settings.RATINGS_ARENA_DAILY_CAP}


def rater_last_answer_at(*, rater: User) -> dt.datetime | None:
    """When the rater last voted on or skipped an arena pair: the next pair appeared then."""
    return (
        PairAssignment.objects.filter(rater=rater, answered_at__isnull=False)
        .order_by("-answered_at")
        .values_list("answered_at", flat=True)
        .first()
    )


def served_by_workers_of(*, rater: User) -> Exists:
    """Pairs (an Exists on GenerationRequest) any of whose jobs a worker the rater owns served.

    Its owner could read each job's recipe, so they know which image is which: not blind, so
    never theirs to judge in the arena: the vote refuses it (the pool, ratings.arena_pool, leaves
    such pairs out with the same probe in SQL)."""
    return Exists(Job.objects.filter(request=OuterRef("pk"), worker__owner_id=rater.pk))


def owner_judged() -> Q:
    """Pairs (a Q on GenerationRequest) whose requester's verdict is in. Registered with
    generation.selectors.judged_conditions: the status names a pair's workers to its requester
    only from then on."""
    owner_voted = Vote.objects.filter(
        request=OuterRef("pk"), rater=OuterRef("user"), source=Vote.Source.OWNER, retracted_at__isnull=True
    )
    return Q(Exists(owner_voted))


# Apps above ratings (imports point down) register here, in AppConfig.ready(), a function
# returning a Q on GenerationRequest that holds only when they no longer have the pair's
# images judged (aesthetics: its images are not waiting for single-image ratings).
retired_conditions: list[Callable[[], Q]] = []


def arena_retired_filter() -> Q:
    """Pairs that can no longer be served to anyone: the one rule for what may be shown
    unblinded to everyone (the leaderboard's example pairs).

    Retired (out of the arena pool for good: RATINGS_ARENA_TARGET_VOTES live votes reached or
    RATINGS_ARENA_RETIRE_DAYS passed), its owner's verdict in (the owner may judge their pair
    at any time until then), no arena assignment left unanswered (a rater holding one could
    still vote on it), and what the registered `retired_conditions` require."""
    open_assignment = PairAssignment.objects.filter(request=OuterRef("pk"), answered_at__isnull=True)
    rule = Q(arena_retired_at__isnull=False, arena_pool=False) & owner_judged() & ~Q(Exists(open_assignment))
    for condition in retired_conditions:
        rule &= condition()
    return rule


_ARENA_STANDING = """
SELECT t.id IS NOT NULL, t.override, t.gold_votes, t.gold_agreement, t.arena_votes, a.issued, a.checks
FROM (SELECT count(DISTINCT request_id) AS issued, count(DISTINCT request_id) FILTER (WHERE is_gold) AS checks
      FROM ratings_pairassignment WHERE rater_id = %s) a
LEFT JOIN ratings_ratertrust t ON t.user_id = %s
"""


def rater_arena_standing(*, rater: User) -> tuple[bool, int, int]:
    """(whether the rater is calibrated, pairs issued to them, of which check items; each
    request counted once) in one read: the arena asks on every pair it issues."""
    with connection.cursor() as cursor:
        cursor.execute(_ARENA_STANDING, [rater.pk, rater.pk])
        has_row, override, gold_votes, gold_agreement, arena_votes, issued, checks = cursor.fetchone()
    # The model's own rule (RaterTrust.calibrated) on the figures read; no row: the defaults.
    trust = RaterTrust(user_id=rater.pk)
    if has_row:
        trust.override, trust.gold_votes, trust.gold_agreement = override, gold_votes, gold_agreement
        trust.arena_votes = arena_votes
    return trust.calibrated, int(issued), int(checks)


def calibrated_raters_filter(prefix: str = "") -> Q:
    """The Q form of RaterTrust.calibrated for a query through `prefix` (e.g. "rater__rater_trust__")."""
    if settings.RATINGS_CALIBRATION_CHECKS <= 0:
        return Q()
    return Q(**{f"{prefix}override": RaterTrust.Override.TRUSTED}) | Q(
        **{
            f"{prefix}gold_votes__gte": settings.RATINGS_CALIBRATION_CHECKS,
            f"{prefix}gold_agreement__gte": settings.RATINGS_CALIBRATION_AGREEMENT,
            f"{prefix}arena_votes__gte": settings.RATINGS_CALIBRATION_PAIRS,
        }
    )


def arena_throttle_state(*, rater: User, now: dt.datetime) -> dict[str, object]:
    """The rater's arena votes in the last 60 s and their latest one (undone votes included,
    so voting and undoing does not buy back throttle room)."""
    row = Vote.objects.filter(
        rater=rater, source=Vote.Source.ARENA, created_at__gt=now - dt.timedelta(seconds=60), created_at__lte=now
    ).aggregate(count=Count("id"), last=Max("created_at"))
    return {"last_minute": int(row["count"] or 0), "last_at": row["last"]}


def vote_weights(*, rater_ids: set[int] | None) -> dict[int, float]:
    """Weight of each rater's votes on the leaderboard (>= 0; 0: their votes do not count).

    base = RaterTrust.base_weight: 0 until the rater passed calibration on check items they
    cannot tell from real pairs, and 0 when excluded (below the trust threshold, blocked),
    flagged, suspended or shadow-banned by staff; else their trust score, at most
    RATINGS_WEIGHT_CAP. Then the influence cap: a
    rater with n > F live votes on one model (F = RATINGS_RATER_FULL_VOTES_PER_MODEL) has each
    vote weigh F/n of that, so together they never weigh more than F votes, on any model.

    `rater_ids=None`: every rater with a live vote (the leaderboard's read: whole tables, not
    an IN list of every rater id).
    """
    if rater_ids is not None and not rater_ids:
        return {}

    def only(queryset: QuerySet, field: str) -> QuerySet:
        return queryset if rater_ids is None else queryset.filter(**{f"{field}__in": rater_ids})

    # Only what base_weight reads (20,000 rows for the leaderboard).
    fields = ["user_id", "override", "excluded", "flagged", "score", "gold_votes", "gold_agreement", "arena_votes"]
    trusts = {trust.user_id: trust for trust in only(RaterTrust.objects.only(*fields), "user_id")}
    # Staff's moderation: votes kept, never counted (moderation.services).
    silenced = set(
        only(User.objects.all(), "pk")
        .filter(Q(suspended_at__isnull=False) | Q(shadow_banned=True))
        .values_list("pk", flat=True)
    )
    busiest: dict[int, int] = defaultdict(int)
    rows = (
        only(Vote.objects.filter(retracted_at__isnull=True), "rater_id")
        .values("rater_id", "request__model_id")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("rater_id", "n")
    )
    for rater_id, count in rows:
        busiest[rater_id] = max(busiest[rater_id], count)
    full = settings.RATINGS_RATER_FULL_VOTES_PER_MODEL
    weights = {}
    for rater_id in busiest if rater_ids is None else rater_ids:
        base = 0.0 if rater_id in silenced else (trusts.get(rater_id) or RaterTrust(user_id=rater_id)).base_weight
        most = busiest[rater_id]
        weights[rater_id] = base * (full / most) if full > 0 and most > full else base
    return weights


def vote_weighting_summary() -> dict[str, float | int]:
    """The settings behind vote_weights and the arena's defences, for the leaderboard page's text."""
    return {
        "calibration_checks": settings.RATINGS_CALIBRATION_CHECKS,
        "calibration_pairs": settings.RATINGS_CALIBRATION_PAIRS,
        "calibration_agreement_percent": round(100 * settings.RATINGS_CALIBRATION_AGREEMENT),
        "gold_every": settings.RATINGS_GOLD_EVERY,
        "min_vote_interval": settings.RATINGS_ARENA_MIN_VOTE_INTERVAL_SECONDS,
        "max_votes_per_minute": settings.RATINGS_ARENA_MAX_VOTES_PER_MINUTE,
        "weight_cap": settings.RATINGS_WEIGHT_CAP,
        "full_votes_per_model": settings.RATINGS_RATER_FULL_VOTES_PER_MODEL,
        "flag_alpha": settings.RATINGS_FLAG_ALPHA,
        "flag_min_sided": settings.RATINGS_FLAG_MIN_SIDED,
    }


def check_favours(*, request_ids: set) -> dict:
    """request id -> the pipeline whose image a gold pair's known answer picks (None for a tie,
    "both bad" or a control image: those favour no pipeline)."""
    from .models import GoldPair

    golds = dict(
        GoldPair.objects.filter(active=True, request_id__in=request_ids).values_list("request_id", "expected_choice")
    )
    position = {Vote.Choice.LEFT: 0, Vote.Choice.RIGHT: 1}
    jobs = Job.objects.filter(request_id__in=list(golds)).values_list("request_id", "position", "pipeline_id")
    by_slot = {(request_id, slot): pipeline_id for request_id, slot, pipeline_id in jobs}
    return {
        request_id: by_slot.get((request_id, position[choice])) if choice in position else None
        for request_id, choice in ((rid, golds.get(rid)) for rid in request_ids)
    }
