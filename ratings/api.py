"""Ratings API: judging one's own pair (AI Horde `POST /v2/generate/rate/{id}`) and the arena.

Own pair body (AI Horde): `best` = the better image's id, `ratings` = [{id,
rating 1-10, artifacts 0-5}]. Our extension: `choice` = left | right | tie |
both_bad (the order the pair is shown in, Job.position 0 = left), for the
verdicts `best` cannot say. An image is named by its image id or its job
(generation) id. Answers `{"reward": kudos, "reveal": {...}}`.

Judging is blind: nothing these endpoints answer before a vote names a pipeline,
a worker or the order the jobs were made in (an arena pair is its image ids and
URLs, both random). The vote's answer then reveals which pipeline made which
image (`reveal`, as the chat arenas do; an extension of the AI Horde's answer).

The arena endpoints also accept the browser session (with CSRF), so the
arena page drives them directly.
"""

from __future__ import annotations

import uuid
from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_serializer, inline_serializer
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.apikey_auth import ApiKeyAuthentication, require_user
from generation.models import GenerationRequest, Image
from horde_site.api_errors import HordeError, not_found

from .models import PairAssignment
from .selectors import arena_today, pair_reveal
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


class StrictIntegerField(serializers.IntegerField):
    """A JSON number that is a whole number: refuses "5", 5.5 and true."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


def _horde_error(exc: RatingError) -> HordeError:
    return HordeError(exc.status, exc.rc, exc.message)


CHOICE_FIELD_KW: dict[str, Any] = {"choices": ["left", "right", "tie", "both_bad"]}

_REVEALED_SIDE = inline_serializer(
    "RevealedImage",
    {
        "image_id": serializers.CharField(),
        "pipeline": serializers.CharField(allow_null=True),
        "version": serializers.CharField(allow_null=True),
    },
)
REVEAL = inline_serializer("PairReveal", {"left": _REVEALED_SIDE, "right": _REVEALED_SIDE})


class HordeRatingSerializer(serializers.Serializer):
    id = serializers.CharField(max_length=64)
    rating = StrictIntegerField(min_value=1, max_value=10)
    artifacts = StrictIntegerField(min_value=0, max_value=5, required=False, allow_null=True)


class RateOwnPairApi(APIView):
    @extend_schema_serializer(component_name="AestheticsPayload")
    class InputSerializer(serializers.Serializer):
        best = serializers.CharField(max_length=64, required=False, allow_null=True, allow_blank=True)
        ratings = HordeRatingSerializer(many=True, required=False, max_length=2)
        choice = serializers.ChoiceField(required=False, allow_null=True, **CHOICE_FIELD_KW)

    @extend_schema(
        request=InputSerializer,
        responses={200: inline_serializer("RatingReward", {"reward": serializers.IntegerField(), "reveal": REVEAL})},
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
        return Response({"reward": vote.kudos_paid, "reveal": pair_reveal(vote=vote)})


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


ARENA_RESPONSE = inline_serializer(
    "ArenaPair",
    {"assignment": serializers.DictField(allow_null=True), "today": serializers.DictField()},
)


class ArenaNextApi(ArenaApi):
    @extend_schema(request=None, responses={200: ARENA_RESPONSE}, summary="Issue your next arena pair")
    def get(self, request: Request) -> Response:
        user = require_user(request, allow_anonymous=False)
        assignment = arena_next(rater=user)
        if assignment is not None:
            assignment = PairAssignment.objects.select_related("request__model", "left_image", "right_image").get(
                pk=assignment.pk
            )
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
        request=InputSerializer,
        responses={
            200: inline_serializer(
                "ArenaVoted",
                {
                    "reward": serializers.IntegerField(),
                    "vote_id": serializers.CharField(),
                    "today": serializers.DictField(),
                    "reveal": REVEAL,
                },
            )
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
    @extend_schema(request=None, responses={200: None}, summary="Skip an arena pair")
    def post(self, request: Request, assignment_id: uuid.UUID) -> Response:
        user = require_user(request, allow_anonymous=False)
        try:
            arena_skip(rater=user, assignment_id=assignment_id)
        except RatingError as exc:
            raise _horde_error(exc) from exc
        return Response({"skipped": str(assignment_id)})


class ArenaUndoApi(ArenaApi):
    @extend_schema(
        request=None,
        responses={
            200: inline_serializer("ArenaUndone", {"undone": serializers.UUIDField(), "today": serializers.DictField()})
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
