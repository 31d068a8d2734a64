"""The AI Horde v2 image styles API (DRF), read-only: staff make styles in the admin.

Public, no apikey; a style that is not public is found by its id or name only. A request
uses a style with `style` in the async body (generation.services.styles).
"""

from __future__ import annotations

import uuid

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from generation import selectors
from generation.models import Style
from horde_site.api_errors import not_found
from horde_site.api_schema import QueryIntegerField, error_responses

from .schema import StyleStableSerializer

MAX_PAGE = 10_000


class StylesImageApi(APIView):
    authentication_classes: list = []

    class InputSerializer(serializers.Serializer):
        sort = serializers.ChoiceField(
            choices=["popular", "age"], required=False, default="popular", help_text="Most used, or newest, first."
        )
        page = QueryIntegerField(
            min_value=1, max_value=MAX_PAGE, required=False, default=1, help_text="25 styles a page."
        )
        tag = serializers.CharField(max_length=50, required=False, help_text="Only styles with this tag.")
        model = serializers.CharField(max_length=100, required=False, help_text="Only styles using this model.")

    @extend_schema(
        operation_id="styles_image_list",
        tags=["styles"],
        summary="The public image styles, a page at a time",
        parameters=[InputSerializer],
        responses={200: StyleStableSerializer(many=True), **error_responses(400)},
    )
    def get(self, request: Request) -> Response:
        query = self.InputSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        wanted = query.validated_data
        styles = selectors.styles_page(
            sort=wanted["sort"], page=wanted["page"], tag=wanted.get("tag"), model=wanted.get("model")
        )
        return Response([selectors.style_details(style=style) for style in styles])


def _style_or_404(**lookup: object) -> Style:
    style = Style.objects.select_related("creator").filter(**lookup).first()
    if style is None:
        shown = str(next(iter(lookup.values())))[:100]
        raise not_found(f"Image style {shown!r} not found.", rc="ThingNotFound")
    return style


class StyleImageApi(APIView):
    authentication_classes: list = []

    @extend_schema(
        operation_id="style_image_details",
        tags=["styles"],
        summary="One image style, by id",
        responses={200: StyleStableSerializer, **error_responses(404, e404="No such style (ThingNotFound)")},
    )
    def get(self, request: Request, style_id: str) -> Response:
        try:
            pk = uuid.UUID(str(style_id))
        except ValueError:
            raise not_found(f"Image style {str(style_id)[:100]!r} not found.", rc="ThingNotFound") from None
        return Response(selectors.style_details(style=_style_or_404(pk=pk)))


class StyleImageByNameApi(APIView):
    authentication_classes: list = []

    @extend_schema(
        operation_id="style_image_by_name",
        tags=["styles"],
        summary="One image style, by name",
        responses={200: StyleStableSerializer, **error_responses(404, e404="No such style (ThingNotFound)")},
    )
    def get(self, request: Request, style_name: str) -> Response:
        return Response(selectors.style_details(style=_style_or_404(name=style_name)))
