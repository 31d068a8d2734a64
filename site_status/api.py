"""The AI Horde v2 site status API (DRF): status/news and status/modes. Public, no apikey.

Staff write news and switch modes in the admin; the AI Horde's PUT of the modes (admins
by apikey) is not offered.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .selectors import modes_current, news_published


class NewspieceSerializer(serializers.Serializer):
    """As the AI Horde's Newspiece."""

    date_published = serializers.CharField(help_text="YYYY-MM-DD")
    newspiece = serializers.CharField()
    importance = serializers.ChoiceField(choices=["Information", "Workers", "Crisis"])
    tags = serializers.ListField(child=serializers.CharField())
    title = serializers.CharField()
    more_info_urls = serializers.ListField(child=serializers.CharField())


class HordeModesSerializer(serializers.Serializer):
    """As the AI Horde's HordeModes (raid mode, shown there to moderators only, is not kept here)."""

    maintenance_mode = serializers.BooleanField(help_text="New image requests are refused (MaintenanceMode).")
    invite_only_mode = serializers.BooleanField(
        help_text="New workers only within the workers staff invited their owner to run (WorkerInviteOnly)."
    )


class NewsApi(APIView):
    authentication_classes: list = []

    @extend_schema(
        operation_id="status_news",
        tags=["status"],
        summary="The news staff published, newest first",
        responses={200: NewspieceSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        return Response(news_published())


class ModesApi(APIView):
    authentication_classes: list = []

    @extend_schema(
        operation_id="status_modes",
        tags=["status"],
        summary="Whether the horde is in maintenance or worker invite-only mode",
        responses={200: HordeModesSerializer},
    )
    def get(self, request: Request) -> Response:
        modes = modes_current()
        return Response({"maintenance_mode": modes.maintenance, "invite_only_mode": modes.invite_only})
