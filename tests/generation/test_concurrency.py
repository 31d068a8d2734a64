"""Claims under concurrency, on PostgreSQL with real threads and connections.

The pair: a naive claim (read the best job, then mark it) hands the same job
to several workers; `job_claim` (SELECT ... FOR UPDATE SKIP LOCKED) never does,
and loses none.
"""

from __future__ import annotations

import base64
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.db import connection, connections

from generation.models import Image, Job
from generation.services import job_claim, request_submit

from .conftest import SD, body, webp

pytestmark = pytest.mark.django_db(transaction=True)
THREADS = 8


@pytest.fixture(autouse=True)
def _no_celery(settings):
    settings.HORDE_CELERY_DISPATCH = False


def in_threads(count: int, target) -> list:
    def run(index: int):
        try:
            return target(index)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def naive_claim(worker, barrier: threading.Barrier):
    """What the guard prevents: read the best queued job, then mark it, in two steps."""
    job = Job.objects.filter(status=Job.Status.QUEUED, model__name=SD).order_by("-priority", "created_at").first()
    barrier.wait()  # every worker has read before any writes: the race, made certain
    if job is None:
        return None
    Job.objects.filter(pk=job.pk).update(status=Job.Status.CLAIMED, worker=worker)
    return job.pk


def test_the_race_shows_without_the_guard(demo_models, alice, bob, make_worker):
    assert connection.vendor == "postgresql"
    for _ in range(THREADS):
        request_submit(user=alice[0], body=body())
    workers = [make_worker(bob[0], name=f"naive-{index}") for index in range(THREADS)]
    barrier = threading.Barrier(THREADS)
    claimed = in_threads(THREADS, lambda index: naive_claim(workers[index], barrier))
    counts = Counter(claimed)
    assert max(counts.values()) > 1  # one job handed to several workers
    assert Job.objects.filter(status=Job.Status.QUEUED).exists()  # while others sat waiting


@pytest.mark.parametrize("strategy", ["skip-locked", "compare-and-swap"])
def test_the_guard_gives_every_job_to_exactly_one_worker(demo_models, alice, bob, make_worker, monkeypatch, strategy):
    """Both claim strategies: SKIP LOCKED (PostgreSQL) and the compare-and-swap fallback (SQLite)."""
    from generation.services import claim

    assert connection.vendor == "postgresql"
    monkeypatch.setattr(claim, "_use_skip_locked", lambda: strategy == "skip-locked")
    for _ in range(15):
        request_submit(user=alice[0], body=body(params={"n": 4}))
    workers = [make_worker(bob[0], name=f"guarded-{index}") for index in range(THREADS)]
    barrier = threading.Barrier(THREADS)

    def drain(index: int) -> list:
        barrier.wait()
        mine = []
        while (job := job_claim(worker=workers[index], models=[SD], max_pixels=512 * 512)) is not None:
            mine.append(job.pk)
        return mine

    claimed = [pk for batch in in_threads(THREADS, drain) for pk in batch]
    assert len(claimed) == 60
    assert len(set(claimed)) == 60  # no job twice
    assert set(claimed) == set(Job.objects.values_list("pk", flat=True))  # none lost
    assert not Job.objects.filter(status=Job.Status.QUEUED).exists()
    per_worker = Counter(Job.objects.values_list("worker__name", flat=True))
    assert len(per_worker) > 1  # the work was really shared


def test_many_users_submitting_while_many_workers_pop_over_http(demo_models, live_server, make_user):
    """4 submitting users and 8 popping workers at once: every job done once, none lost."""
    users = [make_user(f"user{index}", kudos=5000)[1] for index in range(4)]
    owners = [make_user(f"owner{index}")[1] for index in range(THREADS)]
    url = live_server.url + "/api/v2"
    image = base64.b64encode(webp(512, 512)).decode()
    per_user = 10
    submitted_all = threading.Event()
    submitted_count = Counter()

    def submit(index: int) -> list[str]:
        ids = []
        with requests.Session() as session:
            for _ in range(per_user):
                response = session.post(f"{url}/generate/async", json=body(), headers={"apikey": users[index]})
                assert response.status_code == 202, response.text
                ids.append(response.json()["id"])
        submitted_count[index] = len(ids)
        return ids

    def work(index: int) -> list[str]:
        done = []
        with requests.Session() as session:
            idle_after_all = 0
            while idle_after_all < 3:
                popped = session.post(
                    f"{url}/generate/pop",
                    json={"name": f"http-worker-{index}", "models": [SD], "max_pixels": 512 * 512},
                    headers={"apikey": owners[index]},
                ).json()
                if not popped.get("id"):
                    idle_after_all += submitted_all.is_set()
                    continue
                response = session.post(
                    f"{url}/generate/submit",
                    json={"id": popped["id"], "generation": image, "state": "ok", "seed": 1},
                    headers={"apikey": owners[index]},
                )
                assert response.status_code == 200, response.text
                done.append(popped["id"])
        return done

    def role(index: int):
        if index < 4:
            ids = submit(index)
            if sum(submitted_count.values()) == 4 * per_user:
                submitted_all.set()
            return ("submit", ids)
        return ("work", work(index - 4))

    results = in_threads(4 + THREADS, role)
    request_ids = [rid for kind, ids in results if kind == "submit" for rid in ids]
    done_jobs = [jid for kind, ids in results if kind == "work" for jid in ids]
    assert len(request_ids) == 40
    assert len(done_jobs) == 40
    assert len(set(done_jobs)) == 40
    assert Image.objects.count() == 40
    assert set(Job.objects.values_list("status", flat=True)) == {Job.Status.DONE}
