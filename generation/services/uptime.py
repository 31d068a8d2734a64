"""Uptime rewards: a worker online and taking work earns kudos for every interval of
uptime (10 minutes, as on the AI Horde), through the ledger.

Housekeeping (Celery beat, every minute) calls `workers_uptime_reward`:
- A worker counts as up when it was seen within HORDE_WORKER_STALE_SECONDS, is not
  in maintenance nor paused nor retired, serves at least one model, is not owned by the
  anonymous user, and its last HORDE_UPTIME_MAX_FAULT_STREAK claims did not all fail.
- `uptime_since` marks the start of its current unbroken stretch up; a run that finds
  it down clears it, so the next stretch starts over.
- Intervals are fixed on the clock (index = epoch seconds // interval). Interval k is
  paid when the stretch began at or before its start and the worker is still up
  after its end; only the latest finished interval is paid (a stretch is not paid
  backwards for intervals housekeeping did not see).
- Once per worker and interval: the compare-and-swap on `uptime_paid_interval` and
  the ledger's event key `worker-uptime:<worker id>:<k>` both refuse a second payment,
  also from two housekeeping runs at once.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from generation import conf
from generation.models import Worker
from kudos.services import kudos_reward

from .teams import team_totals_add


def _interval_seconds() -> int:
    return max(60, int(settings.HORDE_UPTIME_INTERVAL_SECONDS))


def _is_up(worker: Worker, now: dt.datetime) -> bool:
    return bool(
        worker.last_seen is not None
        and (now - worker.last_seen).total_seconds() <= conf.worker_stale_seconds()
        and not worker.maintenance
        and not worker.paused
        and worker.retired_at is None
        and worker.model_names
        and worker.fault_streak < settings.HORDE_UPTIME_MAX_FAULT_STREAK
        and not worker.owner.is_anonymous_horde_user
    )


def worker_uptime_reward(*, worker: Worker, now: dt.datetime) -> int:
    """One worker's uptime bookkeeping at `now`; returns the kudos paid (0 or one interval's)."""
    if not _is_up(worker, now):
        if worker.uptime_since is not None:
            Worker.objects.filter(pk=worker.pk).update(uptime_since=None)
        return 0
    if worker.uptime_since is None:
        # Compare-and-swap: a concurrent run that already started the stretch keeps its start.
        Worker.objects.filter(pk=worker.pk, uptime_since__isnull=True).update(uptime_since=now)
        return 0
    length = _interval_seconds()
    latest = int(now.timestamp()) // length - 1  # the latest interval that has ended
    if worker.uptime_since.timestamp() > latest * length or latest <= worker.uptime_paid_interval:
        return 0  # up for only part of it, or already paid
    amount = settings.HORDE_UPTIME_KUDOS
    with transaction.atomic():
        # Compare-and-swap on the last paid interval: of two runs at once, one pays.
        claimed = Worker.objects.filter(pk=worker.pk, uptime_paid_interval__lt=latest).update(
            uptime_paid_interval=latest, uptime_kudos=F("uptime_kudos") + amount
        )
        if claimed != 1:
            return 0
        team_totals_add(worker=worker, uptime_seconds=length, kudos=max(amount, 0))
        if amount <= 0:
            return 0
        kudos_reward(
            user=worker.owner, amount=amount, event_key=f"worker-uptime:{worker.pk}:{latest}", memo="Worker uptime"
        )
    return amount


def workers_uptime_reward(*, now: dt.datetime | None = None) -> int:
    """Housekeeping: every worker seen lately (or holding a stretch); returns the kudos paid."""
    now = now or timezone.now()
    recent = now - dt.timedelta(seconds=conf.worker_stale_seconds() + _interval_seconds())
    workers = Worker.objects.filter(last_seen__gte=recent) | Worker.objects.filter(uptime_since__isnull=False)
    return sum(worker_uptime_reward(worker=worker, now=now) for worker in workers.select_related("owner"))
