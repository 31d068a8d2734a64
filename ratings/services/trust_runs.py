"""The periodic all-raters trust recompute (a housekeeping beat task) and its record of runs.

A full run recomputes every rater (ratings.services.trust_batch, set-based). An incremental run
recomputes only the raters whose figures can have changed since the previous run read the data
(trust_batch's `_CHANGED` and the registered `trust_changed_sources`: new and undone votes and
everyone on those pairs, new single-image ratings and everyone on those images, everyone beside
a rater who joined or left the crowd, accounts that stopped being young) and leaves the others'
figures as they are: they would come out the same (tests/ratings/test_trust_incremental.py
compares an incremental run with a full one on the same data).

Everyone is recomputed when there is no earlier run, when what the figures depend on besides
the votes changed (a digest of the check items' definitions and the settings is stored with
each run), when the clock went back, and when the latest full run is older than
RATINGS_TRUST_FULL_RECOMPUTE_HOURS (a safety net for writes that bypass the services, such as
an operator editing rows by hand).

Votes are stamped when their transaction runs, so one still open while a run reads the data
is committed with an earlier time than the run's: the next run looks back
RATINGS_TRUST_RECOMPUTE_OVERLAP_SECONDS further than the previous run's start.

One run at a time: a transaction-level advisory lock, so overlapping beats run one after the
other. PostgreSQL only (the SQLite development default recomputes everyone, one by one).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Callable

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from ..models import TrustRecompute
from . import trust
from .trust_batch import rater_trust_recompute_all_batched

LOCK_KEY = 0x7472_7573_7421  # any fixed number: the all-raters recompute's advisory lock

# Apps above ratings register a function returning a digest of what their figures depend on
# besides the ratings themselves (e.g. aesthetics: its control answers and divergence setting).
trust_check_digests: list[Callable[[], str]] = []
# ... and one that says whether the parts they store were lost (see _parts_lost).
trust_parts_lost_checks: list[Callable[[], bool]] = []

_SETTINGS = [
    "RATINGS_TRUST_THRESHOLD",
    "RATINGS_TRUST_MIN_GOLD",
    "RATINGS_TRUST_MIN_CONSENSUS",
    "RATINGS_CONSENSUS_MIN_OTHERS",
    "RATINGS_TRUST_MAX_VOTES_PER_MINUTE",
    "RATINGS_TRUST_YOUNG_ACCOUNT_DAYS",
    "RATINGS_TRUST_YOUNG_ACCOUNT_FACTOR",
    "RATINGS_CALIBRATION_CHECKS",
    "RATINGS_CALIBRATION_AGREEMENT",
    "RATINGS_CALIBRATION_PAIRS",
    "RATINGS_FLAG_ALPHA",
    "RATINGS_FLAG_MIN_SIDED",
]

_CHECK_ITEMS = """
SELECT (SELECT COALESCE(md5(string_agg(request_id::text || ':' || expected_choice || ':' || active::text, ','
                                       ORDER BY request_id)), '') FROM ratings_goldpair),
       (SELECT COALESCE(md5(string_agg(image_id::text || ':' || expected_aesthetic::text || ':' || active::text, ','
                                       ORDER BY image_id)), '') FROM ratings_controlimage)
"""


def checks_digest() -> str:
    """A digest of everything besides the votes and ratings that the figures depend on."""
    with connection.cursor() as cursor:
        cursor.execute(_CHECK_ITEMS)
        parts = list(cursor.fetchone())
    parts += [digest() for digest in trust_check_digests]
    parts += [f"{name}={getattr(settings, name)!r}" for name in _SETTINGS]
    parts += [f"recent={trust.RECENT_VOTES}", f"timed={trust.TIMED_VOTES}"]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def _parts_lost() -> bool:
    """The stored per-vote parts (and those of the registered sources) are an UNLOGGED cache: a
    crash, or a failover to a replica, empties them, while a full run always leaves parts behind
    where there are votes. Empty parts beside live votes: rebuild everything."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM ratings_vote WHERE retracted_at IS NULL)"
            "   AND NOT EXISTS (SELECT 1 FROM ratings_trustvotefigures)"
        )
        lost = cursor.fetchone()[0]
    return lost or any(check() for check in trust_parts_lost_checks)


def trust_recompute(*, now: dt.datetime | None = None, full: bool = False) -> TrustRecompute:
    """Recompute rater trust: everyone when `full` or when an incremental run cannot be trusted
    to see every change (see the module docstring), else the raters whose figures can have
    changed since the previous run. Returns the run's record."""
    now = now or timezone.now()
    clock = time.perf_counter()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
        digest = checks_digest()
        last = TrustRecompute.objects.order_by("-started_at").first()
        last_full = TrustRecompute.objects.filter(full=True).order_by("-started_at").first()
        full = (
            full
            or last is None
            or _parts_lost()
            or last_full is None
            or last.checks_digest != digest
            or now < last.started_at
            or now - last_full.started_at >= dt.timedelta(hours=settings.RATINGS_TRUST_FULL_RECOMPUTE_HOURS)
        )
        overlap = dt.timedelta(seconds=settings.RATINGS_TRUST_RECOMPUTE_OVERLAP_SECONDS)
        since = None if full else last.started_at - overlap
        # (An incremental run that would redo most parts runs as a full one: trust_batch.FULL_SHARE.)
        raters, full = rater_trust_recompute_all_batched(now=now, since=since)
        return TrustRecompute.objects.create(
            started_at=now,
            finished_at=timezone.now(),
            full=full,
            raters=raters,
            seconds=round(time.perf_counter() - clock, 3),
            checks_digest=digest,
        )
