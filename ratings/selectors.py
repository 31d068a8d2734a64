"""Reads of votes, pairs and raters' figures."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from accounts.models import User
from generation.models import GenerationRequest, Image, Job
from generation.selectors import request_ledger
from kudos.models import Entry

from .models import PairAssignment, Vote


def votes_counted(*, include_checks: bool = False) -> QuerySet[Vote]:
    """Votes the leaderboard and the export use: live, by raters not excluded, and (unless
    `include_checks`) not answers to a gold pair or control image: those have a known
    answer set by staff and are never preferences."""
    votes = Vote.objects.filter(retracted_at__isnull=True).exclude(rater__rater_trust__excluded=True)
    return votes if include_checks else votes.filter(is_check=False)


def vote_weights(*, rater_ids: set[int]) -> dict[int, float]:
    """How much each rater's votes weigh on the leaderboard (a float >= 0; 0: not counted).

    The one place the leaderboard takes weights from. For now every rater weighs 1.0.
    """
    return dict.fromkeys(rater_ids, 1.0)


def pair_images(*, generation_request: GenerationRequest) -> tuple[Image, Image] | None:
    """The request's two images in its stored shown order (Job.position 0 = left), or None
    when the request has no finished pair."""
    images = list(
        Image.objects.filter(request=generation_request, job__status=Job.Status.DONE)
        .select_related("job")
        .order_by("job__position")
    )
    if len(images) != 2:
        return None
    return images[0], images[1]


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


def arena_pool(*, rater: User, now: dt.datetime | None = None) -> QuerySet[GenerationRequest]:
    """Pairs the arena may serve this rater: shared, finished pairs of other people's
    requests that the rater has not judged, skipped, or been shown within the hold time
    (so the pair on screen and the preloaded next one are not served again)."""
    now = now or timezone.now()
    held_since = now - dt.timedelta(seconds=settings.RATINGS_ASSIGNMENT_TTL_SECONDS)
    judged = Vote.objects.filter(rater=rater, retracted_at__isnull=True).values("request_id")
    seen = (
        PairAssignment.objects.filter(rater=rater)
        .filter(Q(answered_at__isnull=False) | Q(issued_at__gte=held_since))
        .values("request_id")
    )
    return (
        GenerationRequest.objects.filter(
            shared=True, status=GenerationRequest.Status.DONE, model__compare_pipelines=True
        )
        .exclude(user=rater)
        .exclude(pk__in=judged)
        .exclude(pk__in=seen)
        .annotate(done_images=Count("images", filter=Q(images__job__status=Job.Status.DONE), distinct=True))
        .filter(done_images=2)
    )


def gold_filter() -> Q:
    """Requests that are gold pairs or hold a control image."""
    return Q(gold_pair__active=True) | Q(images__control__active=True)
