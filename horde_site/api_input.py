"""Text Horde can store: every string in an API or page input is checked once, at the edge.

PostgreSQL cannot store a NUL character, a lone surrogate cannot be encoded as UTF-8,
and non-ASCII digits ("²", "٣") pass `str.isdigit()` but not `int()`: each of them used
to reach the database or an `int()` call and crash with a 500. The JSON parser walks
every body (keys and values), the middleware checks every path, query string and page
form, and `is_ascii_number` is the one digit test the code uses.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# A body nested deeper than this is not an AI Horde payload (and deep recursion would
# exhaust the interpreter's stack).
MAX_DEPTH = 32


def text_problem(value: str) -> str | None:
    """Why this string cannot be taken as text, or None when it can."""
    if "\x00" in value:
        return "contains a NUL character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "contains a lone surrogate (not valid Unicode text)"
    return None


def header_text(value: str, max_length: int) -> str:
    """A free-text header (Client-Agent) as text a database stores: NUL bytes, lone surrogates
    and other control characters dropped, cut to `max_length`. It only labels a request, so
    a bad character costs the client nothing more than that character."""
    kept = (char for char in value if char.isprintable() and not 0xD800 <= ord(char) <= 0xDFFF)
    return "".join(kept)[:max_length]


def is_ascii_number(text: str) -> bool:
    """A non-empty run of ASCII digits 0-9 (what `int()` of a plain number takes)."""
    return text.isascii() and text.isdigit()


def form_number(text: str) -> int | str:
    """A page form's text as the JSON value an API body would carry: a whole number when it
    is one (an optional minus sign and up to 18 ASCII digits), else the text, for the API's
    serializer or service to refuse as it refuses a string in JSON."""
    digits = text.removeprefix("-")
    return int(text) if is_ascii_number(digits) and len(digits) <= 18 else text


def json_text_problem(data: Any, path: str = "body", depth: int = 0) -> str | None:
    """A message naming the first string of `data` (key or value) that is no text, else None."""
    if depth > MAX_DEPTH:
        return f"{path} is nested more than {MAX_DEPTH} levels deep."
    if isinstance(data, str):
        problem = text_problem(data)
        return f"{path} {problem}." if problem else None
    items: Any = ()
    if isinstance(data, dict):
        for key in data:
            problem = text_problem(str(key))
            if problem:
                return f"A key of {path} {problem}."
        items = ((f"{path}.{key}", value) for key, value in data.items())
    elif isinstance(data, list):
        items = ((f"{path}[{index}]", item) for index, item in enumerate(data))
    for where, value in items:
        found = json_text_problem(value, where, depth + 1)
        if found:
            return found
    return None


class TextJSONParser(JSONParser):
    """DRF's JSON parser, refusing bodies that hold strings no database or encoder takes."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(f"JSON parse error - nested more than {MAX_DEPTH} levels deep.") from None
        problem = json_text_problem(data)
        if problem:
            raise ParseError(problem)
        return data


def _query_problem(request: HttpRequest) -> str | None:
    for key, values in request.GET.lists():
        for text in (key, *values):
            problem = text_problem(text)
            if problem:
                return f"The query parameter {key[:50]!r} {problem}."
    return None


def _form_problem(request: HttpRequest) -> str | None:
    """The first posted form field (name, value or uploaded file name) that is no text.

    Only a page's form body: API bodies are JSON, which TextJSONParser checks, and reading
    `request.POST` there would parse a body DRF has not been asked to read."""
    if request.method != "POST":
        return None
    for key, values in request.POST.lists():
        for text in (key, *values):
            problem = text_problem(text)
            if problem:
                return f"The form field {key[:50]!r} {problem}."
    for key, files in request.FILES.lists():
        for upload in files:
            problem = text_problem(key) or text_problem(upload.name or "")
            if problem:
                return f"The uploaded file {key[:50]!r} {problem}."
    return None


class TextInputMiddleware:
    """Every path, query string and page form is text, checked before any view runs.

    A path that is no text names nothing (404); a query string or form field that is no text
    is refused (400), as the API's JSON error under /api/ and as the 400 page elsewhere, so no
    view (or ORM filter on PostgreSQL) ever sees a NUL or a lone surrogate.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from horde_site.api_errors import NOT_FOUND_RC, handler404, is_api_path, json_error

        api = is_api_path(request)
        if text_problem(request.path):
            return json_error("Not found.", NOT_FOUND_RC, 404) if api else handler404(request)
        problem = _query_problem(request) or (None if api else _form_problem(request))
        if problem is None:
            return self.get_response(request)
        if api:
            return json_error(problem, "BadRequest", 400)
        from django.shortcuts import render

        # Before the session and auth middleware: the page renders as for a visitor.
        return render(request, "400.html", {"problem": problem}, status=400)
