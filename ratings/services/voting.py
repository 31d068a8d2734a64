"""Judging pairs: the requester's own pair and the raters' arena.

Money rules (see ratings.models for the data invariants):
- The vote row and its rebate are written in one transaction, and the vote's
  unique constraint (one live vote per rater and request) decides who was
  first: a second attempt, also a concurrent one, fails on the insert and
  rolls back before anything is paid.
- The own-pair rebate is capped strictly below what the request cost net; arena
  votes pay a small amount up to a daily cap; excluded raters earn nothing,
  and arena votes earn only once the rater passed calibration.
- Arena votes are throttled per rater (a minimum interval and a per-minute
  cap), checked under the rater's trust-row lock so concurrent votes cannot
  slip past together; a throttled vote stores nothing and pays nothing.
- Check items (gold pairs, control images) are issued, shown and answered
  exactly like real pairs: nothing the rater receives tells them apart.
- Each pair's stored live-vote counter (GenerationRequest.arena_votes) moves in the
  transaction that writes or retracts the vote (an F() update: exact under concurrent
  raters), so the arena picks the next pair by an index seek instead of counting votes.
  A pair that reaches RATINGS_ARENA_TARGET_VOTES leaves the pool in that same update, for
  good: an undo afterwards does not bring it back (it may already be shown as an example).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from accounts.models import User
from generation.models import GenerationRequest, Image
from kudos.services import DuplicateEvent, kudos_rebate, kudos_rebate_reverse

from ..arena_pool import arena_pool_among, arena_pool_seek
from ..models import ControlImage, GoldPair, PairAssignment, RaterTrust, Vote
from ..selectors import (
    arena_throttle_state,
    arena_today,
    check_favours,
    live_vote,
    pair_images,
    rater_arena_standing,
    rater_last_answer_at,
    request_cost,
    served_by_workers_of,
)
from .errors import RatingError
from .trust import rater_trust_locked

CHOICES = {choice.value for choice in Vote.Choice}


@dataclasses.dataclass(frozen=True)
class Judgement:
    """A rater's verdict on a pair, in the order it was shown to them."""

    choice: str
    left_aesthetic: int | None = None
    right_aesthetic: int | None = None
    left_artifacts: int | None = None
    right_artifacts: int | None = None
    # False when the choice was only inferred from the aesthetic ratings (no pick reward).
    picked: bool = True

    def vote_fields(self) -> dict[str, object]:
        """The Vote columns this verdict fills."""
        return {
            "choice": self.choice,
            "left_aesthetic": self.left_aesthetic,
            "right_aesthetic": self.right_aesthetic,
            "left_artifacts": self.left_artifacts,
            "right_artifacts": self.right_artifacts,
        }


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_judgement(judgement: Judgement) -> None:
    if judgement.choice not in CHOICES:
        raise RatingError(f"choice must be one of {sorted(CHOICES)}.", "BadRequest")
    for name in ("left_aesthetic", "right_aesthetic"):
        value = getattr(judgement, name)
        if value is not None and (not _is_int(value) or not 1 <= value <= 10):
            raise RatingError(f"{name} must be a whole number from 1 to 10.", "BadRequest")
    for name in ("left_artifacts", "right_artifacts"):
        value = getattr(judgement, name)
        if value is not None and (not _is_int(value) or not 0 <= value <= 5):
            raise RatingError(f"{name} must be a whole number from 0 to 5.", "BadRequest")


