"""The AI Horde v2 worker API (DRF): one worker (details, modify, retire), by name, and
staff's messages to workers' owners. The rules are generation.services.worker_control's."""

from __future__ import annotations

import uuid
from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.apikey_auth import require_user
from accounts.schema import SimpleResponseSerializer
from generation import selectors
from generation.models import Worker, WorkerMessage
from generation.services import GenerationError
from generation.services.worker_control import (
    MESSAGE_MAX_HOURS,
    WorkerChange,
    worker_message_create,
    worker_message_delete,
    worker_modify,
    worker_retire,
)
from horde_site.api_errors import HordeError, not_found
from horde_site.api_schema import StrictBooleanField, StrictCharField, StrictIntegerField, error_responses

from .schema import (
    DeletedWorkerSerializer,
    ModifyWorkerSerializer,
    WorkerDetailsSerializer,
    WorkerMessageSerializer,
)

MESSAGES_PER_PAGE = 50


def horde_error(exc: GenerationError) -> HordeError:
    return HordeError(exc.status_code, exc.rc, exc.message)


def worker_or_404(worker_id: Any) -> Worker:
    worker = selectors.worker_by_id(worker_id=worker_id)
    if worker is None:
        raise not_found("Worker not found.", rc="WorkerNotFound")
    return worker


class PublicReadMixin:
    """GET is public (the AI Horde's worker and team details): an apikey sent with it is not
    checked, so a client that sends its key everywhere still reads; writes need one."""

    def perform_authentication(self, request: Request) -> None:
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            super().perform_authentication(request)  # type: ignore[misc]


