"""Claiming jobs: THE claim function, for Celery GPU workers and HTTP pops alike.

PostgreSQL is the queue of record. `jobs_claim` is used by both Celery GPU workers
(generation.tasks) and HTTP volunteer workers (`/api/v2/generate/pop`): one atomic
statement decides who gets a job, so a message delivered twice or a job popped by
two workers still runs once.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from generation import conf
from generation.models import Job, Worker

PIXELS = F("request__width") * F("request__height")


def _claimable(*, worker: Worker, models: list[str], max_pixels: int, nsfw: bool | None) -> Q:
    """(SQLite) What this worker may take: its models, its size limit, its nsfw and trust settings.

    Models by name through a join (a tiny table) rather than a separate lookup:
    one query less on every pop."""
    where = Q(status=Job.Status.QUEUED, model__name__in=models, model__enabled=True)
    where &= Q(pixels__lte=max_pixels)
    if not (worker.nsfw if nsfw is None else nsfw):
        where &= Q(request__nsfw=False)
    if not worker.owner.trusted:
        where &= Q(request__trusted_workers=False)
    # Worker lists (named workers, blacklists) are checked in Python: SQLite has no JSON
    # containment (PostgreSQL claims with _CLAIM_SQL, which checks them itself).
    return where


def _use_skip_locked() -> bool:
    """PostgreSQL claims with SKIP LOCKED; other databases (SQLite) with compare-and-swap."""
    return connection.vendor == "postgresql" and connection.features.has_select_for_update_skip_locked


def _wanted_by_request(job: Job, worker: Worker) -> bool:
    """The worker list rule in Python (SQLite has no JSON containment)."""
    listed = str(worker.pk) in (job.request.workers or [])
    if not job.request.workers:
        return True
    return not listed if job.request.worker_blacklist else listed


# The claim as one statement (PostgreSQL): pick the best claimable rows, skipping rows
# another claimer holds, and mark them claimed, in a single UPDATE (no BEGIN/COMMIT
# round trips, no ORM compilation of a five-table query on every pop). The picked rows
# are a materialized CTE: evaluated once, so its LIMIT holds (an `id IN (SELECT ... LIMIT)`
# may be re-run per row and claim more). The rules are those of `_claimable`: models
# by name (enabled), size, nsfw, trust, worker lists.
# What a request asks of the worker (size, nsfw, trust, worker lists), shared by both claims.
_REQUEST_RULES = """r.width * r.height <= %(max_pixels)s
    AND (%(nsfw)s OR NOT r.nsfw)
    AND (%(trusted)s OR NOT r.trusted_workers)
    AND (r.workers = '[]'::jsonb
         OR (NOT r.worker_blacklist AND r.workers @> %(me)s::jsonb)
         OR (r.worker_blacklist AND NOT r.workers @> %(me)s::jsonb))"""
# Mark the picked rows claimed (re-checking `queued`), returning their ids.
_CLAIM_UPDATE = """UPDATE generation_job SET status = 'claimed', worker_id = %(worker)s, claimed_at = %(now)s,
    expires_at = %(expires)s, attempts = generation_job.attempts + 1
