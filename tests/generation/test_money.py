"""Money of a request: charged at submission, rewards at completion (none for serving
yourself), refunds that really happen, and a queue priority that follows what you can pay."""

from __future__ import annotations

import importlib
import itertools

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext

from generation import conf
from generation.models import GenerationRequest, Job, Worker
from generation.pricing import job_kudos
from generation.services import (
    job_claim,
    job_complete,
    job_fail,
    job_priority,
    request_cancel,
    request_submit,
)
from kudos.models import Transaction
from kudos.selectors import user_balance
from tests.kudos.ledger.helpers import assert_ledger_consistent

from .conftest import SD, body, webp

BIG = 4096 * 4096
PRICE = job_kudos(width=512, height=512, steps=20)


@pytest.fixture(autouse=True)
def _no_celery(settings):
    settings.HORDE_CELERY_DISPATCH = False


def charges_of(request: GenerationRequest) -> list[str]:
    return sorted(
        Transaction.objects.filter(kind=Transaction.Kind.GENERATION, event_key__startswith="job-charge:")
        .filter(event_key__in=[f"job-charge:{pk}" for pk in request.jobs.values_list("pk", flat=True)])
        .values_list("event_key", flat=True)
    )


# --- charged at submission -------------------------------------------------------------


def test_submit_charges_each_job_once_with_its_event_key(demo_models, alice):
    start = user_balance(user=alice[0])
    request = request_submit(user=alice[0], body=body(params={"n": 3})).request
    assert charges_of(request) == sorted(f"job-charge:{job.pk}" for job in request.jobs.all())
    assert user_balance(user=alice[0]) == start - 3 * PRICE
    memos = set(Transaction.objects.filter(kind=Transaction.Kind.GENERATION).values_list("memo", flat=True))
    assert f"Charged for image 2 of 3, request {str(request.pk)[:8]}" in memos
    assert_ledger_consistent()


def test_a_user_with_nothing_may_submit_and_goes_below_zero(demo_models, charlie):
    request_submit(user=charlie[0], body=body())
    assert user_balance(user=charlie[0]) == -PRICE


def test_a_dry_run_charges_nothing(demo_models, alice):
    start = user_balance(user=alice[0])
    request_submit(user=alice[0], body=body(dry_run=True))
    assert user_balance(user=alice[0]) == start
    assert not Transaction.objects.filter(kind=Transaction.Kind.GENERATION).exists()


def test_anonymous_requests_are_charged_too(demo_models, anonymous):
    request = request_submit(user=anonymous, body=body()).request
    assert len(charges_of(request)) == 1
    assert user_balance(user=anonymous) == -PRICE
    assert_ledger_consistent()


def test_a_submit_that_fails_after_the_charge_charges_nothing(demo_models, alice, monkeypatch):
    start = user_balance(user=alice[0])

    def broken(*args, **kwargs):
        raise RuntimeError("the jobs' insert failed")

    monkeypatch.setattr(Job.objects, "bulk_create", broken)
    with pytest.raises(RuntimeError):
        request_submit(user=alice[0], body=body(params={"n": 2}))
    assert user_balance(user=alice[0]) == start
    assert not GenerationRequest.objects.exists()
    assert not Transaction.objects.filter(kind=Transaction.Kind.GENERATION).exists()


def test_submit_costs_a_fixed_number_of_queries_however_many_images(demo_models, alice):
    counts = []
    request_submit(user=alice[0], body=body())  # the accounts exist from here on
    for n in (1, 4):
        with CaptureQueriesContext(connection) as queries:
            request_submit(user=alice[0], body=body(params={"n": n}))
        counts.append(len(queries))
    assert counts[0] == counts[1]
    # Model, pipelines; savepoint, request insert; the ledger's savepoint, accounts,
    # transactions insert, balance update, entries insert, release; jobs insert; release.
    # 7 -> 12 when charging moved here: the ledger's six, less the balance read; 13 with
    # the count of the requester's waiting requests (the TooManyPrompts cap); 14 with the
    # site's modes (maintenance mode refuses every submit).
    assert counts[0] <= 14


# --- completion: the worker's reward, none for serving yourself -------------------------


