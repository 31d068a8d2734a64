"""AI Horde documents: GET /api/v2/documents/terms and /api/v2/documents/privacy (HordeDocument)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from horde_site.api_schema import error_responses

from .models import Document
from .selectors import document_html, document_markdown

HordeDocumentSerializer = inline_serializer(
    "HordeDocument",
    {
        "html": serializers.CharField(required=False, help_text="The document in HTML (format=html)."),
        "markdown": serializers.CharField(required=False, help_text="The document in Markdown (format=markdown)."),
    },
)


class DocumentQuerySerializer(serializers.Serializer):
    format = serializers.ChoiceField(choices=["html", "markdown"], required=False, default="html")


class JsonOnly(DefaultContentNegotiation):
    """Always JSON. DRF would read `?format=` as the renderer to use (and answer 404 for
    `markdown`); here it is the AI Horde's document format, read by the view."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class DocumentApi(APIView):
    authentication_classes: list = []
    content_negotiation_class = JsonOnly
    kind: Document.Kind

    def get(self, request: Request) -> Response:
        query = DocumentQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        if query.validated_data["format"] == "markdown":
            return Response({"markdown": document_markdown(kind=self.kind)})
        return Response({"html": document_html(kind=self.kind)})


def _documented(operation_id: str, summary: str):
    return extend_schema(
        operation_id=operation_id,
        summary=summary,
        parameters=[DocumentQuerySerializer],
        responses={200: HordeDocumentSerializer, **error_responses(400, e400="format is neither html nor markdown")},
        tags=["documents"],
    )


class TermsApi(DocumentApi):
    kind = Document.Kind.TERMS

    @_documented("documents_terms", "Terms of service")
    def get(self, request: Request) -> Response:
        return super().get(request)


class PrivacyApi(DocumentApi):
    kind = Document.Kind.PRIVACY

    @_documented("documents_privacy", "Privacy policy")
    def get(self, request: Request) -> Response:
        return super().get(request)
