"""Writes of the generation app (see each module): submit and cancel requests,
claim and complete jobs, housekeeping, worker registration."""

from __future__ import annotations

from .errors import SubmitError
from .queue import (
    Completion,
    job_claim,
    job_complete,
    job_fail,
    job_refund_if_charged,
    jobs_claim,
    jobs_redispatch,
    jobs_requeue_expired,
    request_status_refresh,
)
from .submit import (
    SAMPLERS,
    SubmitResult,
    ValidSubmission,
    job_priority,
    jobs_dispatch,
    request_cancel,
    request_submit,
    request_validate,
)
from .workers import worker_heartbeat, worker_register_celery, worker_register_http

__all__ = [
    "SAMPLERS",
    "Completion",
    "SubmitError",
    "SubmitResult",
    "ValidSubmission",
    "job_claim",
    "job_complete",
    "job_fail",
    "job_priority",
    "job_refund_if_charged",
    "jobs_claim",
    "jobs_dispatch",
    "jobs_redispatch",
    "jobs_requeue_expired",
    "request_cancel",
    "request_status_refresh",
    "request_submit",
    "request_validate",
    "worker_heartbeat",
    "worker_register_celery",
    "worker_register_http",
]