def judgement_from_horde(
    *, left: Image, right: Image, best: str | None, choice: str | None, ratings: Iterable[Mapping[str, Any]]
) -> Judgement:
    """Turn the AI Horde body (`best` image id, `ratings` by image id) plus our `choice`
    extension into a Judgement in the shown order. An image may be named by its image id
    or its job id (the AI Horde's generation id); any other id is refused."""
    sides = {str(left.id): "left", str(left.job_id): "left", str(right.id): "right", str(right.job_id): "right"}
    scores: dict[str, int | None] = {}
    rated: dict[str, int] = {}
    seen: set[str] = set()
    for rating in ratings:
        image_id = str(rating.get("id"))
        side = sides.get(image_id)
        if side is None:
            raise RatingError(f"Image with ID '{image_id}' not found in this request.", "ProcGenNotFound")
        if side in seen:
            raise RatingError("The same image is rated twice.", "AestheticsDuplicate")
        seen.add(side)
        if rating.get("rating") is not None:  # an artifacts score may come alone
            rated[side] = rating["rating"]
            scores[f"{side}_aesthetic"] = rating["rating"]
        if rating.get("artifacts") is not None:
            scores[f"{side}_artifacts"] = rating["artifacts"]
    best_side = None
    if best:
        best_side = sides.get(str(best))
        if best_side is None:
            raise RatingError(f"Image with ID '{best}' not found in this request.", "ProcGenNotFound")
    if choice is not None and best_side is not None and choice != best_side:
        raise RatingError(f"best names the {best_side} image but choice is {choice!r}.", "AestheticsConfused")
    picked = True
    final = choice or best_side
    if final is None:
        if len(rated) != 2:
            raise RatingError("Point to the best image (best or choice), or rate both images.", "AestheticsMissing")
        # As on the AI Horde, two aesthetic ratings name the better image; equal ones tie.
        picked = False
        final = "tie" if rated["left"] == rated["right"] else max(rated, key=lambda side: rated[side])
    return Judgement(choice=final, picked=picked, **scores)


def own_reward(*, judgement: Judgement) -> int:
    """The rebate before the cap: the pick, each aesthetic rating, each artifacts rating."""
    reward = settings.RATINGS_REWARD_PICK if judgement.picked else 0
    for value in (judgement.left_aesthetic, judgement.right_aesthetic):
        if value is not None:
            reward += settings.RATINGS_REWARD_AESTHETIC
    for value in (judgement.left_artifacts, judgement.right_artifacts):
        if value is not None:
            reward += settings.RATINGS_REWARD_ARTIFACTS
    return reward


def _count_vote(*, request_id: uuid.UUID, delta: int, now: dt.datetime) -> None:
    """Move the pair's stored live-vote counter by `delta` (+1 a vote, -1 an undo).

    Call it inside the transaction that writes or retracts the vote, after the vote row and
    before any ledger posting (the pair's row is locked before the accounts, in every path:
    no lock-order deadlock). One UPDATE of F() expressions: concurrent votes of different
    raters on one pair queue on the row lock and each adds its own 1. Reaching the target
    retires the pair in the same statement (every right-hand side reads the row before it).
    """
    target = settings.RATINGS_ARENA_TARGET_VOTES
    changes: dict[str, object] = {"arena_votes": F("arena_votes") + delta}
    if delta > 0 and target > 0:
        reaches = Q(arena_pool=True, arena_votes__gte=target - delta)
        changes["arena_pool"] = Case(When(reaches, then=Value(False)), default=F("arena_pool"))
        changes["arena_retired_at"] = Case(When(reaches, then=Value(now)), default=F("arena_retired_at"))
    GenerationRequest.objects.filter(pk=request_id).update(**changes)


def arena_pairs_retire(*, now: dt.datetime | None = None) -> int:
    """Retire the pairs that finished more than RATINGS_ARENA_RETIRE_DAYS ago (periodic;
    pairs reaching the vote target retire as the vote is cast). Returns how many."""
    days = settings.RATINGS_ARENA_RETIRE_DAYS
    if days <= 0:
        return 0
    now = now or timezone.now()
    return GenerationRequest.objects.filter(
        arena_pool=True, status=GenerationRequest.Status.DONE, finished_at__lt=now - dt.timedelta(days=days)
    ).update(arena_pool=False, arena_retired_at=now)


def _excluded(rater: User) -> bool:
    return RaterTrust.objects.filter(user=rater, excluded=True).exists()


def _too_fast(seconds: float) -> RatingError:
    return RatingError(
        f"That vote came {seconds:.1f}s after the pair was shown; look at the images for at least "
        f"{settings.RATINGS_MIN_SECONDS_TO_VOTE:g}s.",
        "RatingTooFast",
    )


