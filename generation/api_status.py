"""The AI Horde v2 read-only status API (DRF): heartbeat, models, the workers list. Public: no apikey."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from generation import selectors
from horde_site.api_schema import QueryIntegerField, error_responses

from .schema import ActiveModelSerializer, HeartbeatSerializer, WorkerDetailsSerializer


class HeartbeatApi(APIView):
    authentication_classes: list = []

    @extend_schema(operation_id="status_heartbeat", tags=["status"], responses={200: HeartbeatSerializer})
    def get(self, request: Request) -> Response:
        return Response({"message": "OK", "version": "2.0.0"})


class ModelsStatusApi(APIView):
    authentication_classes: list = []

    class InputSerializer(serializers.Serializer):
        """The AI Horde's filters. Horde serves image models only, all of them staff-defined
        ("known"): `type=text` or `model_state=custom` list none."""

        type = serializers.ChoiceField(choices=["image", "text"], required=False, default="image")
        min_count = QueryIntegerField(min_value=0, required=False, help_text="At least this many workers")
        max_count = QueryIntegerField(min_value=0, required=False, help_text="At most this many workers")
        model_state = serializers.ChoiceField(choices=["known", "custom", "all"], required=False, default="all")

    @extend_schema(
        operation_id="status_models",
        tags=["status"],
        parameters=[InputSerializer],
        responses={200: ActiveModelSerializer(many=True), **error_responses(400)},
    )
    def get(self, request: Request) -> Response:
        query = self.InputSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        wanted = query.validated_data
        if wanted["type"] != "image" or wanted["model_state"] == "custom":
            return Response([])
        rows = selectors.model_stats()
        if "min_count" in wanted:
            rows = [row for row in rows if row["count"] >= wanted["min_count"]]
        if "max_count" in wanted:
            rows = [row for row in rows if row["count"] <= wanted["max_count"]]
        return Response(rows)


class WorkersApi(APIView):
    authentication_classes: list = []

    class InputSerializer(serializers.Serializer):
        type = serializers.ChoiceField(choices=["image", "text", "interrogation"], required=False, default="image")
        name = serializers.CharField(max_length=100, required=False, help_text="One worker, by name (any case)")

    @extend_schema(
        operation_id="workers_list",
        tags=["workers"],
        parameters=[InputSerializer],
        responses={200: WorkerDetailsSerializer(many=True), **error_responses(400)},
    )
    def get(self, request: Request) -> Response:
        query = self.InputSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        if query.validated_data["type"] != "image":  # Horde's workers all make images
            return Response([])
        workers = selectors.workers_list()
        if "name" in query.validated_data:
            workers = workers.filter(name__iexact=query.validated_data["name"])
        return Response([selectors.worker_details(worker=worker) for worker in workers])
