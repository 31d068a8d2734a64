"""The AI Horde v2 team API (DRF): list and create teams, one team's details, edit, delete.

Workers join a team by PUT /v2/workers/{id} `team`; the rules are
generation.services.worker_control's."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.apikey_auth import require_user
from generation import selectors
from generation.models import Team
from generation.services import GenerationError
from generation.services.worker_control import team_by_id, team_create, team_delete, team_modify
from horde_site.api_errors import not_found
from horde_site.api_schema import StrictCharField, error_responses

from .api_workers import PublicReadMixin, horde_error
from .schema import DeletedTeamSerializer, ModifyTeamSerializer, TeamDetailsSerializer


def team_or_404(team_id: str) -> Team:
    team = team_by_id(team_id=team_id)
    if team is None:
        raise not_found(f"Team {str(team_id)[:64]!r} not found.", rc="TeamNotFound")
    return team


def modify_answer(team: Team) -> dict[str, str]:
    return {"id": str(team.pk), "name": team.name, "info": team.info}


class TeamsApi(PublicReadMixin, APIView):
    @extend_schema_serializer(component_name="CreateTeamInput")
    class InputSerializer(serializers.Serializer):
        name = StrictCharField(max_length=100)  # trimmed; blank refused
        info = StrictCharField(required=False, allow_null=True, allow_blank=True, max_length=1000)

    @extend_schema(
        operation_id="teams_list", tags=["teams"], auth=[], responses={200: TeamDetailsSerializer(many=True)}
    )
    def get(self, request: Request) -> Response:
        return Response([selectors.team_details(team=team) for team in selectors.teams_list()])

    @extend_schema(
        operation_id="team_create",
        tags=["teams"],
        summary="Create a team (trusted users)",
        request=InputSerializer,
        responses={
            200: ModifyTeamSerializer,
            **error_responses(
                400,
                401,
                403,
                415,
                429,
                e429="Too many changes from this client (TooManyRequests, with Retry-After)",
                e400="Invalid body or the name taken (TeamNameAlreadyExists)",
                e403="Not trusted (UntrustedTeamCreation) or anonymous (AnonForbidden)",
            ),
        },
    )
    def post(self, request: Request) -> Response:
        user = require_user(request, allow_anonymous=True)
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            team = team_create(user=user, name=body.validated_data["name"], info=body.validated_data.get("info"))
        except GenerationError as exc:
            raise horde_error(exc) from None
        return Response(modify_answer(team))


class TeamApi(PublicReadMixin, APIView):
    @extend_schema_serializer(component_name="ModifyTeamInput")
    class InputSerializer(serializers.Serializer):
        name = StrictCharField(required=False, allow_null=True, max_length=100)
        info = StrictCharField(required=False, allow_null=True, allow_blank=True, max_length=1000)

    @extend_schema(
        operation_id="team_details",
        tags=["teams"],
        auth=[],
        responses={200: TeamDetailsSerializer, **error_responses(404, e404="No such team (TeamNotFound)")},
    )
    def get(self, request: Request, team_id: str) -> Response:
        return Response(selectors.team_details(team=team_or_404(team_id)))

    @extend_schema(
        operation_id="team_modify",
        tags=["teams"],
        summary="Rename a team or change its info (its creator or staff)",
        request=InputSerializer,
        responses={
            200: ModifyTeamSerializer,
            **error_responses(
                400,
                401,
                403,
                404,
                415,
                429,
                e429="Too many changes from this client (TooManyRequests, with Retry-After)",
                e400="Invalid body, nothing to change (NoTeamModSelected) or the name taken (TeamNameAlreadyExists)",
                e403="Not its creator nor staff (NotOwner, NotModerator)",
                e404="No such team (TeamNotFound)",
            ),
        },
    )
    def patch(self, request: Request, team_id: str) -> Response:
        user = require_user(request, allow_anonymous=True)
        team = team_or_404(team_id)
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            team = team_modify(team=team, user=user, name=data.get("name"), info=data.get("info"))
        except GenerationError as exc:
            raise horde_error(exc) from None
        return Response(modify_answer(team))

    @extend_schema(
        operation_id="team_delete",
        tags=["teams"],
        summary="Delete a team (its creator or staff); its workers stay, teamless",
        request=None,
        responses={
            200: DeletedTeamSerializer,
            **error_responses(
                401, 403, 404, e403="Not its creator nor staff (NotModerator)", e404="No such team (TeamNotFound)"
            ),
        },
    )
    def delete(self, request: Request, team_id: str) -> Response:
        user = require_user(request, allow_anonymous=True)
        team = team_or_404(team_id)
        try:
            return Response(team_delete(team=team, user=user))
        except GenerationError as exc:
            raise horde_error(exc) from None