def _already() -> RatingError:
    return RatingError("This pair has already been judged by you.", "AestheticsAlreadyExist")


def own_pair_for(*, rater: User, generation_request: GenerationRequest) -> tuple[Image, Image]:
    """The pair its requester may judge now (shown order), or the reason they may not."""
    if generation_request.user_id != rater.pk:
        raise RatingError("Only the requester may judge this pair.", "NotOwner", status=403)
    if generation_request.status == GenerationRequest.Status.CANCELLED:
        raise RatingError("This request was cancelled: there is nothing to judge.", "AestheticsNotCompleted")
    if generation_request.status != GenerationRequest.Status.DONE:
        raise RatingError("You can only judge a finished request.", "AestheticsNotCompleted")
    if not generation_request.model.compare_pipelines:
        raise RatingError("This request's model does not make pairs to judge.", "InvalidAestheticAttempt")
    pair = pair_images(request_id=generation_request.pk)
    if pair is None:
        raise RatingError("This request has no finished pair of images.", "AestheticsSolo")
    _refuse_hidden(pair)
    return pair


def _refuse_hidden(pair: tuple[Image, Image]) -> None:
    # A pair a moderator took down is judged by nobody: no vote, no rebate, no arena reward.
    if pair[0].hidden_at is not None or pair[1].hidden_at is not None:
        raise RatingError("This pair was taken down by the moderators.", "PairHidden")


def own_pair_shown_at(*, generation_request: GenerationRequest, pair: tuple[Image, Image]) -> dt.datetime:
    """When the requester could first see their pair: the look-first rule counts from here
    (and the pages' countdown shows what is left of it)."""
    # The pair cannot be seen before it is finished: that is when it was first shown.
    return generation_request.finished_at or max(pair[0].created_at, pair[1].created_at)


def own_pair_vote(
    *, rater: User, generation_request: GenerationRequest, judgement: Judgement, now: dt.datetime | None = None
) -> Vote:
    """The requester judges their own pair once; the rebate is paid at once, capped below the cost."""
    left, right = own_pair_for(rater=rater, generation_request=generation_request)
    if live_vote(generation_request=generation_request, rater=rater) is not None:
        raise _already()
    _check_judgement(judgement)
    now = now or timezone.now()
    seconds = (now - own_pair_shown_at(generation_request=generation_request, pair=(left, right))).total_seconds()
    if seconds < settings.RATINGS_MIN_SECONDS_TO_VOTE:
        raise _too_fast(seconds)
    reward = 0 if _excluded(rater) else own_reward(judgement=judgement)
    # Strictly below the net cost (the ledger's: charges less refunds, rewards paid to the
    # requester and rebates already paid): rating can never turn a request into a profit,
    # and a request that cost nothing in the end pays no rebate (0).
    reward = max(0, min(reward, request_cost(generation_request=generation_request) - 1))
    try:
        with transaction.atomic():
            vote = Vote.objects.create(
                created_at=now,
                request=generation_request,
                rater=rater,
                source=Vote.Source.OWNER,
                left_image=left,
                right_image=right,
                **judgement.vote_fields(),
                seconds_to_vote=seconds,
                kudos_paid=reward,
                is_check=_is_gold_request(generation_request),
            )
            _count_vote(request_id=generation_request.pk, delta=1, now=now)
            if reward:
                # Keyed per request as well as guarded by the vote: the owner's rebate
                # can be posted once, whatever happens to the vote row.
                kudos_rebate(
                    user=rater,
                    amount=reward,
                    event_key=f"rating:owner:{generation_request.id}",
                    memo=f"Judged pair {generation_request.id}",
                )
    except (IntegrityError, DuplicateEvent) as exc:
        # A concurrent attempt inserted its vote first (the unique constraint decided).
        raise _already() from exc
    return vote


# --- the arena -----------------------------------------------------------------------


