"""The AI Horde v2 read-only status API (DRF): heartbeat, models, workers. Public: no apikey."""

from __future__ import annotations

import uuid

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from generation import selectors
from generation.models import Worker
from horde_site.api_errors import not_found
from horde_site.api_schema import error_responses

from .schema import ActiveModelSerializer, HeartbeatSerializer, WorkerDetailsSerializer


class HeartbeatApi(APIView):
    authentication_classes: list = []

    @extend_schema(operation_id="status_heartbeat", tags=["status"], responses={200: HeartbeatSerializer})
    def get(self, request: Request) -> Response:
        return Response({"message": "OK", "version": "2.0.0"})


class ModelsStatusApi(APIView):
    authentication_classes: list = []

    @extend_schema(operation_id="status_models", tags=["status"], responses={200: ActiveModelSerializer(many=True)})
    def get(self, request: Request) -> Response:
        return Response(selectors.model_stats())


class WorkersApi(APIView):
    authentication_classes: list = []

    @extend_schema(operation_id="workers_list", tags=["workers"], responses={200: WorkerDetailsSerializer(many=True)})
    def get(self, request: Request) -> Response:
        return Response([selectors.worker_details(worker=worker) for worker in selectors.workers_list()])


class WorkerApi(APIView):
    authentication_classes: list = []

    @extend_schema(
        operation_id="worker_details",
        tags=["workers"],
        responses={200: WorkerDetailsSerializer, **error_responses(404, e404="No such worker (WorkerNotFound)")},
    )
    def get(self, request: Request, worker_id: str) -> Response:
        try:
            pk = uuid.UUID(str(worker_id))
        except ValueError:
            pk = None
        worker = Worker.objects.select_related("owner").filter(pk=pk).first() if pk else None
        if worker is None:
            raise not_found("Worker not found.", rc="WorkerNotFound")
        return Response(selectors.worker_details(worker=worker))
