"""The AI Horde's /v2/filters API: moderators list, add, change and delete prompt filters, and
check a prompt against them. Every operation needs a moderator's apikey (NotModerator)."""

from __future__ import annotations

from django.db.models import Q
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.apikey_auth import require_user
from accounts.models import User
from horde_site.api_errors import HordeError, bad_request, not_found
from horde_site.api_input import is_ascii_number
from horde_site.api_schema import error_responses

from .models import PromptFilter
from .prompt_check import prompt_suspicion
from .roles import is_moderator
from .schema import FilterDeletedSerializer, FilterDetailsSerializer, FilterPromptSuspicionSerializer
from .serializers import FilterCheckSerializer, FilterListQuerySerializer, FilterPatchSerializer, FilterPutSerializer
from .services import ModerationError, prompt_filter_add, prompt_filter_delete, prompt_filter_update

ERRORS = {"e403": "Not a moderator (NotModerator)"}


def require_moderator(request: Request) -> User:
    user = require_user(request, allow_anonymous=False, anonymous_rc="NotModerator")
    if not is_moderator(user):
        raise HordeError(403, "NotModerator", "Only moderators may use the prompt filters.")
    return user


def filter_details(prompt_filter: PromptFilter) -> dict:
    return {
        "id": str(prompt_filter.pk),
        "regex": prompt_filter.regex,
        "filter_type": prompt_filter.filter_type,
        "description": prompt_filter.description,
        "replacement": prompt_filter.replacement,
        "user": prompt_filter.user.horde_name if prompt_filter.user else "",
    }


def filter_or_404(filter_id: str) -> PromptFilter:
    found = None
    if is_ascii_number(filter_id) and len(filter_id) < 19:
        found = PromptFilter.objects.select_related("user").filter(pk=int(filter_id)).first()
    if found is None:
        raise not_found(f"Filter with ID '{filter_id[:64]}' not found.", rc="FilterNotFound")
    return found


def _blank(value: str | None) -> str:
    return value or ""


class FiltersApi(APIView):
    """GET list, PUT add, POST check: /api/v2/filters."""

    @extend_schema(
        operation_id="filters_list",
        tags=["moderation"],
        summary="Moderators: the prompt filters, optionally of one type or containing a word",
        parameters=[FilterListQuerySerializer],
        responses={200: FilterDetailsSerializer(many=True), **error_responses(400, 401, 403, **ERRORS)},
    )
    def get(self, request: Request) -> Response:
        require_moderator(request)
        query = FilterListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        filters = PromptFilter.objects.select_related("user")
        if "filter_type" in query.validated_data:
            filters = filters.filter(filter_type=query.validated_data["filter_type"])
        if "contains" in query.validated_data:
            word = query.validated_data["contains"]
            filters = filters.filter(Q(regex__contains=word) | Q(description__contains=word))
        return Response([filter_details(found) for found in filters])

    @extend_schema(
        operation_id="filters_add",
        tags=["moderation"],
        summary="Moderators: add a prompt filter (the same regex and type again: the existing one, 200)",
        request=FilterPutSerializer,
        responses={
            201: FilterDetailsSerializer,
            200: OpenApiResponse(FilterDetailsSerializer, description="That regex and type existed already"),
            **error_responses(400, 401, 403, 415, **ERRORS, e400="Invalid body, or a regex that does not compile"),
        },
    )
    def put(self, request: Request) -> Response:
        user = require_moderator(request)
        body = FilterPutSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        prompt_filter, created = prompt_filter_add(
            by=user,
            regex=data["regex"],
            filter_type=data["filter_type"],
            description=_blank(data.get("description")),
            replacement=_blank(data.get("replacement")),
        )
        return Response(filter_details(prompt_filter), status=status.HTTP_201_CREATED if created else 200)

    @extend_schema(
        operation_id="filters_check",
        tags=["moderation"],
        summary="Moderators: how suspicious a prompt is (2 or more: it would be refused)",
        request=FilterCheckSerializer,
        responses={200: FilterPromptSuspicionSerializer, **error_responses(400, 401, 403, 415, **ERRORS)},
    )
    def post(self, request: Request) -> Response:
        require_moderator(request)
        body = FilterCheckSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        suspicion, matches = prompt_suspicion(
            body.validated_data["prompt"], filter_type=body.validated_data.get("filter_type")
        )
        return Response({"suspicion": suspicion, "matches": matches})


class FilterSingleApi(APIView):
    """GET, PATCH, DELETE /api/v2/filters/{filter_id}."""

    @extend_schema(
        operation_id="filter_details",
        tags=["moderation"],
        summary="Moderators: one prompt filter",
        responses={200: FilterDetailsSerializer, **error_responses(401, 403, 404, **ERRORS, e404="FilterNotFound")},
    )
    def get(self, request: Request, filter_id: str) -> Response:
        require_moderator(request)
        return Response(filter_details(filter_or_404(filter_id)))

    @extend_schema(
        operation_id="filter_change",
        tags=["moderation"],
        summary="Moderators: change a prompt filter",
        request=FilterPatchSerializer,
        responses={
            200: FilterDetailsSerializer,
            **error_responses(
                400,
                401,
                403,
                404,
                415,
                **ERRORS,
                e400="Invalid body, a regex that does not compile, or nothing to change (NoFilterModSelected)",
                e404="FilterNotFound",
            ),
        },
    )
    def patch(self, request: Request, filter_id: str) -> Response:
        user = require_moderator(request)
        prompt_filter = filter_or_404(filter_id)
        body = FilterPatchSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        changes = {name: value for name, value in body.validated_data.items() if value is not None}
        if not changes:
            raise bad_request("No filter patching selected!", rc="NoFilterModSelected")
        try:
            prompt_filter = prompt_filter_update(prompt_filter=prompt_filter, by=user, changes=changes)
        except ModerationError as exc:
            raise bad_request(exc.message, rc=exc.rc) from None
        return Response(filter_details(prompt_filter))

    @extend_schema(
        operation_id="filter_delete",
        tags=["moderation"],
        summary="Moderators: delete a prompt filter",
        responses={
            200: FilterDeletedSerializer,
            **error_responses(401, 403, 404, **ERRORS, e404="FilterNotFound"),
        },
    )
    def delete(self, request: Request, filter_id: str) -> Response:
        user = require_moderator(request)
        prompt_filter_delete(prompt_filter=filter_or_404(filter_id), by=user)
        return Response({"message": "OK"})
