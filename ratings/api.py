"""Ratings API: judging one's own pair (AI Horde `POST /v2/generate/rate/{id}`) and the arena.

Own pair body (AI Horde): `best` = the better image's id, `ratings` = [{id,
rating 1-10, artifacts 0-5}]. Our extension: `choice` = left | right | tie |
both_bad (the order the pair is shown in, Job.position 0 = left), for the
verdicts `best` cannot say. An image is named by its image id or its job
(generation) id. Answers `{"reward": kudos}`, the AI Horde's shape.

Judging is blind: nothing these endpoints answer before a vote names a pipeline,
a worker or the order the jobs were made in (an arena pair is its image ids and
URLs, both random). After the vote, GET .../rate/{id}/reveal (Horde's own endpoint)
tells which pipeline made which image, as the chat arenas do.

The arena endpoints also accept the browser session (with CSRF), so the
arena page drives them directly.
"""

from __future__ import annotations

import uuid
from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.apikey_auth import ApiKeyAuthentication, require_user
from generation.models import GenerationRequest, Image
from horde_site.api_errors import HordeError, bad_request, not_found
from horde_site.api_schema import StrictIntegerField, error_responses

from .models import PairAssignment
from .schema import (
    ArenaPairSerializer,
    ArenaSkippedSerializer,
    ArenaUndoneSerializer,
    ArenaVotedSerializer,
    PairRevealSerializer,
    RatingRewardSerializer,
)
from .selectors import arena_today, live_vote, pair_reveal
from .serializers import CHOICE_FIELD_KW, OwnPairRateSerializer
from .services import (
    Judgement,
    RatingError,
    arena_next,
    arena_skip,
    arena_undo,
    arena_vote,
    judgement_from_horde,
    own_pair_vote,
)
from .services.voting import own_pair_for


def _horde_error(exc: RatingError) -> HordeError:
    return HordeError(exc.status, exc.rc, exc.message)


ARENA_403 = "Anonymous (AnonForbidden), or a browser session without its CSRF token (Forbidden)"
ARENA_404 = "No such pair was shown to you (PairNotFound)"


class RateOwnPairApi(APIView):
    InputSerializer = OwnPairRateSerializer

    @extend_schema(
        operation_id="rate_own_pair",
        tags=["ratings"],
        request=InputSerializer,
        responses={
            200: RatingRewardSerializer,
            **error_responses(
                400,
                401,
                403,
                404,
                415,
                429,
                e400="Invalid body, or the pair cannot be judged (AestheticsNotCompleted, AestheticsAlreadyExist, "
                "ProcGenNotFound, RatingTooFast, PairHidden...)",
                e403="Anonymous (AnonForbidden), or not the requester (NotOwner)",
                e404="No such request (RequestNotFound)",
                e429="Too many calls from this client (TooManyRequests, with Retry-After)",
            ),
        },
        summary="Judge your own finished pair (AI Horde aesthetics body, plus `choice`: left|right|tie|both_bad)",
    )
    def post(self, request: Request, request_id: str) -> Response:
        user = require_user(request, allow_anonymous=False)
        try:
            generation_request = (
                GenerationRequest.objects.select_related("model").filter(pk=uuid.UUID(request_id)).first()
            )
        except ValueError:
            generation_request = None
        if generation_request is None:
            raise not_found(f"Request with ID '{request_id}' not found.", rc="RequestNotFound")
        try:
            # Who may judge comes before what they sent: a stranger gets 403 whatever the body.
            left, right = own_pair_for(rater=user, generation_request=generation_request)
        except RatingError as exc:
            raise _horde_error(exc) from exc
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            judgement = judgement_from_horde(
                left=left,
                right=right,
                best=data.get("best") or None,
                choice=data.get("choice"),
                ratings=data.get("ratings", []),
            )
            vote = own_pair_vote(rater=user, generation_request=generation_request, judgement=judgement)
        except RatingError as exc:
            raise _horde_error(exc) from exc
        return Response({"reward": vote.kudos_paid})


class PairRevealApi(APIView):
    """Horde's own endpoint: after your verdict, which pipeline made which image of your pair.

    The AI Horde's rate answer is `{"reward"}` alone (strict clients refuse more), so the
    reveal, as the chat arenas show it after a vote, is asked for here."""

    @extend_schema(
        operation_id="rate_own_pair_reveal",
        tags=["ratings"],
        request=None,
        responses={
            200: PairRevealSerializer,
            **error_responses(
                400,
                401,
                403,
                404,
                e400="Not judged yet: nothing is revealed before your verdict (NotJudgedYet)",
                e403="Anonymous (AnonForbidden), or not the requester (NotOwner)",
                e404="No such request (RequestNotFound)",
            ),
        },
        summary="After your verdict: which pipeline made which image of your pair, in the order shown",
    )
    def get(self, request: Request, request_id: str) -> Response:
        user = require_user(request, allow_anonymous=False)
        try:
            generation_request = GenerationRequest.objects.filter(pk=uuid.UUID(request_id)).first()
        except ValueError:
            generation_request = None
        if generation_request is None:
            raise not_found(f"Request with ID '{request_id}' not found.", rc="RequestNotFound")
        if generation_request.user_id != user.pk:
            raise HordeError(403, "NotOwner", "Only the requester sees how their pair was made.")
        vote = live_vote(generation_request=generation_request, rater=user)
        if vote is None:
            raise bad_request("Nothing is revealed before your verdict.", rc="NotJudgedYet")
        return Response(pair_reveal(vote=vote))


