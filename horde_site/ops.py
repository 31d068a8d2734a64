"""Operations endpoints: `/healthz` for load balancers, `/metrics` for Prometheus.

Every figure on /metrics is read from PostgreSQL when it is scraped, so it is the same
whichever gunicorn process answers (in-process counters would each count a share).
Apps add their figures with `metrics_register` from their AppConfig.ready(): the queue
(generation), votes (ratings), the ledger (kudos). /metrics answers only with the bearer
token of HORDE_METRICS_TOKEN (a 404 while that is unset: queue sizes and the economy are
not for everyone).
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Callable, Iterable

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)
_sources: list[Callable[[], Iterable[Metric]]] = []


def metrics_register(source: Callable[[], Iterable[Metric]]) -> None:
    """Add a function that yields metric families, read at every scrape."""
    if source not in _sources:
        _sources.append(source)


class _DatabaseCollector(Collector):
    def collect(self) -> Iterable[Metric]:
        started = time.monotonic()
        for source in _sources:
            yield from source()
        took = GaugeMetricFamily("horde_metrics_collect_seconds", "Time spent reading the figures of this scrape.")
        took.add_metric([], time.monotonic() - started)
        yield took


def _check(name: str, probe: Callable[[], object]) -> tuple[str, bool]:
    try:
        probe()
    except Exception:  # any failure means "not ready"; the log says which
        logger.exception("health check %s failed", name)
        return name, False
    return name, True


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _broker() -> None:
    from horde_site.celery import app

    # One short connection: a load balancer asks every few seconds, so no retries here.
    with app.connection_for_read() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)


def _cache() -> None:
    cache.set("horde:health", "ok", 10)
    if cache.get("horde:health") != "ok":
        raise RuntimeError("the cache did not keep a value")


@never_cache
def health(request: HttpRequest) -> JsonResponse:
    """200 when this process can serve (database, cache and broker answer), else 503: what
    a load balancer needs to take a web process out of rotation."""
    probes = (("database", _database), ("cache", _cache), ("broker", _broker))
    checks = dict(_check(name, probe) for name, probe in probes)
    healthy = all(checks.values())
    body = {"status": "ok" if healthy else "unavailable", **{k: "ok" if v else "down" for k, v in checks.items()}}
    return JsonResponse(body, status=200 if healthy else 503)


@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    token = getattr(settings, "HORDE_METRICS_TOKEN", "")
    if not token:
        raise Http404("metrics are off")
    sent = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(sent.encode(), token.encode()):
        return HttpResponse("A bearer token is required.", status=401, content_type="text/plain")
    registry = CollectorRegistry()
    registry.register(_DatabaseCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
