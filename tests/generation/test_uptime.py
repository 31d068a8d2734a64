"""Uptime rewards: every 10 minutes online and taking work pays the owner once, through the ledger."""

from __future__ import annotations

import datetime as dt
import threading
import uuid

import pytest
from django.conf import settings as django_settings

from generation.models import Worker
from generation.services import job_claim, job_complete, job_fail, request_submit
from generation.services.uptime import worker_uptime_reward, workers_uptime_reward
from kudos.models import Transaction
from kudos.selectors import user_balance
from kudos.services import kudos_reward
from tests.kudos.ledger.helpers import assert_ledger_consistent
from tests.threads import run_in_threads

from .conftest import SD, body, webp

INTERVAL = 600
# An instant 30 s into a clock-aligned interval (index K).
K = 2_000_000_000 // INTERVAL
T0 = dt.datetime.fromtimestamp(K * INTERVAL + 30, tz=dt.UTC)


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def run(worker: Worker, minutes: float, *, seen: bool = True) -> int:
    """One housekeeping run `minutes` after T0; `seen`: the worker checked in just before."""
    now = at(minutes)
    if seen:
        Worker.objects.filter(pk=worker.pk).update(last_seen=now - dt.timedelta(seconds=5))
    return workers_uptime_reward(now=now)


@pytest.fixture
def worker(db, bob, make_worker, settings):
    settings.HORDE_UPTIME_KUDOS = 50
    settings.HORDE_UPTIME_INTERVAL_SECONDS = INTERVAL
    return make_worker(bob[0])


def uptime_keys() -> list[str]:
    return sorted(
        Transaction.objects.filter(event_key__startswith="worker-uptime:").values_list("event_key", flat=True)
    )


def test_each_whole_interval_online_pays_the_owner_once(worker, bob):
    start = user_balance(user=bob[0])
    assert run(worker, 0) == 0  # the stretch starts now
    for minute in range(1, 10):
        assert run(worker, minute) == 0
    assert run(worker, 10) == 0  # interval K ended, but the stretch began 30 s into it
    for minute in range(11, 20):
        assert run(worker, minute) == 0
    assert run(worker, 20) == 50  # interval K+1: up from its start to its end
    assert run(worker, 21) == 0 and run(worker, 29) == 0  # the same interval is not paid twice
    assert run(worker, 30) == 50
    assert uptime_keys() == sorted([f"worker-uptime:{worker.pk}:{K + 1}", f"worker-uptime:{worker.pk}:{K + 2}"])
    assert user_balance(user=bob[0]) == start + 100
    worker.refresh_from_db()
    assert worker.uptime_kudos == 100
    assert_ledger_consistent()


def test_maintenance_breaks_the_stretch_and_nothing_is_paid_for_it(worker, bob):
    run(worker, 0)
    run(worker, 12)
    Worker.objects.filter(pk=worker.pk).update(maintenance=True)
    assert run(worker, 20) == 0  # in maintenance at the end of K+1
    Worker.objects.filter(pk=worker.pk).update(maintenance=False)
    assert run(worker, 21) == 0  # a new stretch, 1 min into K+2: K+2 is not whole
    assert run(worker, 30) == 0
    assert run(worker, 40) == 50  # K+3 is
    assert uptime_keys() == [f"worker-uptime:{worker.pk}:{K + 3}"]


def test_a_retired_worker_earns_no_uptime_even_if_it_still_checks_in(worker, bob):
    run(worker, 0)
    Worker.objects.filter(pk=worker.pk).update(retired_at=at(1))
    assert run(worker, 20) == 0 and run(worker, 30) == 0
    assert uptime_keys() == []


def test_the_uptime_paid_while_in_a_team_counts_in_the_teams_totals(worker, bob):
    from generation.models import Team

    team = Team.objects.create(name="Foxes", owner=bob[0])
    Worker.objects.filter(pk=worker.pk).update(team=team)
    run(worker, 0)
    assert run(worker, 20) == 50
    team.refresh_from_db()
    assert (team.uptime_seconds, team.kudos) == (INTERVAL, 50)
    Worker.objects.filter(pk=worker.pk).update(team=None)
    assert run(worker, 30) == 50  # paid, but no longer the team's
    team.refresh_from_db()
    assert (team.uptime_seconds, team.kudos) == (INTERVAL, 50)