def test_completion_rewards_another_users_worker_and_charges_nothing_more(demo_models, alice, bob, make_worker):
    request_submit(user=alice[0], body=body())
    paid, bob_before = user_balance(user=alice[0]), user_balance(user=bob[0])
    worker = make_worker(bob[0])
    job = job_claim(worker=worker, models=[SD], max_pixels=BIG)
    assert job_complete(job=job, worker=worker, image_bytes=webp(512, 512)).reward == PRICE
    assert user_balance(user=alice[0]) == paid
    assert user_balance(user=bob[0]) == bob_before + PRICE
    reward = Transaction.objects.get(event_key=f"job-reward:{job.pk}")
    assert reward.memo.startswith("Made image 1 of 1, request ")


@pytest.mark.parametrize("kind", [Worker.Kind.HTTP, Worker.Kind.CELERY])
def test_a_job_served_by_the_requesters_own_worker_pays_nobody(demo_models, alice, make_worker, kind):
    # (A comparison is never even claimed by the requester's own worker: see test_comparison_claims.)
    model, size = SD, 512
    start = user_balance(user=alice[0])
    request = request_submit(user=alice[0], body=body(models=[model], params={"width": size, "height": size})).request
    charged = start - user_balance(user=alice[0])
    assert charged == request.kudos
    worker = make_worker(alice[0], kind=kind)
    for _ in range(request.jobs.count()):
        claimed = job_claim(worker=worker, models=[model], max_pixels=BIG)
        assert job_complete(job=claimed, worker=worker, image_bytes=webp(size, size)).reward == 0
    request.refresh_from_db()
    assert request.status == GenerationRequest.Status.DONE
    assert user_balance(user=alice[0]) == start - charged  # still charged, nothing paid back
    assert not Transaction.objects.filter(kind=Transaction.Kind.WORKER_REWARD).exists()
    worker.refresh_from_db()
    assert (worker.kudos_earned, worker.jobs_done) == (0, request.jobs.count())
    assert_ledger_consistent()


# --- refunds that really happen ---------------------------------------------------------


def test_cancel_refunds_the_waiting_jobs_once_and_says_so(demo_models, alice, bob, make_worker):
    start = user_balance(user=alice[0])
    request = request_submit(user=alice[0], body=body(params={"n": 3})).request
    worker = make_worker(bob[0])
    running = job_claim(worker=worker, models=[SD], max_pixels=BIG)
    cancellation = request_cancel(request=request, user=alice[0])
    assert (cancellation.cancelled, cancellation.refunded, cancellation.running) == (2, 2 * PRICE, 1)
    assert cancellation.message == (
        f"Cancelled 2 images that had not started; refunded {2 * PRICE} kudos. "
        "1 image already being made will finish and stay paid."
    )
    assert user_balance(user=alice[0]) == start - PRICE
    refunds = Transaction.objects.filter(kind=Transaction.Kind.REFUND)
    assert refunds.count() == 2
    assert not refunds.filter(event_key=f"job-refund:{running.pk}").exists()
    assert all("cancelled" in memo for memo in refunds.values_list("memo", flat=True))
    # The running job finishes and stays paid; a second cancel refunds nothing.
    job_complete(job=running, worker=worker, image_bytes=webp(512, 512))
    assert request_cancel(request=request, user=alice[0]).refunded == 0
    assert user_balance(user=alice[0]) == start - PRICE
    assert refunds.count() == 2
    assert_ledger_consistent()


def test_a_job_that_fails_after_its_request_was_cancelled_is_refunded(demo_models, alice, bob, make_worker):
    start = user_balance(user=alice[0])
    request = request_submit(user=alice[0], body=body(params={"n": 2})).request
    worker = make_worker(bob[0])
    running = job_claim(worker=worker, models=[SD], max_pixels=BIG)
    request_cancel(request=request, user=alice[0])
    job_fail(job=running, worker=worker, reason="test")
    assert user_balance(user=alice[0]) == start  # neither image was made: both refunded
    assert Transaction.objects.filter(event_key=f"job-refund:{running.pk}").count() == 1
    assert_ledger_consistent()


