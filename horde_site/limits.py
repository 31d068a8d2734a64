"""Rate limits per client, in the shared cache (Redis in production), before any view runs.

A rule names a route and a method and allows `limit` calls per `window` seconds to one
client: the `apikey` (hashed: the cache never holds a key), or the IP address for
anonymous calls (the anonymous key 0000000000 is shared by everyone, so it counts by IP).
A fixed window per client: the first call creates the counter with the window as its
lifetime (`cache.add`), later ones increment it atomically (`cache.incr`), so concurrent
web processes count together. Past the limit: 429 `TooManyRequests` with Retry-After,
as the AI Horde answers; nothing else runs.

Limits that need the user or the database (waiting requests per user, the arena's vote
throttle, the transfer rules) live in their services; this is the cheap first line.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve

ANONYMOUS_KEY = "0000000000"


@dataclass(frozen=True)
class Rule:
    route: str  # URL name
    method: str
    limit: int
    window: int  # seconds


def rules() -> dict[tuple[str, str], Rule]:
    """The rules from settings (HORDE_RATE_LIMITS: route name -> "METHOD count/seconds")."""
    out = {}
    for route, spec in settings.HORDE_RATE_LIMITS.items():
        method, _, rate = spec.partition(" ")
        count, _, seconds = rate.partition("/")
        out[(route, method.upper())] = Rule(route, method.upper(), int(count), int(seconds))
    return out


def client_id(request: HttpRequest) -> str:
    key = request.headers.get("apikey", "")
    if key and key != ANONYMOUS_KEY:
        return "k:" + hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()[:32]
    address = request.META.get("REMOTE_ADDR", "")
    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None):  # behind our proxy: its first hop is the client
        forwarded = request.headers.get("X-Forwarded-For", "")
        address = forwarded.split(",")[0].strip() or address
    return "ip:" + address


def limit_hit(*, rule: Rule, client: str, now: float | None = None) -> int | None:
    """Count one call; None while under the limit, else the seconds until the window ends."""
    now = time.time() if now is None else now
    window_start = int(now // rule.window) * rule.window
    key = f"rate:{rule.route}:{rule.method}:{client}:{window_start}"
    if cache.add(key, 1, rule.window + 1):
        count = 1
    else:
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr: this call starts the window again
            cache.add(key, 1, rule.window + 1)
            count = 1
    if count > rule.limit:
        return max(1, int(window_start + rule.window - now))
    return None


class RateLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/api/") and request.method != "OPTIONS":
            try:
                route = resolve(request.path_info).url_name or ""
            except Resolver404:
                route = ""
            rule = rules().get((route, request.method or ""))
            if rule is not None:
                wait = limit_hit(rule=rule, client=client_id(request))
                if wait is not None:
                    from horde_site.api_errors import json_error

                    response = json_error(
                        f"Too many calls: at most {rule.limit} every {rule.window} s. Retry in {wait} s.",
                        "TooManyRequests",
                        429,
                    )
                    response["Retry-After"] = str(wait)
                    return response
        return self.get_response(request)