def test_a_worker_that_went_offline_starts_over(worker, settings):
    settings.HORDE_WORKER_STALE_SECONDS = 120
    run(worker, 0)
    run(worker, 8)
    assert run(worker, 15, seen=False) == 0  # not seen for 7 minutes: offline, stretch over
    worker.refresh_from_db()
    assert worker.uptime_since is None
    assert run(worker, 20) == 0  # back, from minute 20 on: K+1 is not paid
    assert uptime_keys() == []


def test_a_streak_of_failed_claims_stops_the_rewards_until_a_job_finishes(demo_models, alice, worker, settings):
    settings.HORDE_UPTIME_MAX_FAULT_STREAK = 2
    settings.HORDE_MAX_JOB_ATTEMPTS = 10
    request_submit(user=alice[0], body=body(params={"n": 2}))
    for _ in range(2):
        job_fail(job=job_claim(worker=worker, models=[SD], max_pixels=4096 * 4096), worker=worker, reason="test")
    worker.refresh_from_db()
    assert worker.fault_streak == 2
    run(worker, 0)
    assert run(worker, 20) == 0 and uptime_keys() == []
    job = job_claim(worker=worker, models=[SD], max_pixels=4096 * 4096)
    job_complete(job=job, worker=worker, image_bytes=webp(512, 512))
    worker.refresh_from_db()
    assert worker.fault_streak == 0
    run(worker, 20.5)  # up again: a new stretch
    assert run(worker, 40) == 50


def test_a_worker_of_the_anonymous_user_or_serving_nothing_earns_nothing(db, anonymous, bob, make_worker, settings):
    settings.HORDE_UPTIME_INTERVAL_SECONDS = INTERVAL
    idle = make_worker(bob[0], name="idle", models=[])
    anon = make_worker(anonymous, name="anon")
    for minute in (0, 10, 20, 30):
        for each in (idle, anon):
            Worker.objects.filter(pk=each.pk).update(last_seen=at(minute))
        assert workers_uptime_reward(now=at(minute)) == 0
    assert uptime_keys() == []


def test_the_workers_page_shows_uptime_kudos(client, worker):
    Worker.objects.filter(pk=worker.pk).update(uptime_kudos=1250)
    page = client.get("/workers")
    assert page.status_code == 200
    assert "Uptime kudos" in page.content.decode() and "1,250" in page.content.decode()


def test_the_uptime_and_shared_set_tasks_are_on_the_beat_schedule():
    from horde_site.celery import app

    app.loader.import_default_modules()
    for name in ("generation-workers-uptime-reward", "aesthetics-shared-comparisons"):
        entry = django_settings.CELERY_BEAT_SCHEDULE[name]
        assert entry["task"] in app.tasks and entry["options"]["queue"] == "housekeeping"


@pytest.mark.django_db(transaction=True)
def test_the_race_shows_two_naive_runs_that_check_then_pay_both_pay(worker):
    barrier = threading.Barrier(2)

    def naive(_):
        fresh = Worker.objects.get(pk=worker.pk)
        if fresh.uptime_paid_interval >= K + 1:
            return 0
        barrier.wait(timeout=10)  # both runs have passed the check
        kudos_reward(user=worker.owner, amount=50, event_key=f"naive-uptime:{uuid.uuid4()}")
        Worker.objects.filter(pk=worker.pk).update(uptime_paid_interval=K + 1)
        return 50

    assert run_in_threads(naive) == [50, 50]


@pytest.mark.django_db(transaction=True)
def test_the_guard_stops_it_two_runs_at_once_pay_one_interval_once(worker):
    Worker.objects.filter(pk=worker.pk).update(uptime_since=at(0), last_seen=at(20))
    barrier = threading.Barrier(2)

    def run_after_reading(_):
        fresh = Worker.objects.select_related("owner").get(pk=worker.pk)
        barrier.wait(timeout=10)  # both runs read the same unpaid state
        return worker_uptime_reward(worker=fresh, now=at(20))

    assert sorted(run_in_threads(run_after_reading)) == [0, 50]
    assert uptime_keys() == [f"worker-uptime:{worker.pk}:{K + 1}"]
