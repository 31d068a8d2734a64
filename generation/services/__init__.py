"""Writes of the generation app, split by verb: submit and cancel requests, claim,
complete and fail jobs, housekeeping, dispatch to Celery, worker registration.

Only generation.tasks imports Celery tasks; these services send messages by task name
(dispatch.JOB_RUN_TASK), so nothing here imports the tasks module.
"""

from __future__ import annotations

from generation.serializers import SAMPLERS

from .cancel import Cancellation, request_cancel
from .claim import job_claim, job_lease_renew, jobs_claim, jobs_skipped, worker_serves_comparisons
from .complete import Completion, job_complete
from .dispatch import jobs_dispatch, jobs_redispatch
from .errors import GenerationError, RequestRefused, WorkerActionRefused
from .fail import job_fail
from .housekeeping import jobs_requeue_expired
from .priority import job_priority, jobs_reprioritize
from .request_state import job_refund_if_charged, jobs_refund, request_status_refresh
from .storage import r2_staging_name
from .submit import SubmitResult, ValidSubmission, request_submit, request_validate
from .workers import worker_heartbeat, worker_models_set, worker_register_celery, worker_register_http

__all__ = [
    "SAMPLERS",
    "Cancellation",
    "Completion",
    "GenerationError",
    "RequestRefused",
    "SubmitResult",
    "ValidSubmission",
    "WorkerActionRefused",
    "job_claim",
    "job_complete",
    "job_fail",
    "job_lease_renew",
    "job_priority",
    "job_refund_if_charged",
    "jobs_claim",
    "jobs_dispatch",
    "jobs_redispatch",
    "jobs_refund",
    "jobs_reprioritize",
    "jobs_requeue_expired",
    "jobs_skipped",
    "r2_staging_name",
    "request_cancel",
    "request_status_refresh",
    "request_submit",
    "request_validate",
    "worker_heartbeat",
    "worker_models_set",
    "worker_register_celery",
    "worker_register_http",
    "worker_serves_comparisons",
]
