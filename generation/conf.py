"""Tunables of the generation queue, read from settings.

The values and their defaults live in one place, horde_site/settings.py (each read from
the environment there). Each is a function (not a module constant) so tests can override
settings.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings


def _get(name: str) -> Any:
    return getattr(settings, name)


def job_ttl_seconds() -> float:
    """How long a claimed job may run before housekeeping puts it back in the queue."""
    return float(_get("HORDE_JOB_TTL_SECONDS"))


def max_job_attempts() -> int:
    """Claims of one job (first run included) before its request is faulted."""
    return int(_get("HORDE_MAX_JOB_ATTEMPTS"))


def redispatch_after_seconds() -> float:
    """A queued job whose message is older than this gets a fresh Celery message."""
    return float(_get("HORDE_REDISPATCH_AFTER_SECONDS"))


def aging_per_second() -> float:
    """Priority (in kudos) a waiting job gains per second, so nobody starves."""
    return float(_get("HORDE_PRIORITY_AGING_PER_SECOND"))


def anonymous_priority() -> float:
    """The kudos-equivalent priority of an anonymous request: far below any registered one."""
    return float(_get("HORDE_ANONYMOUS_PRIORITY"))


def debt_priority() -> float:
    """The kudos-equivalent priority of a registered requester just below zero kudos: far
    below anyone not in debt, above anonymous requests (see job_priority)."""
    return float(_get("HORDE_DEBT_PRIORITY"))


def celery_dispatch() -> bool:
    """Send one Celery task per job after submission (off: HTTP workers only)."""
    return bool(_get("HORDE_CELERY_DISPATCH"))


def worker_stale_seconds() -> float:
    """A worker not seen for this long no longer counts as online."""
    return float(_get("HORDE_WORKER_STALE_SECONDS"))


def max_image_bytes() -> int:
    return int(_get("HORDE_MAX_IMAGE_BYTES"))


def max_prompt_chars() -> int:
    return int(_get("HORDE_MAX_PROMPT_CHARS"))


def max_n() -> int:
    return int(_get("HORDE_MAX_N"))


def max_waiting_requests() -> int:
    """Requests one registered user may have waiting or running at once."""
    return int(_get("HORDE_MAX_WAITING_REQUESTS"))
