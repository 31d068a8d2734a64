"""Claiming jobs: THE claim function, for Celery GPU workers and HTTP pops alike.

PostgreSQL is the queue of record. `jobs_claim` is used by both Celery GPU workers
(generation.tasks) and HTTP volunteer workers (`/api/v2/generate/pop`): one atomic
statement decides who gets a job, so a message delivered twice or a job popped by
two workers still runs once.

What a worker may take (the rules, in one place for both databases and for the
pop's `skipped` counts): its models (enabled), its size limit, its nsfw setting,
trust (a request that asks for trusted workers; a comparison job only for a worker
staff trust for it, not flagged, and never for a worker of its requester; no job at all
for a worker flagged twice) and the request's worker list. A batch (amount > 1) is
one payload: the best job and only jobs with the same request, pipeline, size and
seed, so the two images of a pair are never in one pop.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections import Counter
from datetime import timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Case, Exists, F, Q, Value, When
from django.utils import timezone

from generation import conf
from generation.models import Job, Worker

PIXELS = F("request__width") * F("request__height")
# The pop's `skipped` counts look at no more than this many waiting jobs: the count runs
# on pops that found (too) little, i.e. often, and must stay cheap on a long queue.
SKIPPED_SCAN_JOBS = 1000


def worker_serves_comparisons(worker: Worker) -> bool:
    """Staff trust this worker with comparison (SDXL beta) jobs: the platform's Celery GPU
    workers, and HTTP workers whose owner staff marked trusted, unless staff flagged it (one
    flag: no comparison work). (Never for its owner's own requests: that rule is in the claim.)"""
    return (worker.kind == Worker.Kind.CELERY or worker.owner.trusted) and worker.flags < 1


def worker_may_work(worker: Worker) -> bool:
    """A worker staff flagged twice or more gets no work at all."""
    return worker.flags < 2


def _use_skip_locked() -> bool:
    """PostgreSQL claims with SKIP LOCKED; other databases (SQLite) with compare-and-swap."""
    return connection.vendor == "postgresql" and connection.features.has_select_for_update_skip_locked


# --- PostgreSQL: the rules as SQL, shared by the claim and the skipped counts -----------
# Each rule is named for the pop's `skipped` key a job failing it is counted under
# (those in SKIPPED_REASONS; the worker's own state is no job's reason).
# `r` is the request, `m` the job's model.
SKIPPED_REASONS = ("max_pixels", "nsfw", "untrusted", "worker_id")
_SQL_SERVED = "m.name = ANY(%(models)s) AND m.enabled"
_SQL_RULES = {
    # The worker itself, read from its row at claim time (not from the caller's object, which
    # a long-running Celery process loaded at start): in maintenance, paused or retired it
    # takes nothing. Not a `skipped` reason: no job is skipped, the worker is. FOR SHARE: a
    # retirement (an UPDATE of this row) waits for a claim in flight to commit, and a claim
    # that meets a retirement in flight re-reads the row after it and takes nothing, so the
    # retirement's list of claims to give back is complete (worker_control.worker_retire).
    "worker_state": """EXISTS (SELECT 1 FROM generation_worker w WHERE w.id = %(worker)s
        AND NOT w.maintenance AND NOT w.paused AND w.retired_at IS NULL FOR SHARE)""",
    "max_pixels": "r.width * r.height <= %(max_pixels)s",
    "nsfw": "(%(nsfw)s OR NOT r.nsfw)",
    # A comparison is the experiment: a worker outside staff's trust, or the requester's
    # own worker, could render a flat image for one pipeline and steer the result. A worker
    # staff flagged twice gets nothing (counted as untrusted: the AI Horde's skipped keys).
    # The flags are read from the worker's row, as its state is: a flag staff set after a
    # Celery process loaded its worker holds from that process's next claim.
    "untrusted": """(SELECT w.flags FROM generation_worker w WHERE w.id = %(worker)s) < 2
    AND (%(trusted)s OR NOT r.trusted_workers)
    AND (NOT m.compare_pipelines OR (%(serves_comparisons)s AND r.user_id <> %(owner)s
        AND (SELECT w.flags FROM generation_worker w WHERE w.id = %(worker)s) < 1))""",
    "worker_id": """(r.workers = '[]'::jsonb
         OR (NOT r.worker_blacklist AND r.workers @> %(me)s::jsonb)
         OR (r.worker_blacklist AND NOT r.workers @> %(me)s::jsonb))""",
}
_SQL_REQUEST_RULES = "\n    AND ".join(_SQL_RULES.values())

# The claim as one statement: pick the first job, then the rest of its batch (jobs of the
# same payload), skipping rows another claimer holds, and mark them claimed, in a single
# UPDATE (no BEGIN/COMMIT round trips, no ORM compilation of a five-table query on every
# pop). The picked rows are materialized CTEs: evaluated once, so their LIMITs hold (an
# `id IN (SELECT ... LIMIT)` may be re-run per row and claim more).
_CLAIM = """
WITH first AS MATERIALIZED ({first}),
batch AS MATERIALIZED (
    SELECT j.id FROM generation_job j JOIN first f ON j.request_id = f.request_id
    WHERE j.id <> f.id AND j.status = 'queued' AND j.seed = f.seed
        AND j.pipeline_id IS NOT DISTINCT FROM f.pipeline_id
    ORDER BY j.index
    LIMIT %(more)s
    FOR UPDATE OF j SKIP LOCKED
),
picked AS (SELECT id FROM first UNION ALL SELECT id FROM batch)
UPDATE generation_job SET status = 'claimed', worker_id = %(worker)s, claimed_at = %(now)s,
    expires_at = %(expires)s, attempts = generation_job.attempts + 1
FROM picked WHERE generation_job.id = picked.id AND generation_job.status = 'queued'
RETURNING generation_job.id
"""
# The best job: per model (a LATERAL walk of the job_claim_order index, which stops at the
# first row that passes: a long queue is not sorted on every pop), then the best of those
# across the worker's models.
_FIRST_BEST = """
    SELECT c.id, c.request_id, c.pipeline_id, c.seed FROM generation_imagemodel m
    CROSS JOIN LATERAL (
        SELECT j.id, j.request_id, j.pipeline_id, j.seed, j.priority, j.created_at FROM generation_job j
        JOIN generation_generationrequest r ON r.id = j.request_id
        WHERE j.model_id = m.id AND j.status = 'queued'
            AND {rules}
        ORDER BY j.priority DESC, j.created_at
        LIMIT 1
        FOR UPDATE OF j SKIP LOCKED
    ) c
    WHERE {served}
    ORDER BY c.priority DESC, c.created_at
    LIMIT 1"""
# The job a Celery message names, by primary key (same rules).
_FIRST_ONE = """
    SELECT j.id, j.request_id, j.pipeline_id, j.seed FROM generation_job j
    JOIN generation_generationrequest r ON r.id = j.request_id
    JOIN generation_imagemodel m ON m.id = j.model_id
    WHERE j.id = %(job_id)s AND j.status = 'queued' AND {served}
        AND {rules}
    FOR UPDATE OF j SKIP LOCKED"""
_CLAIM_BEST = _CLAIM.format(first=_FIRST_BEST.format(rules=_SQL_REQUEST_RULES, served=_SQL_SERVED))
_CLAIM_ONE = _CLAIM.format(first=_FIRST_ONE.format(rules=_SQL_REQUEST_RULES, served=_SQL_SERVED))
# Why waiting jobs are not this worker's: each counted under the first rule it fails.
# (Like the claims, built from constant fragments; every value is a query parameter.)
_SKIPPED_TEMPLATE = """
SELECT reason, count(*) FROM (
    SELECT CASE WHEN NOT ({served}) THEN 'models'
        {reasons}
    END AS reason
    FROM generation_job j
    JOIN generation_generationrequest r ON r.id = j.request_id
    JOIN generation_imagemodel m ON m.id = j.model_id
    WHERE j.status = 'queued'
    LIMIT %(scan)s
) waiting
WHERE reason IS NOT NULL
GROUP BY reason
"""
_SKIPPED = _SKIPPED_TEMPLATE.format(
    served=_SQL_SERVED,
    reasons="\n        ".join(
        f"WHEN NOT ({rule}) THEN '{name}'" for name, rule in _SQL_RULES.items() if name in SKIPPED_REASONS
    ),
)


def _sql_params(*, worker: Worker, models: list[str], max_pixels: int, nsfw: bool | None) -> dict[str, Any]:
    return {
        "models": list(models),
        "max_pixels": max_pixels,
        "nsfw": bool(worker.nsfw if nsfw is None else nsfw),
        "trusted": bool(worker.owner.trusted),
        # Its kind and owner's trust; its flags the SQL reads from the row.
        "serves_comparisons": worker.kind == Worker.Kind.CELERY or bool(worker.owner.trusted),
        "owner": worker.owner_id,
        "me": json.dumps([str(worker.pk)]),
        "worker": worker.pk,
    }


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
        **_sql_params(worker=worker, models=models, max_pixels=max_pixels, nsfw=nsfw),
        "worker": worker.pk,
        "now": claim["claimed_at"],
        "expires": claim["expires_at"],
        "more": amount - 1,
    }
    ids: list = []
    # A message that names its job tries that job first, else the best other one: two
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
                ids = [row[0] for row in cursor.fetchall()]
        if not ids:
            cursor.execute(_CLAIM_BEST, params)
            ids = [row[0] for row in cursor.fetchall()]
    if not ids:
        return []
    # One batch: the same request and priority, so its order is the jobs' index.
    return list(Job.objects.select_related("request", "pipeline", "model").filter(pk__in=ids).order_by("index"))


