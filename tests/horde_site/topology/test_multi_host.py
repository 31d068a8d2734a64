"""The production layout on one machine: two web servers (gunicorn, different ports) on one
PostgreSQL and one broker, two GPU workers serving different models, one housekeeping worker
with beat; jobs submitted through both servers over HTTP. None lost, none run twice, kudos exact.

On Redis (the default broker) with 1,000 jobs, and on RabbitMQ (also running on this machine)
with fewer: the broker only carries job ids, so any of them must do.
"""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db.models import Count, Sum

from generation.models import GenerationRequest, Image, ImageModel, Job, Worker
from kudos.models import Transaction
from kudos.selectors import user_balance
from tests.generation.test_celery_workers import worker_database_url
from tests.kudos.ledger.helpers import assert_ledger_consistent

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[3]
SD = "stable_diffusion"
SDXL = "SDXL_beta::stability.ai#6901"
RABBITMQ = "amqp://guest:guest@127.0.0.1:5672//"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Cluster:
    """Processes of one layout, stopped (and their logs kept for a failure) at teardown."""

    def __init__(self, tmp_path: Path, broker: str) -> None:
        self.tmp_path, self.broker = tmp_path, broker
        self.processes: list[tuple[str, subprocess.Popen]] = []
        self.env = {
            **os.environ,
            "DATABASE_URL": worker_database_url(),
            "CELERY_BROKER_URL": broker,
            "MEDIA_ROOT": str(django_settings.MEDIA_ROOT),
            "HORDE_RATE_LIMITS_OFF": "1",  # the load is the point here
            "HORDE_MAX_WAITING_REQUESTS": "100000",
            "HORDE_CELERY_DISPATCH": "1",
            "LOG_LEVEL": "WARNING",
        }

    def start(self, name: str, command: list[str]) -> None:
        log = open(self.tmp_path / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.processes.append((name, process))

    def web(self, name: str) -> str:
        port = free_port()
        self.start(
            name,
            [
                sys.executable,
                "-m",
                "gunicorn",
                "horde_site.wsgi",
                "-b",
                f"127.0.0.1:{port}",
                "-w",
                "1",
                "--threads",
                "4",
            ],
        )
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                # The first request imports the whole site: give it time on a busy machine.
                if requests.get(f"{base}/healthz", timeout=15).status_code == 200:
                    return base
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise AssertionError(f"{name} did not answer /healthz: {self.log(name)}")

    def gpu_worker(self, name: str, owner: str, models: list[str]) -> None:
        self.start(
            name,
            [
                *(sys.executable, "manage.py", "gpu_worker", "--models", *models, "--owner", owner, "--name", name),
                *("--concurrency", "2", "--heartbeat", "2", "--loglevel", "warning"),
            ],
        )

    def housekeeping(self) -> None:
        self.start(
            "housekeeping",
            [
                *(sys.executable, "-m", "celery", "-A", "horde_site", "worker", "-B", "-Q", "housekeeping"),
                *("-n", f"hk-{uuid.uuid4().hex[:6]}@%h", "--concurrency", "1", "-l", "warning"),
                *("-s", str(self.tmp_path / "beat-schedule")),
            ],
        )

    def log(self, name: str) -> str:
        return (self.tmp_path / f"{name}.log").read_text()[-3000:]

    def stop(self) -> None:
        for _, process in self.processes:
            process.send_signal(signal.SIGTERM)
        for _, process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def layout(tmp_path, make_user):
    call_command("seed_demo", stdout=io.StringIO())
    suffix = uuid.uuid4().hex[:8]
    for model in ImageModel.objects.all():  # fresh queues: nothing of another run reaches these workers
        model.queue = f"{model.queue}.topology-{suffix}"
        model.save(update_fields=["queue"])
    clusters: list[Cluster] = []

    def start(broker: str) -> tuple[Cluster, list[str]]:
        cluster = Cluster(tmp_path, broker)
        clusters.append(cluster)
        make_user("gpu-sd")
        make_user("gpu-beta")
        cluster.gpu_worker("gpu-host-sd", "gpu-sd", [SD])
        cluster.gpu_worker("gpu-host-beta", "gpu-beta", [SDXL])
        cluster.housekeeping()
        servers = [cluster.web("web-1"), cluster.web("web-2")]
        return cluster, servers

    yield start
    for cluster in clusters:
        cluster.stop()


def submit_all(servers: list[str], users: list[tuple], bodies: list[dict]) -> list[str]:
    """POST every body over HTTP, alternating servers and users, 8 at a time."""

    def one(index: int) -> str:
        _, key = users[index % len(users)]
        response = requests.post(
            f"{servers[index % len(servers)]}/api/v2/generate/async",
            data=json.dumps(bodies[index]),
            headers={"apikey": key, "Content-Type": "application/json", "Client-Agent": "topology:1:tests"},
            timeout=30,
        )
        assert response.status_code == 202, response.text
        return response.json()["id"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(one, range(len(bodies))))


def run_layout(layout, make_user, *, broker: str, sd_requests: int, pairs: int) -> None:
    cluster, servers = layout(broker)
    users = [make_user(f"client{index}", kudos=100_000) for index in range(4)]
    start = {user.pk: user_balance(user=user) for user, _ in users}
    sd = {"prompt": "a lighthouse at dusk", "models": [SD], "params": {"width": 256, "height": 256, "steps": 4, "n": 4}}
    beta = {"prompt": "a fox in the snow", "models": [SDXL], "params": {"width": 1024, "height": 1024, "steps": 4}}
    ids = submit_all(servers, users, [sd] * sd_requests + [beta] * pairs)
    expected_jobs = 4 * sd_requests + 2 * pairs

    deadline = time.monotonic() + 420
    while time.monotonic() < deadline:
        if Job.objects.filter(request_id__in=ids).exclude(status=Job.Status.DONE).count() == 0:
            break
        time.sleep(1)
    statuses = dict(Job.objects.filter(request_id__in=ids).values_list("status").annotate(n=Count("id")))
    assert statuses == {Job.Status.DONE: expected_jobs}, (
        statuses,
        cluster.log("gpu-host-sd"),
        cluster.log("gpu-host-beta"),
    )
    # None lost, none twice: one image per job, every request done, each job claimed once.
    assert Image.objects.filter(request_id__in=ids).count() == expected_jobs
    assert GenerationRequest.objects.filter(pk__in=ids, status=GenerationRequest.Status.DONE).count() == len(ids)
    assert set(Job.objects.filter(request_id__in=ids).values_list("attempts", flat=True)) == {1}
    served = dict(Job.objects.filter(request_id__in=ids).values_list("worker__name").annotate(n=Count("id")))
    assert served == {"gpu-host-sd": 4 * sd_requests, **({"gpu-host-beta": 2 * pairs} if pairs else {})}
    # Kudos exact: each client paid exactly its requests' price, each job was charged and
    # rewarded once, and each worker's owner earned exactly what its jobs cost.
    for user, _ in users:
        paid = GenerationRequest.objects.filter(user=user, pk__in=ids).aggregate(total=Sum("kudos"))["total"] or 0
        assert user_balance(user=user) == start[user.pk] - paid
    job_ids = [str(pk) for pk in Job.objects.filter(request_id__in=ids).values_list("pk", flat=True)]
    assert Transaction.objects.filter(event_key__in=[f"job-charge:{pk}" for pk in job_ids]).count() == expected_jobs
    assert Transaction.objects.filter(event_key__in=[f"job-reward:{pk}" for pk in job_ids]).count() == expected_jobs
    for worker in Worker.objects.filter(name__in=served):
        earned = Job.objects.filter(request_id__in=ids, worker=worker).aggregate(total=Sum("kudos"))["total"]
        assert user_balance(user=worker.owner) == earned
        assert worker.jobs_done == served[worker.name]
    assert_ledger_consistent()


def test_two_web_servers_two_gpu_hosts_and_housekeeping_on_redis_take_1000_jobs(layout, make_user):
    run_layout(layout, make_user, broker=django_settings.CELERY_BROKER_URL, sd_requests=240, pairs=20)


def test_the_same_layout_works_with_rabbitmq_as_the_broker(layout, make_user):
    run_layout(layout, make_user, broker=RABBITMQ, sd_requests=40, pairs=4)
