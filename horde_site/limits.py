"""Rate limits per client, in the shared cache (Redis in production), before any view runs.

A rule names a route and a method and allows `limit` calls per `window` seconds to one
client: the `apikey` (hashed: the cache never holds a key), or the IP address for
anonymous calls (the anonymous key 0000000000 is shared by everyone, so it counts by IP).
The IP address is the connection's, or behind HORDE_BEHIND_PROXY the one our proxy wrote
into X-Forwarded-For: a client may send that header itself, so only the hops our own
proxies appended (the rightmost HORDE_PROXY_HOPS) are believed.
A fixed window per client: the first call creates the counter with the window as its
lifetime (`cache.add`), later ones increment it atomically (`cache.incr`), so concurrent
web processes count together. Past the limit: 429 `TooManyRequests` with Retry-After,
as the AI Horde answers; nothing else runs.

A pop is also counted per worker (the key and the worker name of its body, as the AI Horde
limits pops per worker): one key may run many workers, each polling, so the key's own rule
is a ceiling above the per-worker one. The pop view checks that rule (`worker_limit_check`)
once its body is read and valid; the middleware never parses bodies.

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

from horde_site.api_errors import HordeError, json_error

ANONYMOUS_KEY = "0000000000"
# The per-worker pop rule's name in HORDE_RATE_LIMITS: not a URL name, so the middleware
# never applies it; the pop view does.
POP_PER_WORKER = "generate-pop.worker"


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


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:32]


def client_ip(request: HttpRequest) -> str:
    """The address that really called: the connection's, or behind our proxies the hop the
    outermost of them appended to X-Forwarded-For (HORDE_PROXY_HOPS from the right). Hops to
    its left are whatever the client claimed, so they never count; a header shorter than the
    proxy chain did not pass through it, and the connection's address stands."""
    remote = request.META.get("REMOTE_ADDR", "")
    if not settings.HORDE_BEHIND_PROXY:
        return remote
    hops = [hop.strip() for hop in request.headers.get("X-Forwarded-For", "").split(",")]
    if len(hops) < settings.HORDE_PROXY_HOPS:
        return remote
    return hops[-settings.HORDE_PROXY_HOPS] or remote


def client_id(request: HttpRequest) -> str:
    key = request.headers.get("apikey", "")
    if key and key != ANONYMOUS_KEY:
        return "k:" + _digest(key)
    return "ip:" + client_ip(request)


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


def refusal_message(rule: Rule, wait: int) -> str:
    return f"Too many calls: at most {rule.limit} every {rule.window} s. Retry in {wait} s."


class TooManyRequests(HordeError):
    """429 from a view; the API's exception handler sends `wait` as Retry-After."""

    def __init__(self, rule: Rule, wait: int) -> None:
        super().__init__(429, "TooManyRequests", refusal_message(rule, wait))
        self.wait = wait


def worker_limit_check(*, request: HttpRequest, worker_name: str) -> None:
    """Count one pop of this worker (the caller's key and the worker's name); raise
    TooManyRequests past the per-worker rule. Call it before the pop changes anything."""
    rule = rules().get((POP_PER_WORKER, "POST"))
    if rule is None:
        return
    wait = limit_hit(rule=rule, client=f"{client_id(request)}:w:{_digest(worker_name)}")
    if wait is not None:
        raise TooManyRequests(rule, wait)


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
                    response = json_error(refusal_message(rule, wait), "TooManyRequests", 429)
                    response["Retry-After"] = str(wait)
                    return response
        return self.get_response(request)
