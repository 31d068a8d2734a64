"""One id per HTTP request (and per Celery task) in every log line it causes; JSON log lines
in production.

The id comes from the proxy's `X-Request-ID` when it sends a sane one (so a line can be
followed from the load balancer to here), else a fresh one; it is sent back in the answer
and attached to every log record made while the request runs (a context variable, so
threads of other requests keep theirs).
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from django.http import HttpRequest, HttpResponse

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
SANE_ID = re.compile(r"^[A-Za-z0-9._-]{1,100}$")


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        sent = request.headers.get("X-Request-ID", "")
        token = request_id.set(sent if SANE_ID.match(sent) else uuid.uuid4().hex)
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request_id.get()
            return response
        finally:
            request_id.reset(token)


class RequestIdFilter(logging.Filter):
    """Puts the current request's id on each record (empty outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class TaskIdFilter(logging.Filter):
    """Puts the id of the Celery task being run on each record (empty outside a task). Celery's
    own "received" and "succeeded" lines name their task in `data` instead: that id is used."""

    def filter(self, record: logging.LogRecord) -> bool:
        from celery import current_task

        task_id = getattr(getattr(current_task, "request", None), "id", None)
        data = getattr(record, "data", None)
        if not task_id and isinstance(data, dict):
            task_id = data.get("id")
        record.task_id = task_id or ""
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: what log collectors parse without rules of their own."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", ""),
            "task_id": getattr(record, "task_id", ""),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)