def _is_gold_request(generation_request: GenerationRequest) -> bool:
    return (
        GenerationRequest.objects.filter(pk=generation_request.pk, gold_pair__active=True).exists()
        or ControlImage.objects.filter(active=True, image__request=generation_request).exists()
    )


def check_chance(*, calibrated: bool, issued: int, checks_issued: int) -> float:
    """The chance that the rater's next pair is a check item (when one is left for them).

    Calibrated: 1 in RATINGS_GOLD_EVERY. A new rater: within their first P pairs
    (RATINGS_CALIBRATION_PAIRS) at least K (RATINGS_CALIBRATION_CHECKS) are checks, each at a
    random place (the chance is what is still needed over what is still to come, reaching 1
    only when every remaining slot must be one); past P and still not calibrated (checks
    skipped or failed), K in P.
    """
    every = settings.RATINGS_GOLD_EVERY
    usual = 1.0 / every if every > 0 else 0.0
    checks, pairs = settings.RATINGS_CALIBRATION_CHECKS, settings.RATINGS_CALIBRATION_PAIRS
    if calibrated or checks <= 0:
        return usual
    if issued < pairs:
        return max(usual, min(1.0, max(0, checks - checks_issued) / (pairs - issued)))
    return max(usual, min(1.0, checks / max(pairs, 1)))


def _check_request_ids() -> set[uuid.UUID]:
    """Requests that are check items (active gold pairs, pairs holding an active control image):
    a few rows, read first so the pool is probed by primary key instead of scanned."""
    golds = GoldPair.objects.filter(active=True).values_list("request_id", flat=True).order_by()
    controls = ControlImage.objects.filter(active=True).values_list("image__request_id", flat=True).order_by()
    return set(golds.union(controls))


def _balanced_check(*, rater: User, now: dt.datetime) -> uuid.UUID | None:
    """A check item left for the rater, drawn at random among those whose known answer favours
    the pipeline the rater's earlier check items favoured least. So a rater who always picks
    one pipeline's image agrees with about half their checks and cannot pass calibration."""
    candidates = arena_pool_among(rater=rater, request_ids=_check_request_ids(), now=now)
    if not candidates:
        return None
    earlier = set(
        PairAssignment.objects.filter(rater=rater, is_gold=True).values_list("request_id", flat=True).distinct()
    )
    favours = check_favours(request_ids=set(candidates) | earlier)
    served = Counter(favours[request_id] for request_id in earlier if favours.get(request_id) is not None)

    def shortfall(request_id) -> int:
        pipeline_id = favours.get(request_id)
        return served[pipeline_id] if pipeline_id is not None else min(served.values(), default=0)

    least = min(shortfall(request_id) for request_id in candidates)
    return random.choice([request_id for request_id in candidates if shortfall(request_id) == least])


def arena_next(*, rater: User, now: dt.datetime | None = None) -> PairAssignment | None:
    """Issue the rater's next arena pair (None when there is nothing left for them).

    A check item (gold pair or control image) with the chance `check_chance` gives, drawn by
    `_balanced_check`; otherwise a pair with the fewest votes (`arena_pool_seek`), so votes
    spread over the pool. Either way the order is drawn per rater and the assignment looks
    the same. The assignment comes back with its request, model and images loaded.
    """
    now = now or timezone.now()
    chosen = None
    calibrated, issued, checks_issued = rater_arena_standing(rater=rater)
    chance = check_chance(calibrated=calibrated, issued=issued, checks_issued=checks_issued)
    is_check = chance > 0 and random.random() < chance
    if is_check:
        chosen = _balanced_check(rater=rater, now=now)
    if chosen is None:
        # Check items come only through the balanced draw, never by this path.
        is_check = False
        chosen = arena_pool_seek(rater=rater, now=now)
    if chosen is None:
        is_check = True
        chosen = _balanced_check(rater=rater, now=now)  # no real pair left: a check item, if any
    if chosen is None:
        return None
    pair = pair_images(request_id=chosen)
    if pair is None:  # its images changed since the pool was read
        return None
    left, right = pair
    # Each rater sees their own random order, stored with the assignment.
    if random.random() < 0.5:
        left, right = right, left
    return PairAssignment.objects.create(
        rater=rater,
        request=left.request,
        left_image=left,
        right_image=right,
        # Known from the path that chose it (one marked a check since the pool was read is
        # caught at the vote: arena_vote looks again).
        is_gold=is_check,
        issued_at=now,
    )


