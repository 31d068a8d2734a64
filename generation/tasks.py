"""Celery entry points: GPU jobs (one queue per model) and housekeeping.

A GPU task carries only a job id. It claims through the one claim function
(`job_claim`, shared with HTTP workers), runs the backend outside any
transaction, and completes the job. A message delivered twice finds its job
taken and runs nothing (or the next best job, which is work that exists).
"""

from __future__ import annotations

import io
import logging
import os
import threading
import time
from dataclasses import dataclass
from typing import Any

from celery import shared_task

from generation import conf
from generation.backends import InferenceBackend, JobSpec, get_backend
from generation.models import Job, Worker
from generation.prompt import NEGATIVE_SEPARATOR
from generation.services import (
    GenerationError,
    job_claim,
    job_complete,
    job_fail,
    job_lease_renew,
    jobs_redispatch,
    jobs_requeue_expired,
)
from generation.services.dispatch import JOB_RUN_TASK

logger = logging.getLogger(__name__)

# Set by `manage.py gpu_worker` (environment, so Celery's pool processes see them too).
ENV_WORKER_ID = "HORDE_GPU_WORKER_ID"
ENV_BACKEND = "HORDE_GPU_BACKEND"


@dataclass
class GpuRuntime:
    worker: Worker
    backend: InferenceBackend


_runtime: GpuRuntime | None = None
_runtime_lock = threading.Lock()


def gpu_runtime() -> GpuRuntime | None:
    """This process's worker row and backend, loaded once (a GPU model is loaded once per process)."""
    global _runtime
    if _runtime is not None:
        return _runtime
    worker_id = os.environ.get(ENV_WORKER_ID)
    if not worker_id:
        return None
    with _runtime_lock:
        if _runtime is None:
            worker = Worker.objects.select_related("owner").get(pk=worker_id)
            _runtime = GpuRuntime(worker=worker, backend=get_backend(os.environ.get(ENV_BACKEND, "procedural")))
    return _runtime


def set_gpu_runtime(runtime: GpuRuntime | None) -> None:
    """Installed by `gpu_worker` so the backend it loaded is the one tasks use."""
    global _runtime
    _runtime = runtime


def job_spec(job: Job) -> JobSpec:
    request = job.request
    prompt, _, negative = request.prompt.partition(NEGATIVE_SEPARATOR)
    params = request.params or {}
    pipeline = job.pipeline
    return JobSpec(
        job_id=str(job.pk),
        model_name=job.model.name,
        pipeline_name=pipeline.name if pipeline else "default",
        pipeline_version=pipeline.version if pipeline else "1",
        recipe=dict(pipeline.recipe) if pipeline else {},
        prompt=prompt.strip(),
        negative_prompt=negative.strip(),
        width=request.width,
        height=request.height,
        steps=request.steps,
        seed=job.seed,
        cfg_scale=float(params.get("cfg_scale", 7.5)),
        sampler_name=str(params.get("sampler_name", "k_euler")),
        extra={key: value for key, value in params.items() if key not in ("cfg_scale", "sampler_name")},
    )


def webp_bytes(image: Any, quality: int = 90) -> bytes:
    out = io.BytesIO()
    # method=2 encodes a 1024x1024 image in about half the time of Pillow's default (4) for
    # files ~1-3% larger: the encode is most of what a worker adds around the GPU call.
    image.save(out, format="WEBP", quality=quality, method=2)
    return out.getvalue()


class LeaseKeeper:
    """Renews a running job's claim every third of its time-to-live, in a thread, so a job
    that runs longer than one TTL (a slow GPU, a big image) is not requeued under it.

    A failed renewal (the database restarted, the connection was cut) is logged and tried
    again next interval: two more chances before the claim lapses. It stops only when the
    job ends or the claim is gone. Housekeeping still requeues the claim of a worker that
    died: its keeper died with it.
    """

    def __init__(self, *, job: Job, worker: Worker) -> None:
        self.job, self.worker = job, worker
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"lease-{job.pk}", daemon=True)

    def _run(self) -> None:
        from django.db import connection

        interval = max(conf.job_ttl_seconds() / 3, 0.05)
        try:
            while not self.stop.wait(interval):
                try:
                    if not job_lease_renew(job=self.job, worker=self.worker):
                        return  # the claim is gone (cancelled, requeued): nothing left to keep
                except Exception:
                    logger.warning("could not renew the claim of job %s; trying again", self.job.pk, exc_info=True)
                    # Drop the broken connection: Django opens a fresh one for the next try
                    # (it would otherwise keep failing on the dead one).
                    connection.close()
        finally:
            connection.close()  # this thread's own connection

    def __enter__(self) -> LeaseKeeper:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()


@shared_task(name=JOB_RUN_TASK, acks_late=True, ignore_result=True)
def job_run(job_id: str) -> str:
    """Claim this job (or the best one this worker serves), generate, complete."""
    runtime = gpu_runtime()
    if runtime is None:
        logger.error("job_run %s reached a process that is not a GPU worker; ignored", job_id)
        return "not-a-gpu-worker"
    worker = runtime.worker
    job = job_claim(worker=worker, models=list(worker.model_names), max_pixels=worker.max_pixels, job_id=job_id)
    if job is None:
        return "nothing-to-do"
    logger.info("job %s started (message for %s)", job.pk, job_id)
    started = time.monotonic()
    try:
        with LeaseKeeper(job=job, worker=worker):
            image = runtime.backend.generate(job_spec(job))
            data = webp_bytes(image)
    except Exception:
        logger.exception("job %s failed in the backend", job.pk)
        job_fail(job=job, worker=worker, reason="backend error")
        return "failed"
    try:
        job_complete(
            job=job,
            worker=worker,
            image_bytes=data,
            seed=job.seed,
            inference_seconds=time.monotonic() - started,
        )
    except GenerationError as exc:
        # Cancelled or expired while we ran: nothing to pay, nothing to store.
        logger.warning("job %s not completed: %s %s", job.pk, exc.rc, exc.message)
        return exc.rc
    return "done"


@shared_task(name="generation.requeue_expired", ignore_result=True)
def requeue_expired() -> int:
    return jobs_requeue_expired()


@shared_task(name="generation.redispatch_queued", ignore_result=True)
def redispatch_queued() -> int:
    return jobs_redispatch()


@shared_task(name="generation.workers_uptime_reward", ignore_result=True)
def workers_uptime_reward() -> int:
    """Periodic (Celery beat): pay online workers for their uptime (generation.services.uptime)."""
    from .services.uptime import workers_uptime_reward as reward

    return reward()


@shared_task(name="generation.stats_compact", ignore_result=True)
def stats_compact() -> int:
    """Periodic (Celery beat): fold old statistics counters into coarser periods."""
    from .services.stats import stats_compact as compact

    return compact()


@shared_task(name="generation.maintenance_abort", ignore_result=True)
def maintenance_abort() -> int:
    """Periodic (Celery beat): in maintenance mode, cancel and refund the images not started."""
    from .services.maintenance import requests_abort_for_maintenance

    return requests_abort_for_maintenance()
