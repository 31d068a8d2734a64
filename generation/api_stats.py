"""The AI Horde v2 statistics API (DRF): status/performance, stats/img/models and /totals.

Public, no apikey. Finished work is read from the counters (generation.stats), never
counted over the jobs.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from generation import stats
from horde_site.api_schema import error_responses

from .schema import HordePerformanceSerializer, ImgModelStatsSerializer, StatsImgTotalsSerializer


class PerformanceApi(APIView):
    authentication_classes: list = []

    @extend_schema(
        operation_id="status_performance",
        tags=["status"],
        summary="The horde's load: the queue, the workers online, the past minute's throughput",
        responses={200: HordePerformanceSerializer},
    )
    def get(self, request: Request) -> Response:
        return Response(stats.horde_performance())


class StatsImgModelsApi(APIView):
    authentication_classes: list = []

    class InputSerializer(serializers.Serializer):
        """As the AI Horde: `known` models (all of Horde's are staff-defined), `custom` (none here) or `all`."""

        model_state = serializers.ChoiceField(choices=["known", "custom", "all"], required=False, default="all")

    @extend_schema(
        operation_id="stats_img_models",
        tags=["stats"],
        summary="Images finished per model: the last day, month and all time",
        parameters=[InputSerializer],
        responses={200: ImgModelStatsSerializer, **error_responses(400)},
    )
    def get(self, request: Request) -> Response:
        query = self.InputSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        if query.validated_data["model_state"] == "custom":
            return Response({"day": {}, "month": {}, "total": {}})
        return Response(stats.image_model_stats())


class StatsImgTotalsApi(APIView):
    authentication_classes: list = []

    @extend_schema(
        operation_id="stats_img_totals",
        tags=["stats"],
        summary="Images and pixel-steps finished: the past minute, hour, day, month and all time",
        responses={200: StatsImgTotalsSerializer},
    )
    def get(self, request: Request) -> Response:
        return Response(stats.image_totals())
