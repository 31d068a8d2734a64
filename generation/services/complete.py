"""Completing a claimed job: check the image, store it, mark the job done, reward the worker.

The requester paid for the job when it was submitted (`job-charge:<job id>`); a
finished job pays its worker's owner (`job-reward:<job id>`), except when the owner
is the requester: serving your own request earns nothing (else a user could mint
kudos by popping and submitting their own jobs, then rating them).

Lock order everywhere: the request row, then its job rows (cancel, complete, fail),
so two of them on the same request cannot deadlock.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from generation.models import GenerationRequest, Image, Job, Worker
from generation.pricing import megapixelsteps
from kudos.services import kudos_reward

from .errors import WorkerActionRefused, worker_bad
from .fail import job_fail
from .images import censored_placeholder, image_validate
from .request_state import request_status_refresh, reward_memo
from .stats import stats_count_finished
from .storage import image_store
from .teams import team_totals_add


@dataclass
class Completion:
    image: Image | None
    # What the worker's owner was paid for it (0 when they served their own request).
    reward: int


def job_reward(*, job: Job, worker: Worker, requester_id: int) -> int:
    """What finishing this job pays the worker's owner: its price, or nothing when the
    owner is the requester (any model, Celery or HTTP worker)."""
    return 0 if worker.owner_id == requester_id else int(job.kudos)


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
    """Finish a claimed job: check the image, store it, mark done, reward the worker.

    `state` is the AI Horde's: "ok", "censored" (the worker's censor hid it: a placeholder of
    the same size is stored instead of whatever it sent, and the image is marked censored),
    "faulted" (no image: the job goes back to the queue, or faults the request after too
    many tries). A bad image is refused (WorkerActionRefused 400 InvalidImage) and the
    job goes back to the queue. A second submit of a finished job raises
    WorkerActionRefused 400 DuplicateGen and pays nothing.
    """
    if job.status == Job.Status.DONE:
        raise worker_bad("DuplicateGen", "This job was already submitted.", "id")
    if job.status != Job.Status.CLAIMED or job.worker_id != worker.pk:
        raise worker_bad("AbortedGen", "This job is not (or no longer) claimed by this worker.", "id")
    if state == "faulted":
        job_fail(job=job, worker=worker, reason="worker reported a fault")
        return Completion(image=None, reward=0)
    if state not in ("ok", "censored"):
        raise worker_bad("BadRequest", "state must be ok, censored or faulted.", "state")
    request = job.request
    censored = censored or state == "censored"
    if censored:
        data = censored_placeholder(width=request.width, height=request.height)
    else:
        try:
            data, _fmt = image_validate(data=image_bytes or b"", width=request.width, height=request.height)
        except WorkerActionRefused:
            job_fail(job=job, worker=worker, reason="bad image")
            raise
    # Slow I/O (the upload) happens before the transaction, not inside it.
    name = image_store(data)
    try:
        image, reward = _job_finish(
            job=job,
            worker=worker,
            name=name,
            seed=seed,
            censored=censored,
            inference_seconds=inference_seconds,
        )
    except BaseException:
        default_storage.delete(name)
        raise
    return Completion(image=image, reward=reward)


def _job_finish(
    *, job: Job, worker: Worker, name: str, seed: int | None, censored: bool, inference_seconds: float | None
) -> tuple[Image, int]:
    now = timezone.now()
    with transaction.atomic():
        # `of=("self",)`: lock the request row only, not its requester's user row (which
        # every submit of that user references).
        request = GenerationRequest.objects.select_for_update(of=("self",)).get(pk=job.request_id)
        # Compare-and-swap: only the claim that still holds the job may finish it.
        finished = Job.objects.filter(pk=job.pk, status=Job.Status.CLAIMED, worker=worker).update(
            status=Job.Status.DONE,
            finished_at=now,
            inference_seconds=inference_seconds,
        )
        if finished != 1:
            current = Job.objects.filter(pk=job.pk).values_list("status", flat=True).first()
            if current == Job.Status.DONE:
                raise worker_bad("DuplicateGen", "This job was already submitted.", "id")
            raise worker_bad("AbortedGen", "This job is not (or no longer) claimed by this worker.", "id")
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
        reward = job_reward(job=job, worker=worker, requester_id=request.user_id)
        busy = inference_seconds
        if busy is None and job.claimed_at is not None:
            busy = (now - job.claimed_at).total_seconds()
        mps = megapixelsteps(width=request.width, height=request.height, steps=request.steps)
        busy = max(busy or 0.0, 0.001)
        Worker.objects.filter(pk=worker.pk).update(
            jobs_done=F("jobs_done") + 1,
            kudos_earned=F("kudos_earned") + reward,
            mps_done=F("mps_done") + mps,
            seconds_busy=F("seconds_busy") + busy,
            last_seen=now,
            fault_streak=0,
        )
        # The worker's team (read from its row now: it may have joined since it claimed) counts it too.
        team_totals_add(worker=worker, requests=1, kudos=reward, mps=mps, seconds_busy=busy)
        request_status_refresh(request=request)
        if reward:
            # Late, so the owner's balance row is held only until the commit. The only
            # account this transaction touches: the requester paid at submission.
            kudos_reward(
                user=worker.owner,
                amount=reward,
                event_key=f"job-reward:{job.pk}",
                memo=reward_memo(request=request, job=job),
            )
        # The statistics count it in this transaction: once, and only if it finishes. Very
        # last: every finish of this model this minute adds to this one row, held to the commit.
        stats_count_finished(model_id=job.model_id, pixelsteps=request.width * request.height * request.steps, at=now)
    job.status = Job.Status.DONE
    job.finished_at = now
    return image, reward
