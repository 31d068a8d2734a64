"""Moderation API: reporting an image (Horde's own extension of the v2 API).

POST /api/v2/images/{image_id}/report with {"reason": ..., "note": ...}: 201 the first
time, 200 with the same report when this user already reported that image (nothing is
added). Only images the user can see are reportable; any other id is 404, so the endpoint
tells nobody that a private or hidden image exists. The page's report dialog calls it with
the browser session (CSRF checked); clients with the apikey header.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.apikey_auth import ApiKeyAuthentication, require_user
from horde_site.api_errors import not_found
from horde_site.api_schema import StrictCharField, error_responses

from .models import NOTE_MAX_LENGTH, Report
from .reports import report_create
from .schema import ImageReportedSerializer
from .selectors import reportable_image


class ImageReportApi(APIView):
    authentication_classes = [ApiKeyAuthentication, SessionAuthentication]

    @extend_schema_serializer(component_name="ImageReport")
    class InputSerializer(serializers.Serializer):
        reason = serializers.ChoiceField(choices=Report.Reason.values, help_text="Why the image should come down.")
        note = StrictCharField(max_length=NOTE_MAX_LENGTH, required=False, allow_blank=True, default="")

    @extend_schema(
        operation_id="image_report",
        tags=["moderation"],
        request=InputSerializer,
        responses={
            201: ImageReportedSerializer,
            200: ImageReportedSerializer,
            **error_responses(
                400,
                401,
                403,
                404,
                415,
                e400="Invalid body (BadRequest)",
                e403="Anonymous (AnonForbidden), or a browser session without its CSRF token (Forbidden)",
                e404="No such image that you can see (ImageNotFound)",
            ),
        },
        summary="Report an image to the moderators (once per user and image)",
    )
    def post(self, request: Request, image_id: str) -> Response:
        user = require_user(request, allow_anonymous=False)
        image = reportable_image(image_id=image_id, user=user)
        if image is None:
            raise not_found(f"Image with ID '{image_id}' not found.", rc="ImageNotFound")
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        report, created = report_create(image=image, reporter=user, **body.validated_data)
        message = (
            "Report received: thank you, a moderator will look at it."
            if created
            else ("You already reported this image: nothing was added.")
        )
        return Response({"id": report.pk, "created": created, "message": message}, status=201 if created else 200)