# --- SQLite: the same rules as ORM conditions ---------------------------------------------
def _orm_rules(*, worker: Worker, models: list[str], max_pixels: int, nsfw: bool | None) -> dict[str, Q]:
    """The rules of `_SQL_RULES` (and `_SQL_SERVED` as "models") as ORM conditions.

    The worker list is checked in Python (`_listed_ok`): SQLite has no JSON containment."""
    comparisons = Q(model__compare_pipelines=False)
    if worker_serves_comparisons(worker):
        comparisons |= ~Q(request__user_id=worker.owner_id)
    ready = Worker.objects.filter(pk=worker.pk, maintenance=False, paused=False, retired_at__isnull=True)
    return {
        "worker_state": Q(Exists(ready)),
        "models": Q(model__name__in=models, model__enabled=True),
        "max_pixels": Q(pixels__lte=max_pixels),
        "nsfw": Q() if (worker.nsfw if nsfw is None else nsfw) else Q(request__nsfw=False),
        "untrusted": (Q() if worker.owner.trusted else Q(request__trusted_workers=False))
        & comparisons
        & (Q() if worker_may_work(worker) else Q(pk__isnull=True)),  # never true: no job
    }


def _listed_ok(*, workers: list | None, blacklist: bool, worker: Worker) -> bool:
    """The request's worker list: only those workers, or (blacklist) all but those."""
    if not workers:
        return True
    listed = str(worker.pk) in workers
    return not listed if blacklist else listed


