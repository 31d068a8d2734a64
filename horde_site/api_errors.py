"""Every error under /api/ is JSON: {"message": ..., "rc": ...}, as on the AI Horde.

Views raise `HordeError(status, rc, message)`; DRF's own exceptions (parse
errors, validation errors, auth failures, 404s) and Django's 404/500 handlers
are translated to the same shape here, so clients always see one format.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class HordeError(exceptions.APIException):
    """An API error with the AI Horde's return-code name."""

    def __init__(self, status_code: int, rc: str, message: str, errors: dict[str, Any] | None = None) -> None:
        super().__init__(detail=message)
        self.status_code = status_code
        self.rc = rc
        self.message = message
        self.errors = errors


def bad_request(message: str, rc: str = "BadRequest", errors: dict[str, Any] | None = None) -> HordeError:
    return HordeError(status.HTTP_400_BAD_REQUEST, rc, message, errors)


def forbidden(message: str, rc: str = "Forbidden") -> HordeError:
    return HordeError(status.HTTP_403_FORBIDDEN, rc, message)


# The AI Horde answers an unknown route with Flask's plain 404 (no rc) and names a missing
# thing of no more specific kind ThingNotFound; a wrong method is a refused request there
# (horde-sdk's RC has no NotFound nor MethodNotAllowed, so clients see names they know).
NOT_FOUND_RC = "ThingNotFound"
METHOD_NOT_ALLOWED_RC = "BadRequest"


def not_found(message: str, rc: str = NOT_FOUND_RC) -> HordeError:
    return HordeError(status.HTTP_404_NOT_FOUND, rc, message)


def _flatten(detail: Any, prefix: str = "") -> dict[str, str]:
    """Turn DRF's nested validation detail into {"field.sub": "first message"}."""
    out: dict[str, str] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if key == "non_field_errors":
                name = prefix or "body"
            out.update(_flatten(value, name))
    elif isinstance(detail, list):
        if detail and all(not isinstance(item, (dict, list)) for item in detail):
            out[prefix or "body"] = str(detail[0])
        else:
            for index, item in enumerate(detail):
                out.update(_flatten(item, f"{prefix}[{index}]" if prefix else f"[{index}]"))
    else:
        out[prefix or "body"] = str(detail)
    return out


def _body(message: str, rc: str, errors: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"message": message, "rc": rc}
    if errors:
        body["errors"] = errors
    return body


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, HordeError):
        response = Response(_body(exc.message, exc.rc, exc.errors), status=exc.status_code)
        wait = getattr(exc, "wait", None)  # a rate limit's refusal says when to come back
        if wait:
            response["Retry-After"] = str(wait)
        return response
    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten(exc.detail)
        first_field, first_message = next(iter(errors.items()), ("body", "Invalid input."))
        message = f"Input payload validation failed: {first_field}: {first_message}"
        return Response(_body(message, "BadRequest", errors), status=400)
    if isinstance(exc, RequestDataTooBig):
        return Response(_body("Request body too large.", "BadRequest"), status=413)
    if isinstance(exc, exceptions.ParseError):
        return Response(_body(f"Malformed request body: {exc.detail}", "BadRequest"), status=400)
    if isinstance(exc, exceptions.UnsupportedMediaType):
        return Response(_body(str(exc.detail), "BadRequest"), status=415)
    if isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
        return Response(_body(str(exc.detail), "InvalidAPIKey"), status=401)
    if isinstance(exc, exceptions.PermissionDenied):
        return Response(_body(str(exc.detail), "Forbidden"), status=403)
    if isinstance(exc, (Http404, exceptions.NotFound)):
        return Response(_body("Not found.", NOT_FOUND_RC), status=404)
    if isinstance(exc, exceptions.MethodNotAllowed):
        return Response(_body(str(exc.detail), METHOD_NOT_ALLOWED_RC), status=405)
    if isinstance(exc, exceptions.Throttled):
        return Response(_body(str(exc.detail), "TooManyRequests"), status=429)
    response = drf_exception_handler(exc, context)
    if response is not None:
        response.data = _body(str(getattr(exc, "detail", exc)), "BadRequest")
    return response


def is_api_path(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def json_error(message: str, rc: str, status_code: int) -> JsonResponse:
    return JsonResponse(_body(message, rc), status=status_code)


def handler404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if is_api_path(request):
        return json_error("Not found.", NOT_FOUND_RC, 404)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def handler500(request: HttpRequest) -> HttpResponse:
    if is_api_path(request):
        return json_error("The server hit an internal error.", "InternalServerError", 500)
    from django.views.defaults import server_error

    return server_error(request)


def handler400(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if is_api_path(request):
        return json_error("Bad request.", "BadRequest", 400)
    from django.views.defaults import bad_request as page_bad_request

    return page_bad_request(request, exception)
