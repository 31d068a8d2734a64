"""The job queue: claim, complete, fail, requeue, re-dispatch.

PostgreSQL is the queue of record. `job_claim` is THE claim function, used by
both Celery GPU workers (generation.tasks) and HTTP volunteer workers
(`/api/v2/generate/pop`): one atomic statement decides who gets a job, so a
message delivered twice or a job popped by two workers still runs once.

Lock order everywhere: the request row, then its job rows (cancel, complete,
fail), so two of them on the same request cannot deadlock.
"""

from __future__ import annotations

import contextlib
import json
import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from generation import conf
from generation.models import GenerationRequest, Image, Job, Worker
from generation.pricing import megapixelsteps
from kudos.models import Transaction
from kudos.services import DuplicateEvent, kudos_job_settle, kudos_refund

from .errors import SubmitError, bad
from .images import image_validate

logger = logging.getLogger(__name__)


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


def _charged(event_key: str) -> bool:
    return Transaction.objects.filter(event_key=event_key).exists()


def job_refund_if_charged(*, job: Job, reason: str) -> bool:
    """Give back what this job was charged, if it was (once: the event key says so)."""
    if not _charged(f"job-charge:{job.pk}"):
        return False
    with contextlib.suppress(DuplicateEvent):
        kudos_refund(
            user=job.request.user, amount=job.kudos, event_key=f"job-refund:{job.pk}", memo=f"{reason} {job.pk}"
        )
        return True
    return False


def request_status_refresh(*, request: GenerationRequest, cancelled: bool = False) -> GenerationRequest:
    """Derive the request's status from its jobs. Call with the request row locked."""
    counts = {
        row["status"]: row["n"] for row in Job.objects.filter(request=request).values("status").annotate(n=Count("id"))
    }
    active = counts.get(Job.Status.QUEUED, 0) + counts.get(Job.Status.CLAIMED, 0)
    status = request.status
    if active:
        started = counts.get(Job.Status.DONE, 0) or counts.get(Job.Status.CLAIMED, 0)
        status = GenerationRequest.Status.PROCESSING if started else GenerationRequest.Status.WAITING
    elif counts.get(Job.Status.FAULTED, 0):
        status = GenerationRequest.Status.FAULTED
    elif cancelled or counts.get(Job.Status.CANCELLED, 0):
        status = GenerationRequest.Status.CANCELLED
    else:
        status = GenerationRequest.Status.DONE
    update: dict = {"status": status}
    if not active and request.finished_at is None:
        update["finished_at"] = timezone.now()
    GenerationRequest.objects.filter(pk=request.pk).update(**update)
    for key, value in update.items():
        setattr(request, key, value)
    return request


@dataclass
class Completion:
    image: Image | None
    reward: int


def r2_staging_name(job: Job) -> str:
    """Where the R2-style PUT of one claim (job + attempt) waits for its submit."""
    return f"r2-staging/{job.pk}-{job.attempts}.webp"


def _r2_staging_discard(job: Job) -> None:
    with contextlib.suppress(Exception):  # best effort: a leftover file harms nothing
        name = r2_staging_name(job)
        if default_storage.exists(name):
            default_storage.delete(name)


def _store(data: bytes) -> str:
    now = timezone.now()
    name = f"images/{now:%Y/%m/%d}/{uuid.uuid4()}.webp"
    return default_storage.save(name, ContentFile(data))


def job_complete(
    *,
    job: Job,
    worker: Worker,
    image_bytes: bytes | None,
    seed: int | None = None,
    state: str = "ok",
    censored: bool = False,
    inference_seconds: float | None = None,
) -> Completion:
    """Finish a claimed job: check the image, store it, mark done, charge and reward.

    `state` is the AI Horde's: "ok", "censored" (an image, flagged), "faulted"
    (no image: the job goes back to the queue, or faults the request after too
    many tries). A bad image is refused (SubmitError 400 InvalidImage) and the
    job goes back to the queue. A second submit of a finished job raises
    SubmitError 400 DuplicateGen and pays nothing.
    """
    if job.status == Job.Status.DONE:
        raise bad("DuplicateGen", "This job was already submitted.", "id")
    if job.status != Job.Status.CLAIMED or job.worker_id != worker.pk:
        raise bad("AbortedGen", "This job is not (or no longer) claimed by this worker.", "id")
    if state == "faulted":
        job_fail(job=job, worker=worker, reason="worker reported a fault")
        return Completion(image=None, reward=0)
    if state not in ("ok", "censored"):
        raise bad("BadRequest", "state must be ok, censored or faulted.", "state")
    request = job.request
    try:
        data, _fmt = image_validate(data=image_bytes or b"", width=request.width, height=request.height)
    except SubmitError:
        job_fail(job=job, worker=worker, reason="bad image")
        raise
    # Slow I/O (the upload) happens before the transaction, not inside it.
    name = _store(data)
    try:
        image = _job_finish(
            job=job,
            worker=worker,
            name=name,
            seed=seed,
            censored=censored or state == "censored",
            inference_seconds=inference_seconds,
        )
    except BaseException:
        default_storage.delete(name)
        raise
    return Completion(image=image, reward=job.kudos)