FROM picked WHERE generation_job.id = picked.id AND generation_job.status = 'queued'
RETURNING generation_job.id"""
# The best jobs: per model (a LATERAL walk of the job_claim_order index, which stops at
# the first rows that pass: a long queue is not sorted on every pop), then the best of
# those across the worker's models.
_CLAIM_BEST = """
WITH picked AS MATERIALIZED (
    SELECT c.id FROM generation_imagemodel m
    CROSS JOIN LATERAL (
        SELECT j.id, j.priority, j.created_at FROM generation_job j
        JOIN generation_generationrequest r ON r.id = j.request_id
        WHERE j.model_id = m.id AND j.status = 'queued' AND NOT (j.id = ANY(%(exclude)s::uuid[]))
            AND {request_rules}
        ORDER BY j.priority DESC, j.created_at
        LIMIT %(amount)s
        FOR UPDATE OF j SKIP LOCKED
    ) c
    WHERE m.name = ANY(%(models)s) AND m.enabled
    ORDER BY c.priority DESC, c.created_at
    LIMIT %(amount)s
)
{claim_update}
"""
# The job a Celery message names, by primary key (same rules).
_CLAIM_ONE = """
WITH picked AS MATERIALIZED (
    SELECT j.id FROM generation_job j
    JOIN generation_generationrequest r ON r.id = j.request_id
    JOIN generation_imagemodel m ON m.id = j.model_id
    WHERE j.id = %(job_id)s AND j.status = 'queued' AND m.name = ANY(%(models)s) AND m.enabled
        AND {request_rules}
    FOR UPDATE OF j SKIP LOCKED
)
{claim_update}
"""
_CLAIM_BEST = _CLAIM_BEST.format(request_rules=_REQUEST_RULES, claim_update=_CLAIM_UPDATE)
_CLAIM_ONE = _CLAIM_ONE.format(request_rules=_REQUEST_RULES, claim_update=_CLAIM_UPDATE)


def _claim_skip_locked(
    *,
    worker: Worker,
    models: list[str],
    max_pixels: int,
    nsfw: bool | None,
    amount: int,
    job_id: uuid.UUID | str | None,
    claim: dict,
) -> list[Job]:
    params = {
        "worker": worker.pk,
        "now": claim["claimed_at"],
        "expires": claim["expires_at"],
        "models": list(models),
        "max_pixels": max_pixels,
        "nsfw": bool(worker.nsfw if nsfw is None else nsfw),
        "trusted": bool(worker.owner.trusted),
        "me": json.dumps([str(worker.pk)]),
        "exclude": [],
        "amount": amount,
    }
    ids: list = []
    # A message that names its job tries that job first, then the best other one: two
    # statements, so they are one transaction (an error in the second must not leave
    # the first claimed without anyone knowing).
    with transaction.atomic() if job_id is not None else contextlib.nullcontext(), connection.cursor() as cursor:
        if job_id is not None:
            try:
                wanted = uuid.UUID(str(job_id))
            except ValueError:
                wanted = None
            if wanted is not None:
                cursor.execute(_CLAIM_ONE, {**params, "job_id": wanted})
                ids += [row[0] for row in cursor.fetchall()]
        if len(ids) < amount:
            cursor.execute(_CLAIM_BEST, {**params, "exclude": ids, "amount": amount - len(ids)})
            ids += [row[0] for row in cursor.fetchall()]
    if not ids:
        return []
    jobs = {job.pk: job for job in Job.objects.select_related("request", "pipeline", "model").filter(pk__in=ids)}
    first = [jobs.pop(pk) for pk in ids[:1] if job_id is not None and str(pk) == str(job_id) and pk in jobs]
    # Best first, as claimed (the named job, if any, leads).
    return first + sorted(jobs.values(), key=lambda job: (-job.priority, job.created_at))


def jobs_claim(
    *,
    worker: Worker,
    models: list[str],
    max_pixels: int,
    nsfw: bool | None = None,
    amount: int = 1,
    job_id: uuid.UUID | str | None = None,
) -> list[Job]:
    """Claim up to `amount` jobs for `worker`, best first (priority DESC, then oldest).

    With `job_id`, that job is tried first (a Celery message names its job); if it
    is gone (done, cancelled, claimed by someone else) the best other job is taken.
    PostgreSQL: `SELECT ... FOR UPDATE SKIP LOCKED` so concurrent claimers pass
    over each other's rows instead of waiting or double-claiming. SQLite: a
    compare-and-swap `UPDATE ... WHERE status='queued'` per candidate.
    """
    if not models or amount < 1:
        return []
    now = timezone.now()
    claim = {
        "status": Job.Status.CLAIMED,
        "worker": worker,
        "claimed_at": now,
        "expires_at": now + timedelta(seconds=conf.job_ttl_seconds()),
        "attempts": F("attempts") + 1,
    }
    if _use_skip_locked():
        claimed = _claim_skip_locked(
            worker=worker, models=models, max_pixels=max_pixels, nsfw=nsfw, amount=amount, job_id=job_id, claim=claim
        )
    else:
        claimed = []
        where = _claimable(worker=worker, models=models, max_pixels=max_pixels, nsfw=nsfw)
        with transaction.atomic():
            base = Job.objects.select_related("request", "pipeline", "model").alias(pixels=PIXELS)
            candidates = list(base.filter(where, pk=job_id)) if job_id is not None else []
            candidates += list(base.filter(where).order_by("-priority", "created_at")[: amount * 4 + 4])
            for job in candidates:
                if len(claimed) >= amount or job in claimed or not _wanted_by_request(job, worker):
                    continue
                # Compare-and-swap: only one claimer sees the row still queued.
                if Job.objects.filter(pk=job.pk, status=Job.Status.QUEUED).update(**claim) == 1:
                    claimed.append(job)
    for job in claimed:
        job.status = Job.Status.CLAIMED
        job.worker = worker
        job.claimed_at = claim["claimed_at"]
        job.expires_at = claim["expires_at"]
        if not _use_skip_locked():
            job.attempts += 1  # SQLite read the rows before updating them; PostgreSQL re-read them
    return claimed


def job_claim(
    *,
    worker: Worker,
    models: list[str],
    max_pixels: int,
    nsfw: bool | None = None,
    job_id: uuid.UUID | str | None = None,
) -> Job | None:
    """Claim the one best job this worker can serve (see `jobs_claim`)."""
    jobs = jobs_claim(worker=worker, models=models, max_pixels=max_pixels, nsfw=nsfw, amount=1, job_id=job_id)
    return jobs[0] if jobs else None