def _image_json(image: Image) -> dict[str, Any]:
    return {"id": str(image.id), "url": image.file.url}


def assignment_json(assignment: PairAssignment) -> dict[str, Any]:
    return {
        "id": str(assignment.id),
        "prompt": assignment.request.prompt,
        "model": assignment.request.model.name,
        "left": _image_json(assignment.left_image),
        "right": _image_json(assignment.right_image),
        "issued_at": assignment.issued_at.isoformat(),
    }


class ArenaApi(APIView):
    # The arena page calls these with its session (CSRF checked); clients with the apikey header.
    authentication_classes = [ApiKeyAuthentication, SessionAuthentication]


class ArenaNextApi(ArenaApi):
    @extend_schema(
        operation_id="arena_next",
        tags=["ratings"],
        request=None,
        responses={
            200: ArenaPairSerializer,
            **error_responses(
                401,
                403,
                429,
                e403=ARENA_403,
                e429="Too many calls from this client (TooManyRequests, with Retry-After)",
            ),
        },
        summary="Issue your next arena pair",
    )
    def get(self, request: Request) -> Response:
        user = require_user(request, allow_anonymous=False)
        assignment = arena_next(rater=user)  # its request, model and images come loaded
        return Response(
            {"assignment": assignment_json(assignment) if assignment else None, "today": arena_today(rater=user)}
        )


class ArenaVoteApi(ArenaApi):
    @extend_schema_serializer(component_name="ArenaVote")
    class InputSerializer(serializers.Serializer):
        choice = serializers.ChoiceField(**CHOICE_FIELD_KW)
        left_aesthetic = StrictIntegerField(min_value=1, max_value=10, required=False, allow_null=True)
        right_aesthetic = StrictIntegerField(min_value=1, max_value=10, required=False, allow_null=True)
        left_artifacts = StrictIntegerField(min_value=0, max_value=5, required=False, allow_null=True)
        right_artifacts = StrictIntegerField(min_value=0, max_value=5, required=False, allow_null=True)

    @extend_schema(
        operation_id="arena_vote",
        tags=["ratings"],
        request=InputSerializer,
        responses={
            200: ArenaVotedSerializer,
            **error_responses(
                400,
                401,
                403,
                404,
                415,
                429,
                e400="Invalid body, or the pair was skipped or answered, or the vote came too fast, or the "
                "moderators took the pair down (PairHidden)",
                e403=ARENA_403 + "; your own pair (NotOwner), or a pair your worker served (OwnWorkerPair)",
                e404=ARENA_404,
                e429="Votes too close together or too many a minute (TooManyVotes); nothing is stored",
            ),
        },
        summary="Vote on an arena pair (sides as shown in that assignment)",
    )
    def post(self, request: Request, assignment_id: uuid.UUID) -> Response:
        user = require_user(request, allow_anonymous=False)
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            vote = arena_vote(rater=user, assignment_id=assignment_id, judgement=Judgement(**body.validated_data))
        except RatingError as exc:
            raise _horde_error(exc) from exc
        return Response(
            {
                "reward": vote.kudos_paid,
                "vote_id": str(vote.id),
                "today": arena_today(rater=user),
                "reveal": pair_reveal(vote=vote),
            }
        )


class ArenaSkipApi(ArenaApi):
    @extend_schema(
        operation_id="arena_skip",
        tags=["ratings"],
        request=None,
        responses={
            200: ArenaSkippedSerializer,
            **error_responses(
                400, 401, 403, 404, e400="Already answered (PairAlreadyAnswered)", e403=ARENA_403, e404=ARENA_404
            ),
        },
        summary="Skip an arena pair",
    )
    def post(self, request: Request, assignment_id: uuid.UUID) -> Response:
        user = require_user(request, allow_anonymous=False)
        try:
            arena_skip(rater=user, assignment_id=assignment_id)
        except RatingError as exc:
            raise _horde_error(exc) from exc
        return Response({"skipped": str(assignment_id)})


class ArenaUndoApi(ArenaApi):
    @extend_schema(
        operation_id="arena_undo",
        tags=["ratings"],
        request=None,
        responses={
            200: ArenaUndoneSerializer,
            **error_responses(
                400,
                401,
                403,
                404,
                e400="No vote to undo, already undone, or past the undo window",
                e403=ARENA_403,
                e404=ARENA_404,
            ),
        },
        summary="Undo your arena vote on this pair (the pair is withdrawn: its pipelines were shown)",
    )
    def post(self, request: Request, assignment_id: uuid.UUID) -> Response:
        user = require_user(request, allow_anonymous=False)
        try:
            vote = arena_undo(rater=user, assignment_id=assignment_id)
        except RatingError as exc:
            raise _horde_error(exc) from exc
        return Response({"undone": str(vote.id), "today": arena_today(rater=user)})
