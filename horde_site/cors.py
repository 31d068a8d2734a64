"""CORS as the AI Horde sends it, so browser clients (ArtBot and friends) can call the API.

Any origin may call `/api/` and fetch `/media/` images: the API is authenticated by the
`apikey` header, never by cookies, so allowing every origin exposes nothing a script
could not already do with the key it holds (no credentials mode). A preflight is
answered here, before any view, with the methods the route really takes.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve

PREFIXES = ("/api/", "/media/")
# What AI Horde clients send: the key, their Client-Agent, JSON bodies.
ALLOWED_HEADERS = "apikey, Client-Agent, Content-Type, Accept, X-Fields"
PREFLIGHT_MAX_AGE = 86_400


def route_methods(path: str) -> list[str] | None:
    """The HTTP methods the view behind `path` answers (None: no such route)."""
    try:
        match = resolve(path)
    except Resolver404:
        return None
    view_class = getattr(match.func, "cls", None) or getattr(match.func, "view_class", None)
    if view_class is None:  # a plain function view, such as the media files
        return ["GET", "HEAD"]
    methods = [name.upper() for name in view_class.http_method_names if name != "options" and hasattr(view_class, name)]
    if "GET" in methods and "HEAD" not in methods:
        methods.append("HEAD")
    return methods


class CorsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(PREFIXES):
            return self.get_response(request)
        if request.method == "OPTIONS" and "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in request.META:
            methods = route_methods(request.path_info)
            if methods is None:
                response = HttpResponse(status=404)
            else:
                response = HttpResponse(status=200)
                response["Access-Control-Allow-Methods"] = ", ".join([*methods, "OPTIONS"])
                response["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
                response["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE)
        else:
            response = self.get_response(request)
        response["Access-Control-Allow-Origin"] = "*"
        return response