def _claim_compare_and_swap(
    *, worker: Worker, models: list[str], max_pixels: int, nsfw: bool | None, amount: int, job_id, claim: dict
) -> list[Job]:
    where = Q(status=Job.Status.QUEUED)
    for rule in _orm_rules(worker=worker, models=models, max_pixels=max_pixels, nsfw=nsfw).values():
        where &= rule
    claimed: list[Job] = []
    with transaction.atomic():
        base = Job.objects.select_related("request", "pipeline", "model").alias(pixels=PIXELS)
        candidates = list(base.filter(where, pk=job_id)) if job_id is not None else []
        candidates += list(base.filter(where).order_by("-priority", "created_at")[:8])
        for job in candidates:
            if not _listed_ok(workers=job.request.workers, blacklist=job.request.worker_blacklist, worker=worker):
                continue
            # Compare-and-swap: only one claimer sees the row still queued.
            if Job.objects.filter(pk=job.pk, status=Job.Status.QUEUED).update(**claim) == 1:
                claimed.append(job)
                break
        if claimed and amount > 1:
            first = claimed[0]
            # The rest of the batch: the same payload (request, pipeline, seed) only.
            same = base.filter(
                request_id=first.request_id, pipeline_id=first.pipeline_id, seed=first.seed, status=Job.Status.QUEUED
            )
            for job in same.exclude(pk=first.pk).order_by("index")[: amount - 1]:
                if Job.objects.filter(pk=job.pk, status=Job.Status.QUEUED).update(**claim) == 1:
                    claimed.append(job)
    for job in claimed:
        job.attempts += 1  # read before the update
    return claimed