def test_a_fault_refunds_every_image_not_made_once(demo_models, alice, bob, make_worker, settings):
    settings.HORDE_MAX_JOB_ATTEMPTS = 1
    start = user_balance(user=alice[0])
    request = request_submit(user=alice[0], body=body(params={"n": 2})).request
    worker = make_worker(bob[0])
    failing = job_claim(worker=worker, models=[SD], max_pixels=BIG)
    job_fail(job=failing, worker=worker, reason="test")
    request.refresh_from_db()
    assert request.status == GenerationRequest.Status.FAULTED
    assert user_balance(user=alice[0]) == start
    assert Transaction.objects.filter(kind=Transaction.Kind.REFUND).count() == 2
    job_fail(job=failing, worker=worker, reason="again")  # a late repeat changes nothing
    assert Transaction.objects.filter(kind=Transaction.Kind.REFUND).count() == 2
    assert_ledger_consistent()


# --- priority from what you can pay -----------------------------------------------------


def test_a_user_sliding_into_debt_gets_falling_priority(demo_models, make_user, settings):
    settings.HORDE_MAX_WAITING_REQUESTS = 50  # all 50 wait at once
    dave, _ = make_user("dave", kudos=10 * PRICE)
    priorities, bases = [], []
    for _ in range(50):
        job = request_submit(user=dave, body=body()).request.jobs.get()
        priorities.append(job.priority)
        bases.append(job.priority + conf.aging_per_second() * job.created_at.timestamp())
    assert user_balance(user=dave) == -40 * PRICE
    assert all(later < earlier for earlier, later in itertools.pairwise(priorities))
    # Not only aging: what the requester can pay falls with every request, past zero too.
    assert all(later < earlier for earlier, later in itertools.pairwise(bases))
    assert bases[8] >= 0 > conf.debt_priority() >= bases[10]
    assert min(bases) > conf.anonymous_priority()


def test_a_user_in_debt_is_claimed_after_a_user_who_is_not_and_before_anonymous(
    demo_models, alice, charlie, anonymous, bob, make_worker
):
    order = {}
    # Charlie (0 kudos, so in debt once charged) and anonymous submit first; Alice last.
    for user in (charlie[0], anonymous, alice[0]):
        order[request_submit(user=user, body=body()).request.jobs.get().pk] = user.username
    assert user_balance(user=charlie[0]) < 0 <= user_balance(user=alice[0])
    worker = make_worker(bob[0])
    claimed = [order[job_claim(worker=worker, models=[SD], max_pixels=BIG).pk] for _ in range(3)]
    assert claimed == ["alice", "charlie", anonymous.username]


def test_debt_however_deep_stays_above_anonymous_and_aging_still_lets_it_through(anonymous, alice):
    at = 1_000_000.0
    shallow = job_priority(user=alice[0], balance=-1, created_epoch=at)
    deep = job_priority(user=alice[0], balance=-(10**12), created_epoch=at)
    anon = job_priority(user=anonymous, balance=None, created_epoch=at)
    broke = job_priority(user=alice[0], balance=0, created_epoch=at)
    assert broke > shallow > deep > anon
    # Near zero a kudo of debt costs about a kudo of priority, as above zero.
    assert shallow == pytest.approx(broke + conf.debt_priority() - 1, abs=0.01)
    # A job in debt that has waited long enough overtakes a fresh job of someone not in debt.
    waited = -conf.debt_priority() / conf.aging_per_second() + 60
    assert shallow > job_priority(user=alice[0], balance=0, created_epoch=at + waited)


# --- jobs left waiting at the upgrade ---------------------------------------------------


def test_the_upgrade_charges_waiting_jobs_that_were_never_charged(demo_models, alice):
    migration = importlib.import_module("generation.migrations.0003_charge_unpaid_waiting_jobs")
    paid = request_submit(user=alice[0], body=body()).request  # already charged
    legacy = GenerationRequest.objects.create(
        user=alice[0], model=demo_models[SD], prompt="old", width=512, height=512, steps=20, seed=1, n=2, kudos=12
    )
    queued = Job.objects.create(request=legacy, index=0, position=0, model=legacy.model, seed=1, kudos=6)
    Job.objects.create(request=legacy, index=1, position=1, model=legacy.model, seed=1, kudos=6, status="done")
    before = user_balance(user=alice[0])

    migration.charge_unpaid_waiting_jobs(apps, None)
    migration.charge_unpaid_waiting_jobs(apps, None)  # run twice: charges once

    assert user_balance(user=alice[0]) == before - 6
    assert Transaction.objects.filter(event_key=f"job-charge:{queued.pk}").count() == 1
    assert len(charges_of(paid)) == 1
    assert_ledger_consistent()