def _assignment(*, rater: User, assignment_id: uuid.UUID | str) -> PairAssignment:
    try:
        assignment_id = uuid.UUID(str(assignment_id))
    except ValueError:
        raise RatingError("No such pair was shown to you.", "PairNotFound", status=404) from None
    assignment = (
        PairAssignment.objects.select_related("request", "left_image", "right_image")
        .filter(pk=assignment_id, rater=rater)
        .first()
    )
    if assignment is None:
        raise RatingError("No such pair was shown to you.", "PairNotFound", status=404)
    return assignment


def _too_many_votes(message: str) -> RatingError:
    return RatingError(message, "TooManyVotes", status=429)


def check_arena_throttle(*, rater: User, now: dt.datetime) -> None:
    """Refuse a vote that comes too soon after the rater's last one, or past the per-minute cap.

    Call it holding the rater's trust-row lock (as arena_vote does): read without the lock,
    two simultaneous votes would both see room for one.
    """
    state = arena_throttle_state(rater=rater, now=now)
    interval = settings.RATINGS_ARENA_MIN_VOTE_INTERVAL_SECONDS
    last_at = state["last_at"]
    if last_at is not None and interval > 0:
        since = (now - last_at).total_seconds()
        if since < interval:
            raise _too_many_votes(
                f"Votes must be at least {interval:g}s apart; wait {interval - since:.1f}s and vote again."
            )
    per_minute = settings.RATINGS_ARENA_MAX_VOTES_PER_MINUTE
    if per_minute > 0 and state["last_minute"] >= per_minute:
        raise _too_many_votes(f"At most {per_minute} arena votes a minute; wait a little and vote again.")


def arena_vote(
    *, rater: User, assignment_id: uuid.UUID | str, judgement: Judgement, now: dt.datetime | None = None
) -> Vote:
    """Vote on a pair the arena showed this rater.

    Throttled per rater (429 TooManyVotes: nothing stored, nothing paid). Pays the arena reward
    within the daily cap once the rater is calibrated and not excluded; a check item is paid
    like any pair (a different reward would tell it apart).
    """
    assignment = _assignment(rater=rater, assignment_id=assignment_id)
    if assignment.request.user_id == rater.pk:
        raise RatingError("You cannot judge your own pair in the arena.", "NotOwner", status=403)
    # The pool leaves these out; an assignment issued before the worker served (a requeued job)
    # or by any other path still earns nothing: its owner knows which image is which.
    if GenerationRequest.objects.filter(pk=assignment.request_id).filter(served_by_workers_of(rater=rater)).exists():
        raise RatingError("Your worker made an image of this pair: it is not yours to judge.", "OwnWorkerPair", 403)
    _refuse_hidden((assignment.left_image, assignment.right_image))
    if assignment.answered_at is not None:
        if Vote.objects.filter(assignment=assignment).exists():
            raise _already()
        raise RatingError("You skipped this pair.", "PairSkipped")
    _check_judgement(judgement)
    now = now or timezone.now()
    # A preloaded pair is issued before it appears; it appears when the previous one is answered.
    last_answer = rater_last_answer_at(rater=rater)
    shown_at = max(assignment.issued_at, last_answer) if last_answer else assignment.issued_at
    seconds = (now - shown_at).total_seconds()
    if seconds < settings.RATINGS_MIN_SECONDS_TO_VOTE:
        raise _too_fast(seconds)
    with transaction.atomic():
        # Lock the rater's trust row: one rater's arena votes commit one at a time, so two
        # concurrent votes can neither both fit under the daily cap nor both pass the throttle.
        trust = rater_trust_locked(rater=rater)
        check_arena_throttle(rater=rater, now=now)
        claimed = PairAssignment.objects.filter(pk=assignment.pk, answered_at__isnull=True).update(answered_at=now)
        if claimed != 1:
            raise _already()  # another request answered it first
        try:
            with transaction.atomic():
                vote = Vote.objects.create(
                    created_at=now,
                    request=assignment.request,
                    rater=rater,
                    source=Vote.Source.ARENA,
                    assignment=assignment,
                    left_image=assignment.left_image,
                    right_image=assignment.right_image,
                    **judgement.vote_fields(),
                    seconds_to_vote=seconds,
                    # Served as a check, or one now (staff may mark a pair after issuing it).
                    is_check=assignment.is_gold or _is_gold_request(assignment.request),
                )
        except IntegrityError as exc:
            raise _already() from exc
        _count_vote(request_id=assignment.request_id, delta=1, now=now)
        earned = arena_today(rater=rater, now=now)["kudos"]
        earns = trust.calibrated and not trust.excluded
        reward = max(0, min(settings.RATINGS_ARENA_REWARD, settings.RATINGS_ARENA_DAILY_CAP - earned)) if earns else 0
        if reward:
            kudos_rebate(user=rater, amount=reward, event_key=f"rating:{vote.id}", memo="Arena vote")
            Vote.objects.filter(pk=vote.pk).update(kudos_paid=reward)
            vote.kudos_paid = reward
    if assignment.is_gold or not trust.calibrated:
        # Gold answers move trust the most: a failing rater stops earning at once. A new
        # rater is recomputed after every vote, not only after checks, so the recompute
        # itself says nothing about which pairs were checks.
        from .trust import rater_trust_recompute

        rater_trust_recompute(user=rater, now=now)
    return vote