def jobs_claim(
    *,
    worker: Worker,
    models: list[str],
    max_pixels: int,
    nsfw: bool | None = None,
    amount: int = 1,
    job_id: uuid.UUID | str | None = None,
) -> list[Job]:
    """Claim the best job `worker` may serve and, up to `amount`, more jobs of the same payload.

    Best is priority DESC, then oldest. With `job_id`, that job is tried first (a Celery
    message names its job); if it is gone (done, cancelled, claimed by someone else) the
    best other job is taken. PostgreSQL: `SELECT ... FOR UPDATE SKIP LOCKED` so concurrent
    claimers pass over each other's rows instead of waiting or double-claiming. SQLite: a
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
    strategy = _claim_skip_locked if _use_skip_locked() else _claim_compare_and_swap
    claimed = strategy(
        worker=worker, models=models, max_pixels=max_pixels, nsfw=nsfw, amount=amount, job_id=job_id, claim=claim
    )
    for job in claimed:
        job.status = Job.Status.CLAIMED
        job.worker = worker
        job.claimed_at = claim["claimed_at"]
        job.expires_at = claim["expires_at"]
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


def job_lease_renew(*, job: Job, worker: Worker) -> bool:
    """Push this claim's expiry one time-to-live ahead while its worker still runs it.

    A compare-and-swap on the claim itself (job, worker, attempt, still claimed): a claim
    housekeeping already gave back, or that another worker now holds, is not revived, so a
    slow job keeps its claim and a vanished worker's job still goes back after one TTL.
    Returns whether the claim was renewed.
    """
    expires = timezone.now() + timedelta(seconds=conf.job_ttl_seconds())
    renewed = Job.objects.filter(pk=job.pk, status=Job.Status.CLAIMED, worker=worker, attempts=job.attempts).update(
        expires_at=expires
    )
    if renewed:
        job.expires_at = expires
    return renewed == 1


def jobs_skipped(*, worker: Worker, models: list[str], max_pixels: int, nsfw: bool | None = None) -> dict[str, int]:
    """How many waiting jobs this worker may not take, by reason: the AI Horde pop's `skipped`.

    Keys as the AI Horde's (horde-sdk's NoValidRequestFoundStable): models, max_pixels, nsfw,
    untrusted (a trusted-workers request, or a comparison this worker may not serve), worker_id
    (the request's worker list). Each job counts once, under the first rule it fails; reasons
    with no job are left out. One query over at most SKIPPED_SCAN_JOBS waiting jobs, so on a
    longer queue the counts are lower bounds.
    """
    if _use_skip_locked():
        params = _sql_params(worker=worker, models=models, max_pixels=max_pixels, nsfw=nsfw)
        with connection.cursor() as cursor:
            cursor.execute(_SKIPPED, {**params, "scan": SKIPPED_SCAN_JOBS})
            return dict(cursor.fetchall())
    rules = _orm_rules(worker=worker, models=models, max_pixels=max_pixels, nsfw=nsfw)
    reasons = [When(~rule, then=Value(name)) for name, rule in rules.items() if rule and name != "worker_state"]
    reason = Case(*reasons, default=Value(""))
    rows = (
        Job.objects.filter(status=Job.Status.QUEUED)
        .alias(pixels=PIXELS)
        .annotate(reason=reason)
        .values_list("reason", "request__workers", "request__worker_blacklist")[:SKIPPED_SCAN_JOBS]
    )
    counts: Counter[str] = Counter()
    for name, workers, blacklist in rows:
        if name:
            counts[name] += 1
        elif not _listed_ok(workers=workers, blacklist=blacklist, worker=worker):
            counts["worker_id"] += 1
    return dict(counts)