def _job_finish(
    *, job: Job, worker: Worker, name: str, seed: int | None, censored: bool, inference_seconds: float | None
) -> Image:
    now = timezone.now()
    with transaction.atomic():
        request = GenerationRequest.objects.select_for_update().select_related("user").get(pk=job.request_id)
        # Compare-and-swap: only the claim that still holds the job may finish it.
        finished = Job.objects.filter(pk=job.pk, status=Job.Status.CLAIMED, worker=worker).update(
            status=Job.Status.DONE,
            finished_at=now,
            inference_seconds=inference_seconds,
        )
        if finished != 1:
            current = Job.objects.filter(pk=job.pk).values_list("status", flat=True).first()
            if current == Job.Status.DONE:
                raise bad("DuplicateGen", "This job was already submitted.", "id")
            raise bad("AbortedGen", "This job is not (or no longer) claimed by this worker.", "id")
        image = Image.objects.create(
            job=job,
            request=request,
            file=name,
            width=request.width,
            height=request.height,
            seed=job.seed if seed is None else seed,
            censored=censored,
            worker=worker,
        )
        busy = inference_seconds
        if busy is None and job.claimed_at is not None:
            busy = (now - job.claimed_at).total_seconds()
        Worker.objects.filter(pk=worker.pk).update(
            jobs_done=F("jobs_done") + 1,
            kudos_earned=F("kudos_earned") + job.kudos,
            mps_done=F("mps_done") + megapixelsteps(width=request.width, height=request.height, steps=request.steps),
            seconds_busy=F("seconds_busy") + max(busy or 0.0, 0.001),
            last_seen=now,
        )
        request_status_refresh(request=request)
        # Last, so the two account rows (a requester's is shared by all its jobs) are held
        # only until the commit. Requester and worker owner are locked together, in one
        # order: two completions with the parties swapped (Alice's job done by Bob's worker
        # and Bob's by Alice's) would otherwise deadlock between the charge and the reward.
        kudos_job_settle(
            requester=request.user,
            owner=worker.owner,
            amount=job.kudos,
            charge_key=f"job-charge:{job.pk}",
            reward_key=f"job-reward:{job.pk}",
            charge_memo=f"image {image.pk}",
            reward_memo=f"job {job.pk}",
        )
    job.status = Job.Status.DONE
    job.finished_at = now
    return image


def job_fail(*, job: Job, worker: Worker | None, reason: str) -> Job:
    """A claimed job did not finish (fault, bad image, worker vanished).

    Back to the queue while it has attempts left; else the job is faulted and its
    request with it: the other waiting jobs are cancelled and anything charged
    for them refunded (finished images stay paid: they were delivered).
    """
    with transaction.atomic():
        request = GenerationRequest.objects.select_for_update().select_related("user").get(pk=job.request_id)
        where = Job.objects.filter(pk=job.pk, status=Job.Status.CLAIMED)
        if worker is not None:
            where = where.filter(worker=worker)
        current = where.select_for_update().first()
        if current is None:
            return job  # finished, cancelled or already requeued meanwhile
        transaction.on_commit(lambda: _r2_staging_discard(current))
        GenerationRequest.objects.filter(pk=request.pk).update(faults=F("faults") + 1)
        if Job.objects.filter(request=request, status=Job.Status.CANCELLED).exists():
            # The requester cancelled while this job ran: it does not go back to the queue.
            Job.objects.filter(pk=job.pk).update(status=Job.Status.CANCELLED, finished_at=timezone.now())
            job_refund_if_charged(job=current, reason="cancelled")
            request_status_refresh(request=request)
        elif current.attempts >= conf.max_job_attempts():
            logger.warning("Job %s faulted after %s attempts (%s)", job.pk, current.attempts, reason)
            _request_fault(request=request, job=current)
        else:
            Job.objects.filter(pk=job.pk).update(
                status=Job.Status.QUEUED, worker=None, claimed_at=None, expires_at=None, dispatched_at=timezone.now()
            )
            if conf.celery_dispatch():
                from .submit import jobs_dispatch

                ids, queue = [str(job.pk)], current.model.queue
                transaction.on_commit(lambda: jobs_dispatch(job_ids=ids, queue=queue))
    job.refresh_from_db()
    return job


def _request_fault(*, request: GenerationRequest, job: Job) -> None:
    now = timezone.now()
    Job.objects.filter(pk=job.pk).update(status=Job.Status.FAULTED, finished_at=now, expires_at=None)
    waiting = list(
        Job.objects.select_for_update()
        .filter(request=request, status=Job.Status.QUEUED)
        .select_related("request__user")
    )
    Job.objects.filter(pk__in=[other.pk for other in waiting]).update(status=Job.Status.CANCELLED, finished_at=now)
    for other in [job, *waiting]:
        other.request = request
        job_refund_if_charged(job=other, reason="faulted")
    request_status_refresh(request=request)


def jobs_requeue_expired(*, now=None) -> int:
    """Claimed jobs past their time-to-live: their worker vanished. Returns how many."""
    now = now or timezone.now()
    expired = list(
        Job.objects.filter(status=Job.Status.CLAIMED, expires_at__lt=now).select_related("request", "model")[:500]
    )
    for job in expired:
        job_fail(job=job, worker=None, reason="time-to-live expired")
    return len(expired)


def queue_message_count(queue: str) -> int | None:
    """Messages waiting in a broker queue (None when the broker cannot say)."""
    from horde_site.celery import app

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
    from .submit import jobs_dispatch

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