def _uuid_text(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise serializers.ValidationError("Not a worker id (a UUID).") from None


class WorkerApi(PublicReadMixin, APIView):
    """GET details; PUT maintenance, pause (staff), info, name, team; DELETE retires it."""

    @extend_schema_serializer(component_name="ModifyWorkerInput")
    class InputSerializer(serializers.Serializer):
        maintenance = StrictBooleanField(required=False, allow_null=True)
        maintenance_msg = StrictCharField(required=False, allow_null=True, allow_blank=True, max_length=1000)
        paused = StrictBooleanField(required=False, allow_null=True, help_text="Staff only.")
        info = StrictCharField(required=False, allow_null=True, allow_blank=True, max_length=1000)
        # Trimmed (DRF's default), then 5 to 100 characters as horde-sdk's ModifyWorkerRequest says.
        name = StrictCharField(required=False, allow_null=True, min_length=5, max_length=100)
        team = StrictCharField(
            required=False, allow_null=True, allow_blank=True, max_length=36, help_text='A team id; "" leaves it.'
        )

    @extend_schema(
        operation_id="worker_details",
        tags=["workers"],
        auth=[],
        responses={200: WorkerDetailsSerializer, **error_responses(404, e404="No such worker (WorkerNotFound)")},
    )
    def get(self, request: Request, worker_id: str) -> Response:
        return Response(selectors.worker_details(worker=worker_or_404(worker_id)))

    @extend_schema(
        operation_id="worker_modify",
        tags=["workers"],
        summary="Maintenance, pause (staff), info, name or team of a worker (its owner or staff)",
        request=InputSerializer,
        responses={
            200: ModifyWorkerSerializer,
            **error_responses(
                400,
                401,
                403,
                404,
                415,
                429,
                e429="Too many changes from this client (TooManyRequests, with Retry-After)",
                e400="Invalid body, nothing to change (NoWorkerModSelected) or the name taken "
                "(WorkerNameAlreadyExists)",
                e403="Not the owner (NotOwner, NotModerator), pause without staff (NotModerator), anonymous "
                "(AnonForbiddenWorker)",
                e404="No such worker (WorkerNotFound) or team (TeamNotFound)",
            ),
        },
    )
    def put(self, request: Request, worker_id: str) -> Response:
        user = require_user(request, allow_anonymous=True)
        worker = worker_or_404(worker_id)
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            answer = worker_modify(worker=worker, user=user, change=WorkerChange(**body.validated_data))
        except GenerationError as exc:
            raise horde_error(exc) from None
        return Response(answer)

    @extend_schema(
        operation_id="worker_delete",
        tags=["workers"],
        summary="Retire a worker (its owner or staff): out of every list; its jobs in flight requeued",
        request=None,
        responses={
            200: DeletedWorkerSerializer,
            **error_responses(
                401,
                403,
                404,
                e403="Not the owner nor staff (NotModerator), or anonymous (AnonForbiddenWorker)",
                e404="No such worker (WorkerNotFound)",
            ),
        },
    )
    def delete(self, request: Request, worker_id: str) -> Response:
        user = require_user(request, allow_anonymous=True)
        worker = worker_or_404(worker_id)
        try:
            return Response(worker_retire(worker=worker, user=user))
        except GenerationError as exc:
            raise horde_error(exc) from None


class WorkerByNameApi(APIView):
    authentication_classes: list = []

    @extend_schema(
        operation_id="worker_details_by_name",
        tags=["workers"],
        responses={200: WorkerDetailsSerializer, **error_responses(404, e404="No such worker (WorkerNotFound)")},
    )
    def get(self, request: Request, worker_name: str) -> Response:
        worker = selectors.workers_list().filter(name=worker_name[:100]).first()
        if worker is None:
            raise not_found("Worker not found.", rc="WorkerNotFound")
        return Response(selectors.worker_details(worker=worker))


class WorkerMessagesApi(APIView):
    """GET: messages to your workers (staff: anyone's); POST (staff): a message to a worker's owner."""

    class QuerySerializer(serializers.Serializer):
        user_id = serializers.RegexField(r"^[0-9]{1,18}$", required=False, help_text="Staff: another user's.")
        worker_id = serializers.CharField(required=False, max_length=36)
        validity = serializers.ChoiceField(choices=["active", "expired", "all"], required=False, default="active")
        page = serializers.RegexField(r"^[0-9]{1,6}$", required=False, default="1", help_text="From 1.")

        def validate_worker_id(self, value: str) -> str:
            return _uuid_text(value)

        def validate_page(self, value: str) -> int:
            if int(value) < 1:
                raise serializers.ValidationError("Pages start at 1.")
            return int(value)

    @extend_schema_serializer(component_name="CreateWorkerMessageInput")
    class InputSerializer(serializers.Serializer):
        worker_id = StrictCharField(max_length=36)
        message = StrictCharField(max_length=2000)
        origin = StrictCharField(required=False, allow_null=True, allow_blank=True, max_length=100)
        expiry = StrictIntegerField(min_value=1, max_value=MESSAGE_MAX_HOURS, help_text="Hours it lasts.")

        def validate_worker_id(self, value: str) -> str:
            return _uuid_text(value)

    @extend_schema(
        operation_id="worker_messages_list",
        tags=["workers"],
        parameters=[QuerySerializer],
        responses={
            200: WorkerMessageSerializer(many=True),
            **error_responses(400, 401, 403, e403="Another user's messages, without staff (Forbidden)"),
        },
    )
    def get(self, request: Request) -> Response:
        user = require_user(request, allow_anonymous=False)
        query = self.QuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        wanted = query.validated_data
        owner_id = int(wanted["user_id"]) if "user_id" in wanted else (None if user.is_staff else user.pk)
        if not user.is_staff and owner_id != user.pk:
            raise HordeError(403, "Forbidden", "You can only view your own messages.")
        found = selectors.worker_messages(
            owner_id=owner_id, worker_id=wanted.get("worker_id"), validity=wanted["validity"]
        )
        start = (wanted["page"] - 1) * MESSAGES_PER_PAGE
        page = found[start : start + MESSAGES_PER_PAGE]
        return Response([selectors.worker_message_json(message=message) for message in page])

    @extend_schema(
        operation_id="worker_message_create",
        tags=["workers"],
        summary="Staff: a message to a worker's owner (its id is in the Location header and the worker's pops)",
        request=InputSerializer,
        responses={
            200: WorkerMessageSerializer,
            **error_responses(
                400,
                401,
                403,
                404,
                415,
                e403="Not staff (NotModerator), or anonymous (AnonForbidden)",
                e404="No such worker (WorkerNotFound)",
            ),
        },
    )
    def post(self, request: Request) -> Response:
        user = require_user(request, allow_anonymous=True)
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        worker = worker_or_404(data["worker_id"])
        try:
            message = worker_message_create(
                user=user,
                worker=worker,
                message=data["message"],
                expiry_hours=data["expiry"],
                origin=data.get("origin"),
            )
        except GenerationError as exc:
            raise horde_error(exc) from None
        response = Response(selectors.worker_message_json(message=message))
        # Not a body field: horde-sdk's strict model of the answer has no id.
        response["Location"] = f"/api/v2/workers/messages/{message.pk}"
        return response


def message_or_404(message_id: str) -> WorkerMessage:
    try:
        pk = uuid.UUID(str(message_id))
    except ValueError:
        pk = None
    message = WorkerMessage.objects.filter(pk=pk).first() if pk else None
    if message is None:
        raise not_found("WorkerMessage not found.", rc="ThingNotFound")
    return message


class WorkerMessageApi(PublicReadMixin, APIView):
    """GET one message by id (the id is the capability, as on the AI Horde); DELETE: its author or staff."""

    @extend_schema(
        operation_id="worker_message_details",
        tags=["workers"],
        auth=[],
        responses={200: WorkerMessageSerializer, **error_responses(404, e404="No such message (ThingNotFound)")},
    )
    def get(self, request: Request, message_id: str) -> Response:
        return Response(selectors.worker_message_json(message=message_or_404(message_id)))

    @extend_schema(
        operation_id="worker_message_delete",
        tags=["workers"],
        request=None,
        responses={
            200: OpenApiResponse(SimpleResponseSerializer, description='{"message": "OK"}'),
            **error_responses(
                401, 403, 404, e403="Not its author nor staff (Forbidden)", e404="No such message (ThingNotFound)"
            ),
        },
    )
    def delete(self, request: Request, message_id: str) -> Response:
        user = require_user(request, allow_anonymous=True)
        message = message_or_404(message_id)
        try:
            worker_message_delete(message=message, user=user)
        except GenerationError as exc:
            raise horde_error(exc) from None
        return Response({"message": "OK"})
