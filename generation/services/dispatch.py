"""Carrying queued jobs to Celery GPU workers: one message per job, re-sent when lost.

The broker is only a carrier: PostgreSQL is the queue of record, so a lost message
is not lost work (housekeeping re-dispatches), and a duplicate runs nothing twice
(the claim decides).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from generation import conf
from generation.models import Job
from horde_site.celery import app

logger = logging.getLogger(__name__)

# The Celery task a job's message names (generation.tasks.job_run registers under it).
JOB_RUN_TASK = "generation.job_run"


def jobs_dispatch(*, job_ids: list[str], queue: str) -> None:
    """Send one Celery task per job to the model's queue. A lost message is not lost work:
    the job stays queued in PostgreSQL and housekeeping re-dispatches it."""
    for job_id in job_ids:
        try:
            # By task name: services never import generation.tasks (the tasks import the services).
            app.send_task(JOB_RUN_TASK, args=[job_id], queue=queue)
        except Exception:  # the broker is down: housekeeping will re-dispatch
            logger.exception("Could not dispatch job %s to %s", job_id, queue)
            return


def queue_message_count(queue: str) -> int | None:
    """Messages waiting in a broker queue (None when the broker cannot say)."""
    try:
        with app.connection_for_write() as conn:
            return int(conn.default_channel.queue_declare(queue=queue, passive=True).message_count)
    except Exception:  # the broker is down or does not count: assume nothing is waiting
        logger.warning("Could not count the messages of %s", queue, exc_info=True)
        return None


def jobs_redispatch(*, now=None) -> int:
    """Queued jobs whose Celery message is older than the threshold get a new one.

    The broker is only a carrier: if it lost messages (a restart, a flush), the
    jobs are still queued here and this puts them back on the wire. Any message
    on a model's queue makes a worker claim the best job of that model, so a
    queue needs as many messages as it has queued jobs: only the shortfall is
    sent (a long but intact queue is left alone). A duplicate is harmless: the
    claim runs each job once. Returns how many messages were sent.
    """
    if not conf.celery_dispatch():
        return 0
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=conf.redispatch_after_seconds())
    stale = list(
        Job.objects.filter(status=Job.Status.QUEUED)
        .filter(Q(dispatched_at__lt=cutoff) | Q(dispatched_at__isnull=True))
        .order_by("dispatched_at")
        .values_list("pk", "model__queue")[:2000]
    )
    if not stale:
        return 0
    by_queue: dict[str, list[str]] = {}
    for pk, queue in stale:
        by_queue.setdefault(queue, []).append(str(pk))
    sent = 0
    for queue, ids in by_queue.items():
        waiting = queue_message_count(queue)
        if waiting is not None:
            queued = Job.objects.filter(status=Job.Status.QUEUED, model__queue=queue).count()
            ids = ids[: max(queued - waiting, 0)]
        if not ids:
            continue
        Job.objects.filter(pk__in=ids, status=Job.Status.QUEUED).update(dispatched_at=now)
        jobs_dispatch(job_ids=ids, queue=queue)
        sent += len(ids)
    return sent
