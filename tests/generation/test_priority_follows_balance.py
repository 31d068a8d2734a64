"""Priority follows the balance (issue 8, point 8): a waiting job's priority moves with what its
requester can still pay, not what they could at submission.

The ledger sends `balance_changed` after each commit that moved a balance; generation
reprices that user's waiting jobs (one UPDATE, the submission's base, aged from each job's
own creation). The paired race tests on PostgreSQL are in test_priority_races.py.
"""

from __future__ import annotations

import pytest

from generation import conf
from generation.models import Job
from generation.services import job_claim, job_priority, request_submit
from kudos.selectors import user_balance
from kudos.services import kudos_adjust

from .conftest import SD, body

pytestmark = pytest.mark.django_db

BIG = 4096 * 4096


@pytest.fixture(autouse=True)
def _no_celery(settings):
    settings.HORDE_CELERY_DISPATCH = False


def transfer(api_client, key: str, username: str, amount: int) -> None:
    response = api_client.post(
        "/api/v2/kudos/transfer", {"username": username, "amount": amount}, format="json", HTTP_APIKEY=key
    )
    assert response.status_code == 200, response.json()


def priced_at(job: Job, balance: int) -> float:
    """What job_priority gives this job for `balance`, aged from its own creation."""
    job.refresh_from_db()
    return job_priority(user=job.request.user, balance=balance, created_epoch=job.created_at.timestamp())


def test_sending_everything_away_queues_you_behind_a_user_who_can_pay_and_receiving_kudos_brings_you_back(
    demo_models, api_client, alice, bob, make_user, make_worker, django_capture_on_commit_callbacks
):
    dave, _ = make_user("dave", kudos=100)
    mine = request_submit(user=alice[0], body=body()).request.jobs.get()
    daves = [request_submit(user=dave, body=body()).request.jobs.get() for _ in range(2)]
    assert mine.priority > max(job.priority for job in daves)  # 994 kudos left against 88

    with django_capture_on_commit_callbacks(execute=True):
        transfer(api_client, alice[1], "bob", user_balance(user=alice[0]))
    assert user_balance(user=alice[0]) == 0
    mine.refresh_from_db()
    assert mine.priority == pytest.approx(priced_at(mine, 0), abs=1e-3)
    assert mine.priority < min(Job.objects.get(pk=job.pk).priority for job in daves)
    worker = make_worker(bob[0])
    assert job_claim(worker=worker, models=[SD], max_pixels=BIG).request.user_id == dave.pk

    with django_capture_on_commit_callbacks(execute=True):
        transfer(api_client, bob[1], "alice", 500)
    mine.refresh_from_db()
    assert mine.priority == pytest.approx(priced_at(mine, 500), abs=1e-3)
    assert job_claim(worker=worker, models=[SD], max_pixels=BIG).pk == mine.pk  # ahead of Dave's other job


def test_a_staff_adjustment_into_debt_queues_your_waiting_jobs_behind_a_user_at_zero(
    demo_models, alice, make_user, make_worker, django_capture_on_commit_callbacks
):
    price = int(request_submit(user=alice[0], body=body()).request.kudos)
    erin, _ = make_user("erin", kudos=price)
    hers = request_submit(user=erin, body=body()).request.jobs.get()  # she can pay it: 0 left
    assert user_balance(user=erin) == 0
    with django_capture_on_commit_callbacks(execute=True):
        kudos_adjust(user=alice[0], amount=-5000, reason="chargeback", staff_user=None)
    mine = Job.objects.get(request__user=alice[0])
    # In the debt band: behind everyone not in debt, still ahead of anonymous requests.
    base = mine.priority + conf.aging_per_second() * mine.created_at.timestamp()
    assert conf.anonymous_priority() < base < conf.debt_priority()
    assert job_claim(worker=make_worker(alice[0]), models=[SD], max_pixels=BIG).pk == hers.pk


def test_a_posting_rolled_back_or_not_yet_committed_moves_no_priority(
    demo_models, api_client, alice, bob, django_capture_on_commit_callbacks
):
    mine = request_submit(user=alice[0], body=body()).request.jobs.get()
    with django_capture_on_commit_callbacks() as callbacks:
        transfer(api_client, alice[1], "bob", user_balance(user=alice[0]))
        refused = api_client.post(
            "/api/v2/kudos/transfer", {"username": "bob", "amount": 1}, format="json", HTTP_APIKEY=alice[1]
        )
        assert refused.json()["rc"] == "KudosTransferNotEnough"
    assert Job.objects.get(pk=mine.pk).priority == mine.priority  # not before the commit
    assert len(callbacks) == 1  # the refused transfer posted nothing, so it tells nobody
    callbacks[0]()
    assert Job.objects.get(pk=mine.pk).priority == pytest.approx(priced_at(mine, 0), abs=1e-3)
