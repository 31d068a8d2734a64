"""Pieces every app's OpenAPI description shares: the error body and strict JSON fields.

The error body is the one `horde_site.api_errors` writes (`{"message", "rc"}`, plus
`errors` on validation failures); `error_responses(400, 401)` documents those statuses
of an operation with it. The strict fields take only the JSON type they document: DRF's
own fields coerce ("5" is an integer, 1 is a string, "yes" is true), which would make the
schema say less than the code refuses.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from horde_site.api_input import is_ascii_number

ERROR_MEANINGS = {
    400: "Invalid input (validation failures list the fields in `errors`) or a refused action",
    401: "The apikey header is missing or matches no user (InvalidAPIKey)",
    403: "The key's user may not do this",
    404: "Not found",
    409: "Conflicts with the current state",
    413: "The request body is too large",
    415: "The body is not JSON",
    429: "Too many requests",
}


class ErrorSerializer(serializers.Serializer):
    message = serializers.CharField()
    rc = serializers.CharField(help_text="The AI Horde's return code name, e.g. InvalidAPIKey.")
    errors = serializers.DictField(
        child=serializers.CharField(),
        required=False,
        help_text="Only on validation failures: the offending field (dotted path) and what is wrong with it.",
    )


def error_responses(*codes: int, **meanings: str) -> dict[int, OpenApiResponse]:
    """`{code: OpenApiResponse(ErrorSerializer)}` for each status; `meanings` (`e404="..."`)
    replace the generic description of a status with what it means for this operation."""
    return {
        code: OpenApiResponse(ErrorSerializer, description=meanings.get(f"e{code}", ERROR_MEANINGS[code]))
        for code in codes
    }


class StrictCharField(serializers.CharField):
    """A JSON string only (DRF's CharField also takes numbers and turns them into text)."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    """A JSON number that is a whole number: refuses "5", 5.5 and true."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class QueryIntegerField(serializers.IntegerField):
    """A whole number in a query string: ASCII digits only (DRF's IntegerField reads "٣" as 3)."""

    def to_internal_value(self, data: Any) -> int:
        text = data.strip() if isinstance(data, str) else ""
        digits = text[1:] if text.startswith("-") else text
        if not is_ascii_number(digits):
            self.fail("invalid")
        if len(digits) > 18:
            self.fail("max_string_length")
        return super().to_internal_value(text)


class StrictFloatField(serializers.FloatField):
    """A JSON number (whole or not): refuses "5" and true."""

    def to_internal_value(self, data: Any) -> float:
        if isinstance(data, bool) or not isinstance(data, (int, float)):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """JSON true or false only (DRF's BooleanField also takes "yes", 1 and "on")."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid")
        return data
