"""Claim, complete, fail, requeue, refund, redispatch, priority (services level)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from generation.models import GenerationRequest, Image, Job, Worker
from generation.pricing import job_kudos
from generation.services import (
    WorkerActionRefused,
    job_claim,
    job_complete,
    job_fail,
    job_refund_if_charged,
    jobs_redispatch,
    jobs_requeue_expired,
    request_cancel,
    request_submit,
)
from kudos.models import Transaction
from kudos.selectors import user_balance
from tests.kudos.ledger.helpers import assert_ledger_consistent

from .conftest import SD, SDXL, body, webp

BIG = 4096 * 4096


def test_a_claim_sets_worker_times_and_attempts(demo_models, alice, bob, make_worker, settings):
    settings.HORDE_JOB_TTL_SECONDS = 90
    request_submit(user=alice[0], body=body())
    worker = make_worker(bob[0])
    job = job_claim(worker=worker, models=[SD], max_pixels=BIG)
    job.refresh_from_db()
    assert job.status == Job.Status.CLAIMED
    assert job.worker == worker
    assert job.attempts == 1
    assert 89 <= (job.expires_at - job.claimed_at).total_seconds() <= 91
    assert job_claim(worker=worker, models=[SD], max_pixels=BIG) is None


def test_a_claim_by_job_id_takes_that_job_first(demo_models, alice, bob, make_worker):
    first = request_submit(user=alice[0], body=body()).request.jobs.get()
    second = request_submit(user=alice[0], body=body()).request.jobs.get()
    worker = make_worker(bob[0])
    assert job_claim(worker=worker, models=[SD], max_pixels=BIG, job_id=second.pk) == second
    # The message for a job that is gone still does useful work: the best other job.
    assert job_claim(worker=worker, models=[SD], max_pixels=BIG, job_id=second.pk) == first


def test_a_claim_skips_nsfw_requests_for_sfw_workers(demo_models, alice, bob, make_worker):
    request_submit(user=alice[0], body=body(nsfw=True))
    assert job_claim(worker=make_worker(bob[0], name="sfw"), models=[SD], max_pixels=BIG) is None
    assert job_claim(worker=make_worker(bob[0], name="nsfw", nsfw=True), models=[SD], max_pixels=BIG) is not None


def test_a_claim_honours_the_requests_worker_list(demo_models, alice, bob, make_worker):
    chosen, other = make_worker(bob[0], name="chosen"), make_worker(bob[0], name="other")
    request_submit(user=alice[0], body=body(workers=[str(chosen.pk)]))
    assert job_claim(worker=other, models=[SD], max_pixels=BIG) is None
    assert job_claim(worker=chosen, models=[SD], max_pixels=BIG) is not None


def test_trusted_only_requests_wait_for_trusted_owners(demo_models, alice, bob, charlie, make_worker):
    request_submit(user=alice[0], body=body(trusted_workers=True))
    assert job_claim(worker=make_worker(bob[0], name="untrusted"), models=[SD], max_pixels=BIG) is None
    charlie[0].trusted = True
    charlie[0].save()
    assert job_claim(worker=make_worker(charlie[0], name="trusted"), models=[SD], max_pixels=BIG) is not None


def test_richer_requesters_come_first_and_anonymous_last(demo_models, alice, make_user, anonymous, bob, make_worker):
    poor, _ = make_user("poor", kudos=10)
    rich, _ = make_user("rich", kudos=900_000)
    order = {}
    for user in (anonymous, poor, rich):
        order[request_submit(user=user, body=body()).request.jobs.get().pk] = user.username
    worker = make_worker(bob[0])
    claimed = [order[job_claim(worker=worker, models=[SD], max_pixels=BIG).pk] for _ in range(3)]
    assert claimed == ["rich", "poor", anonymous.username]


def test_aging_lets_an_old_request_overtake_a_richer_new_one(demo_models, alice, make_user, bob, make_worker, settings):
    settings.HORDE_PRIORITY_AGING_PER_SECOND = 1.0
    old = request_submit(user=alice[0], body=body()).request.jobs.get()  # alice has 1000 kudos
    richer, _ = make_user("richer", kudos=1500)
    new = request_submit(user=richer, body=body()).request.jobs.get()
    # Now: the richer one comes first.
    assert new.priority > old.priority
    # Had alice's job waited 10 minutes, 600 kudos of aging put it ahead (a static column does it).
    Job.objects.filter(pk=old.pk).update(priority=old.priority + 600 * 1.0)
    worker = make_worker(bob[0])
    assert job_claim(worker=worker, models=[SD], max_pixels=BIG).pk == old.pk


def test_equal_priority_is_served_oldest_first(demo_models, alice, bob, make_worker):
    jobs = [request_submit(user=alice[0], body=body()).request.jobs.get() for _ in range(3)]
    Job.objects.update(priority=5.0)
    worker = make_worker(bob[0])
    assert [job_claim(worker=worker, models=[SD], max_pixels=BIG).pk for _ in range(3)] == [j.pk for j in jobs]


def test_submit_charges_and_complete_stores_the_image_and_rewards_once(demo_models, alice, bob, make_worker):
    start = user_balance(user=alice[0]), user_balance(user=bob[0])
    request = request_submit(user=alice[0], body=body()).request
    price = job_kudos(width=512, height=512, steps=20)
    assert user_balance(user=alice[0]) == start[0] - price  # paid when it was submitted
    worker = make_worker(bob[0])
    job = job_claim(worker=worker, models=[SD], max_pixels=BIG)
    completion = job_complete(job=job, worker=worker, image_bytes=webp(512, 512), seed=99, inference_seconds=2.0)
    assert completion.reward == price
    assert user_balance(user=alice[0]) == start[0] - price  # not charged again
    assert user_balance(user=bob[0]) == start[1] + price
    image = Image.objects.get()
    assert (image.width, image.height, image.seed, image.worker) == (512, 512, 99, worker)
    assert image.file.name.endswith(".webp")
    request.refresh_from_db()
    assert request.status == GenerationRequest.Status.DONE
    worker.refresh_from_db()
    assert worker.jobs_done == 1
    assert worker.kudos_earned == price
    assert worker.seconds_busy == pytest.approx(2.0)
    with pytest.raises(WorkerActionRefused) as caught:
        job_complete(job=job, worker=worker, image_bytes=webp(512, 512), seed=99)
    assert caught.value.rc == "DuplicateGen"
    assert (user_balance(user=alice[0]), user_balance(user=bob[0])) == (start[0] - price, start[1] + price)
    assert Image.objects.count() == 1


def test_a_pair_is_done_only_when_both_images_are_in(demo_models, alice, bob, make_worker):
    request = request_submit(user=alice[0], body=body(models=[SDXL], params={"width": 1024, "height": 1024})).request
    worker = make_worker(bob[0], kind=Worker.Kind.CELERY)  # a worker staff trust with comparisons
    first, second = (job_claim(worker=worker, models=[SDXL], max_pixels=BIG) for _ in range(2))
    job_complete(job=first, worker=worker, image_bytes=webp(1024, 1024), seed=first.seed)
    request.refresh_from_db()
    assert request.status == GenerationRequest.Status.PROCESSING
    job_complete(job=second, worker=worker, image_bytes=webp(1024, 1024), seed=second.seed)
    request.refresh_from_db()
    assert request.status == GenerationRequest.Status.DONE


def test_an_expired_claim_goes_back_to_the_queue(demo_models, alice, bob, make_worker):
    request_submit(user=alice[0], body=body())
    worker = make_worker(bob[0])
    job = job_claim(worker=worker, models=[SD], max_pixels=BIG)
    assert jobs_requeue_expired() == 0
    assert jobs_requeue_expired(now=timezone.now() + timedelta(hours=1)) == 1
    job.refresh_from_db()
    assert (job.status, job.worker, job.expires_at) == (Job.Status.QUEUED, None, None)
    assert GenerationRequest.objects.get(pk=job.request_id).faults == 1
    # The vanished worker's late submit is refused and pays nothing.
    with pytest.raises(WorkerActionRefused) as caught:
        job_complete(job=job_claimed_copy(job, worker), worker=worker, image_bytes=webp(512, 512))
    assert caught.value.rc == "AbortedGen"


def job_claimed_copy(job: Job, worker) -> Job:
    """The job as the vanished worker still believes it is."""
    job.status, job.worker = Job.Status.CLAIMED, worker
    return job


def test_too_many_failures_fault_the_request_and_refund_every_image_not_made(
    demo_models, alice, bob, make_worker, settings
):
    settings.HORDE_MAX_JOB_ATTEMPTS = 2
    start = user_balance(user=alice[0])
    request = request_submit(user=alice[0], body=body(params={"n": 3})).request
    price = job_kudos(width=512, height=512, steps=20)
    assert user_balance(user=alice[0]) == start - 3 * price
    worker = make_worker(bob[0])
    done = job_claim(worker=worker, models=[SD], max_pixels=BIG)
    job_complete(job=done, worker=worker, image_bytes=webp(512, 512))
    for _ in range(2):
        failing = job_claim(worker=worker, models=[SD], max_pixels=BIG)
        job_fail(job=failing, worker=worker, reason="test")
    request.refresh_from_db()
    assert request.status == GenerationRequest.Status.FAULTED
    statuses = sorted(request.jobs.values_list("status", flat=True))
    assert statuses == sorted([Job.Status.DONE, Job.Status.FAULTED, Job.Status.CANCELLED])
    assert user_balance(user=alice[0]) == start - price  # only the delivered image stays paid
    not_made = request.jobs.exclude(status=Job.Status.DONE)
    refunds = Transaction.objects.filter(kind=Transaction.Kind.REFUND)
    assert sorted(refunds.values_list("event_key", flat=True)) == sorted(f"job-refund:{job.pk}" for job in not_made)
    assert not refunds.filter(event_key=f"job-refund:{done.pk}").exists()
    assert request.faults == 2
    assert_ledger_consistent()


def test_a_jobs_refund_is_posted_once(demo_models, alice):
    start = user_balance(user=alice[0])
    request = request_submit(user=alice[0], body=body()).request
    job = request.jobs.select_related("request__user").get()
    assert user_balance(user=alice[0]) == start - job.kudos
    assert job_refund_if_charged(job=job, reason="cancelled") is True
    assert job_refund_if_charged(job=job, reason="cancelled") is False
    assert user_balance(user=alice[0]) == start
    assert Transaction.objects.filter(event_key=f"job-refund:{job.pk}").count() == 1


def test_a_job_never_charged_has_nothing_to_refund(demo_models, alice):
    # A job written straight to the database (no submission, so no charge).
    request = request_submit(user=alice[0], body=body()).request
    uncharged = Job.objects.create(
        request=request, index=1, position=1, model=request.model, seed=1, kudos=5, status=Job.Status.QUEUED
    )
    uncharged.request = request
    start = user_balance(user=alice[0])
    assert job_refund_if_charged(job=uncharged, reason="cancelled") is False
    assert user_balance(user=alice[0]) == start


def test_cancel_after_one_image_keeps_that_charge_and_refunds_the_other(demo_models, alice, bob, make_worker):
    start = user_balance(user=alice[0])
    request = request_submit(user=alice[0], body=body(params={"n": 2})).request
    price = job_kudos(width=512, height=512, steps=20)
    worker = make_worker(bob[0])
    job = job_claim(worker=worker, models=[SD], max_pixels=BIG)
    job_complete(job=job, worker=worker, image_bytes=webp(512, 512))
    assert user_balance(user=alice[0]) == start - 2 * price
    cancellation = request_cancel(request=request, user=alice[0])
    assert (cancellation.cancelled, cancellation.refunded, cancellation.running) == (1, price, 0)
    assert cancellation.message == f"Cancelled 1 image that had not started; refunded {price} kudos."
    request.refresh_from_db()
    assert request.status == GenerationRequest.Status.CANCELLED
    assert user_balance(user=alice[0]) == start - price
    assert job_claim(worker=worker, models=[SD], max_pixels=BIG) is None
    # A second cancel finds nothing to cancel and refunds nothing more.
    again = request_cancel(request=request, user=alice[0])
    assert (again.cancelled, again.refunded) == (0, 0)
    assert again.message == "Nothing was waiting to be cancelled, so nothing was refunded."
    assert user_balance(user=alice[0]) == start - price
    assert_ledger_consistent()


def test_redispatch_sends_stale_queued_jobs_again(demo_models, alice, bob, make_worker, settings, monkeypatch):
    from generation.services import dispatch

    sent = []
    monkeypatch.setattr(dispatch.app, "send_task", lambda name, args, queue: sent.append((args[0], queue)))
    monkeypatch.setattr(dispatch, "queue_message_count", lambda queue: 0)  # the broker lost everything
    settings.HORDE_REDISPATCH_AFTER_SECONDS = 60
    fresh = request_submit(user=alice[0], body=body()).request.jobs.get()
    stale = request_submit(user=alice[0], body=body(models=[SDXL], params={"width": 1024, "height": 1024})).request
    Job.objects.filter(request=stale).update(dispatched_at=timezone.now() - timedelta(minutes=5))
    claimed = request_submit(user=alice[0], body=body()).request.jobs.get()
    Job.objects.filter(pk=claimed.pk).update(
        status=Job.Status.CLAIMED, dispatched_at=timezone.now() - timedelta(hours=1)
    )
    assert jobs_redispatch() == 2
    assert sorted(sent) == sorted((str(job.pk), "model.sdxl_beta") for job in stale.jobs.all())
    assert fresh.pk not in {job_id for job_id, _ in sent}
    assert jobs_redispatch() == 0  # their dispatch time was renewed


def test_a_running_job_of_a_cancelled_request_that_fails_is_not_requeued(demo_models, alice, bob, make_worker):
    request = request_submit(user=alice[0], body=body(params={"n": 2})).request
    worker = make_worker(bob[0])
    running = job_claim(worker=worker, models=[SD], max_pixels=BIG)
    request_cancel(request=request, user=alice[0])
    request.refresh_from_db()
    assert request.status == GenerationRequest.Status.PROCESSING  # one job still runs
    job_fail(job=running, worker=worker, reason="test")
    running.refresh_from_db()
    request.refresh_from_db()
    assert running.status == Job.Status.CANCELLED
    assert request.status == GenerationRequest.Status.CANCELLED
    assert job_claim(worker=worker, models=[SD], max_pixels=BIG) is None


def test_redispatch_leaves_an_intact_broker_queue_alone(demo_models, alice, settings, monkeypatch):
    from generation.services import dispatch

    sent = []
    monkeypatch.setattr(dispatch.app, "send_task", lambda name, args, queue: sent.append(args[0]))
    settings.HORDE_REDISPATCH_AFTER_SECONDS = 60
    jobs = [request_submit(user=alice[0], body=body()).request.jobs.get() for _ in range(3)]
    Job.objects.update(dispatched_at=timezone.now() - timedelta(minutes=5))
    # Three jobs wait and three messages wait: the workers are just busy.
    monkeypatch.setattr(dispatch, "queue_message_count", lambda queue: 3)
    assert jobs_redispatch() == 0
    # One message was lost: one more is sent, for the job waiting longest.
    monkeypatch.setattr(dispatch, "queue_message_count", lambda queue: 2)
    Job.objects.filter(pk=jobs[1].pk).update(dispatched_at=timezone.now() - timedelta(minutes=9))
    assert jobs_redispatch() == 1
    assert sent == [str(jobs[1].pk)]


def test_the_broker_counts_messages_of_a_queue(demo_models):
    import redis
    from django.conf import settings as django_settings

    from generation.services.dispatch import queue_message_count
    from generation.tasks import job_run

    queue = f"model.count-test-{uuid.uuid4().hex}"
    try:
        job_run.apply_async(args=[str(uuid.uuid4())], queue=queue)
        job_run.apply_async(args=[str(uuid.uuid4())], queue=queue)
        assert queue_message_count(queue) == 2
    finally:
        redis.Redis.from_url(django_settings.CELERY_BROKER_URL).delete(queue)


def test_a_worker_of_several_models_takes_the_best_job_across_them(demo_models, alice, make_user, bob, make_worker):
    # The claim walks each model's queue separately; the best of their heads wins.
    poor, _ = make_user("poor", kudos=10)
    rich, _ = make_user("rich", kudos=900_000)
    sd_job = request_submit(user=poor, body=body(models=[SD])).request.jobs.get()
    beta_jobs = list(
        request_submit(user=rich, body=body(models=[SDXL], params={"width": 1024, "height": 1024})).request.jobs.all()
    )
    worker = make_worker(bob[0], kind=Worker.Kind.CELERY)  # a worker staff trust with comparisons

    claimed = [job_claim(worker=worker, models=[SD, SDXL], max_pixels=BIG) for _ in range(3)]

    assert {job.pk for job in claimed[:2]} == {job.pk for job in beta_jobs}
    assert claimed[2].pk == sd_job.pk
    assert job_claim(worker=worker, models=[SD, SDXL], max_pixels=BIG) is None
