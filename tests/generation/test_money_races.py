"""Cancel racing the claim and completion of the same job, on PostgreSQL with threads.

The pair: a naive cancel (read the waiting jobs, then cancel and refund them) refunds
an image a worker claimed and delivered in between; `request_cancel` (request row,
then the queued job rows locked, the status checked again under the lock) never does,
and never leaves a cancelled job charged. Every job ends one way or the other: made,
charged once and its worker paid; or cancelled, charged and refunded once, nobody paid.
"""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, transaction

from generation.models import GenerationRequest, Image, Job
from generation.services import cancel as cancel_module
from generation.services import job_claim, job_complete, jobs_refund, request_cancel, request_submit
from kudos.models import Transaction
from kudos.selectors import user_balance
from tests.kudos.ledger.helpers import assert_ledger_consistent, run_together

from .conftest import SD, body, webp

pytestmark = pytest.mark.django_db(transaction=True)
BIG = 4096 * 4096


@pytest.fixture(autouse=True)
def _no_celery(settings):
    settings.HORDE_CELERY_DISPATCH = False


def events(job: Job) -> dict[str, int]:
    keys = Transaction.objects.filter(event_key__endswith=str(job.pk)).values_list("event_key", flat=True)
    return {kind: sum(key == f"job-{kind}:{job.pk}" for key in keys) for kind in ("charge", "refund", "reward")}


def outcome(job: Job) -> str:
    """'made' or 'cancelled' when the job's money matches its fate, else what is wrong."""
    job.refresh_from_db()
    money = events(job)
    has_image = Image.objects.filter(job=job).exists()
    if job.status == Job.Status.DONE and has_image and money == {"charge": 1, "refund": 0, "reward": 1}:
        return "made"
    if job.status == Job.Status.CANCELLED and not has_image and money == {"charge": 1, "refund": 1, "reward": 0}:
        return "cancelled"
    return f"broken: status {job.status}, image {has_image}, ledger {money}"


def claim_and_complete(worker) -> str | None:
    job = job_claim(worker=worker, models=[SD], max_pixels=BIG)
    if job is None:
        return None
    job_complete(job=job, worker=worker, image_bytes=webp(512, 512))
    return str(job.pk)


def naive_cancel(request: GenerationRequest, read: threading.Event, completed: threading.Event) -> None:
    """What the guard prevents: read the waiting jobs, then cancel and refund them, in two steps."""
    waiting = list(Job.objects.filter(request=request, status=Job.Status.QUEUED))
    read.set()
    completed.wait(timeout=10)  # a worker claims and delivers one meanwhile: the race, made certain
    with transaction.atomic():
        Job.objects.filter(pk__in=[job.pk for job in waiting]).update(status=Job.Status.CANCELLED)
        jobs_refund(request=GenerationRequest.objects.get(pk=request.pk), jobs=waiting, reason="cancelled")


def test_the_race_shows_without_the_guard(demo_models, alice, bob, make_worker):
    assert connection.vendor == "postgresql"
    request = request_submit(user=alice[0], body=body()).request
    job = request.jobs.get()
    worker = make_worker(bob[0])
    read, completed = threading.Event(), threading.Event()

    def work() -> str | None:
        read.wait(timeout=10)
        try:
            return claim_and_complete(worker)
        finally:
            completed.set()

    outcomes = run_together([lambda: naive_cancel(request, read, completed), work])

    assert [o.error for o in outcomes if o.error] == []
    assert outcomes[1].value == str(job.pk)  # the worker delivered the image...
    assert Image.objects.filter(job=job).exists()
    assert events(job) == {"charge": 1, "refund": 1, "reward": 1}  # ...and it was refunded anyway
    assert outcome(job).startswith("broken")


def test_with_the_guard_a_cancel_holding_its_locks_keeps_the_worker_off_the_job(
    demo_models, alice, bob, make_worker, monkeypatch
):
    start = user_balance(user=alice[0])
    request = request_submit(user=alice[0], body=body()).request
    job = request.jobs.get()
    worker = make_worker(bob[0])
    locked = threading.Event()
    real_refund = cancel_module.jobs_refund

    def slow_refund(**kwargs):
        locked.set()  # the job is cancelled, not yet committed, its row locked
        time.sleep(0.5)
        return real_refund(**kwargs)

    monkeypatch.setattr(cancel_module, "jobs_refund", slow_refund)

    def work() -> list:
        locked.wait(timeout=10)
        during = claim_and_complete(worker)  # SKIP LOCKED: passes over the cancelling row
        time.sleep(0.7)
        return [during, claim_and_complete(worker)]  # after the commit: cancelled, not claimable

    outcomes = run_together([lambda: request_cancel(request=request, user=alice[0]), work])

    assert [o.error for o in outcomes if o.error] == []
    assert outcomes[0].value.refunded == job.kudos
    assert outcomes[1].value == [None, None]
    assert outcome(job) == "cancelled"
    assert user_balance(user=alice[0]) == start
    assert_ledger_consistent()


def test_with_the_guard_every_job_is_either_made_and_paid_or_cancelled_and_refunded(
    demo_models, alice, bob, make_worker
):
    worker = make_worker(bob[0])
    fates = []
    for _ in range(12):
        request = request_submit(user=alice[0], body=body()).request
        job = request.jobs.get()
        outcomes = run_together(
            [lambda request=request: request_cancel(request=request, user=alice[0]), lambda: claim_and_complete(worker)]
        )
        assert [o.error for o in outcomes if o.error] == []
        fates.append(outcome(job))
    assert set(fates) <= {"made", "cancelled"}, fates
    made = fates.count("made")
    charged = Transaction.objects.filter(kind=Transaction.Kind.GENERATION).count()
    refunded = Transaction.objects.filter(kind=Transaction.Kind.REFUND).count()
    assert (charged, refunded) == (12, 12 - made)
    assert Transaction.objects.filter(kind=Transaction.Kind.WORKER_REWARD).count() == made
    assert_ledger_consistent()