def arena_skip(*, rater: User, assignment_id: uuid.UUID | str, now: dt.datetime | None = None) -> PairAssignment:
    """Pass on a pair: it is not served to this rater again."""
    assignment = _assignment(rater=rater, assignment_id=assignment_id)
    now = now or timezone.now()
    if PairAssignment.objects.filter(pk=assignment.pk, answered_at__isnull=True).update(answered_at=now) != 1:
        raise RatingError("This pair was already answered.", "PairAlreadyAnswered")
    assignment.answered_at = now
    return assignment


def arena_undo(*, rater: User, assignment_id: uuid.UUID | str, now: dt.datetime | None = None) -> Vote:
    """Take back an arena vote within the undo window; the pair is withdrawn, not shown again.

    The vote is kept, marked retracted; its kudos go back through a new ledger
    transaction (`kudos_rebate_reverse`, event `rating-undo:<vote id>`), never by editing one.
    The vote revealed which pipeline made which image, so the rater cannot judge that pair
    blind any more: it leaves their queue for good (its assignment stays answered) and
    other raters judge it. Returns the retracted vote.
    """
    assignment = _assignment(rater=rater, assignment_id=assignment_id)
    vote = Vote.objects.filter(assignment=assignment, rater=rater).first()
    if vote is None:
        raise RatingError("There is no vote on this pair to undo.", "NothingToUndo")
    if vote.retracted_at is not None:
        raise RatingError("This vote was already undone.", "VoteAlreadyUndone")
    now = now or timezone.now()
    if (now - vote.created_at).total_seconds() > settings.RATINGS_UNDO_SECONDS:
        raise RatingError(f"A vote can only be undone within {settings.RATINGS_UNDO_SECONDS}s.", "UndoWindowPassed")
    with transaction.atomic():
        # Compare-and-swap: of two concurrent undos only one retracts, so only one pays back.
        if Vote.objects.filter(pk=vote.pk, retracted_at__isnull=True).update(retracted_at=now) != 1:
            raise RatingError("This vote was already undone.", "VoteAlreadyUndone")
        _count_vote(request_id=vote.request_id, delta=-1, now=now)
        if vote.kudos_paid:
            kudos_rebate_reverse(
                user=rater, amount=vote.kudos_paid, event_key=f"rating-undo:{vote.id}", memo="Arena vote undone"
            )
    vote.retracted_at = now
    return vote
