"""W1: the generation queue under load, against gunicorn + PostgreSQL on this machine.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/horde_bench \\
    REDIS_URL=redis://127.0.0.1:6379/3 .venv/bin/python bench/w1.py [--requests 300]

Phase 1 (W1): 300 async requests submitted from 4 client threads while 8 HTTP
workers pop and immediately submit a tiny webp, plus 500 check calls; reports
jobs/s and p50/p99 of async, pop, submit and check.
Phase 2: submit -> Celery GPU worker start latency: requests submitted one at
a time (spaced) to a running `gpu_worker`; the latency is the job's
claimed_at minus its created_at (both written by the database's clock users).

The database named by DATABASE_URL is dropped and recreated: use a bench one.
Results go to stdout and bench/out/w1.json.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import multiprocessing
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "horde_site.settings")
os.environ.setdefault("SECRET_KEY", "bench-secret-key-not-for-production")
os.environ.setdefault("RATINGS_PSEUDONYM_KEY", "bench-pseudonym-key-not-for-production")
os.environ.setdefault("HORDE_VAR_DIR", "/tmp/horde-bench-var")
# Plain HTTP on loopback, Horde serving the images itself (production settings otherwise).
os.environ.setdefault("HORDE_HTTPS", "0")
os.environ.setdefault("SERVE_MEDIA", "1")
os.environ.setdefault("HORDE_RATE_LIMITS_OFF", "1")  # the load is the point

import requests  # noqa: E402
from PIL import Image  # noqa: E402

SD = "stable_diffusion"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def recreate_database(url: str, synchronous_commit: str = "on") -> None:
    import psycopg2

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    if not name or name in {"postgres", "horde", "horde_gen"} or "bench" not in name:
        raise SystemExit(f"Refusing to drop database {name!r}: name a bench database (with 'bench' in its name).")
    admin = psycopg2.connect(
        dbname="postgres",
        user=parsed.username or "postgres",
        password=parsed.password,
        host=parsed.hostname or "127.0.0.1",
        port=parsed.port or 5432,
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
        if synchronous_commit != "on":
            # A reported variant only (the headline figures keep durable commits): a
            # commit then returns before its WAL reaches the disk.
            cursor.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = {synchronous_commit}')
    admin.close()


def setup(clients: int, workers: int) -> tuple[list[str], list[str]]:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    from accounts.services import apikey_rotate, user_create
    from kudos.services import kudos_adjust

    call_command("migrate", "--noinput", verbosity=0)
    call_command("seed_demo", stdout=io.StringIO())
    client_keys, worker_keys = [], []
    for index in range(clients):
        user = user_create(username=f"client{index}", password=None)
        kudos_adjust(user=user, amount=100_000 + index, reason="bench", staff_user=None)
        client_keys.append(apikey_rotate(user=user))
    for index in range(workers):
        worker_keys.append(apikey_rotate(user=user_create(username=f"owner{index}", password=None)))
    connections.close_all()
    return client_keys, worker_keys


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50_ms": round(percentile(values, 50) * 1000, 2),
        "p99_ms": round(percentile(values, 99) * 1000, 2),
        "mean_ms": round(statistics.fmean(values) * 1000, 2) if values else float("nan"),
    }


def start_gunicorn(port: int, env: dict, workers: int, threads: int, worker_class: str) -> subprocess.Popen:
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "horde_site.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        worker_class,
        *(["--threads", str(threads)] if worker_class == "gthread" else []),
        "--log-level",
        "warning",
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/api/v2/status/heartbeat", timeout=1).ok:
                return process
        except requests.RequestException:  # not listening yet, or still loading Django
            time.sleep(0.2)
    raise SystemExit("gunicorn did not start")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def tiny_webp(size: int) -> str:
    out = io.BytesIO()
    Image.new("RGB", (size, size), (40, 90, 160)).save(out, format="WEBP", quality=50)
    return base64.b64encode(out.getvalue()).decode()


def phase_w1(
    base: str, client_keys: list[str], worker_keys: list[str], total: int, checks: int, size: int, backoff: float
) -> dict:
    """Every client, worker and the checker is its own process (as real clients are):
    no shared GIL inflating the measured latencies."""
    context = multiprocessing.get_context("fork")
    ids_queue = context.Queue()
    results = context.Queue()
    finished = context.Value("i", 0)
    done = context.Event()
    image = tiny_webp(size)
    body = {"prompt": "bench fox", "models": [SD], "params": {"width": size, "height": size, "steps": 1, "n": 1}}

    def report(timings: dict[str, list[float]], errors: list[str]) -> None:
        results.put((timings, errors))

    def client(index: int) -> None:
        timings, errors = {"async": []}, []
        with requests.Session() as session:
            headers = {"apikey": client_keys[index]}
            for _ in range(total // len(client_keys)):
                started = time.perf_counter()
                response = session.post(f"{base}/api/v2/generate/async", json=body, headers=headers)
                timings["async"].append(time.perf_counter() - started)
                if response.status_code != 202:
                    errors.append(f"async {response.status_code} {response.text[:200]}")
                    continue
                ids_queue.put(response.json()["id"])
        report(timings, errors)

    def checker() -> None:
        timings, errors, ids = {"check": []}, [], []
        with requests.Session() as session:
            while len(timings["check"]) < checks:
                while not ids_queue.empty() or not ids:
                    ids.append(ids_queue.get())
                pick = random.choice(ids)
                started = time.perf_counter()
                response = session.get(f"{base}/api/v2/generate/check/{pick}")
                timings["check"].append(time.perf_counter() - started)
                if response.status_code != 200:
                    errors.append(f"check {response.status_code}")
        report(timings, errors)

    def worker(index: int) -> None:
        timings, errors = {"pop": [], "pop_empty": [], "submit": []}, []
        with requests.Session() as session:
            headers = {"apikey": worker_keys[index]}
            pop_body = {"name": f"bench-worker-{index}", "models": [SD], "max_pixels": 1024 * 1024, "amount": 1}
            while not done.is_set():
                started = time.perf_counter()
                data = session.post(f"{base}/api/v2/generate/pop", json=pop_body, headers=headers).json()
                elapsed = time.perf_counter() - started
                if not data.get("id"):
                    timings["pop_empty"].append(elapsed)
                    time.sleep(backoff)
                    continue
                timings["pop"].append(elapsed)
                submit = {"id": data["id"], "generation": image, "state": "ok", "seed": 1}
                started = time.perf_counter()
                response = session.post(f"{base}/api/v2/generate/submit", json=submit, headers=headers)
                timings["submit"].append(time.perf_counter() - started)
                if response.status_code != 200:
                    errors.append(f"submit {response.status_code} {response.text[:200]}")
                    continue
                with finished.get_lock():
                    finished.value += 1
                    if finished.value >= total:
                        done.set()
        report(timings, errors)

    processes = [context.Process(target=client, args=(i,)) for i in range(len(client_keys))]
    processes += [context.Process(target=worker, args=(i,)) for i in range(len(worker_keys))]
    processes.append(context.Process(target=checker))
    started = time.perf_counter()
    for process in processes:
        process.start()
    last, stalled = -1, 0
    while not done.wait(timeout=1):
        # Stop when nothing moves for 20 s (errors are reported below).
        stalled = stalled + 1 if finished.value == last else 0
        last = finished.value
        if stalled >= 20:
            print(f"stalled at {last} jobs", file=sys.stderr)
            break
    elapsed = time.perf_counter() - started
    done.set()
    timings: dict[str, list[float]] = {"async": [], "pop": [], "pop_empty": [], "submit": [], "check": []}
    errors: list[str] = []
    for _ in processes:
        part, part_errors = results.get(timeout=120)
        for kind, values in part.items():
            timings[kind] += values
        errors += part_errors
    for process in processes:
        process.join(timeout=30)
    return {
        "jobs": finished.value,
        "seconds": round(elapsed, 2),
        "jobs_per_second": round(finished.value / elapsed, 1),
        "errors": errors[:10],
        "error_count": len(errors),
        **{kind: summary(values) for kind, values in timings.items()},
    }


def warm_up(base: str, client_key: str, worker_key: str, rounds: int, size: int) -> None:
    """Not measured: every gunicorn thread opens its database and broker connections
    once, and that first-use cost (hundreds of ms) is not the steady state W1 measures."""
    from concurrent.futures import ThreadPoolExecutor

    body = {"prompt": "warm", "models": [SD], "params": {"width": size, "height": size, "steps": 1}}
    image = tiny_webp(size)

    def one(_: int) -> None:
        with requests.Session() as session:
            session.post(f"{base}/api/v2/generate/async", json=body, headers={"apikey": client_key})
            session.get(f"{base}/api/v2/status/heartbeat")
            pop_body = {"name": "warm-up-worker", "models": [SD], "max_pixels": 1024 * 1024}
            data = session.post(f"{base}/api/v2/generate/pop", json=pop_body, headers={"apikey": worker_key}).json()
            if data.get("id"):
                submit = {"id": data["id"], "generation": image, "state": "ok", "seed": 1}
                session.post(f"{base}/api/v2/generate/submit", json=submit, headers={"apikey": worker_key})

    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(one, range(rounds)))


def purge_model_queues() -> None:
    import redis
    from django.conf import settings

    from generation.models import ImageModel

    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    for queue in ImageModel.objects.values_list("queue", flat=True):
        for key in broker.scan_iter(match=f"{queue}*"):
            broker.delete(key)


def phase_celery(base: str, client_key: str, env: dict, count: int, size: int, spacing: float) -> dict:
    from django.db import connections

    from generation.models import Job

    purge_model_queues()  # W1's messages were for jobs the HTTP workers already did
    connections.close_all()
    command = [sys.executable, "manage.py", "gpu_worker", "--models", SD, "--owner", "owner0", "--name", "bench-gpu"]
    worker = subprocess.Popen(
        [*command, "--concurrency", "2", "--loglevel", "warning"],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    try:
        time.sleep(6)  # the Celery worker connects and starts consuming
        body = {"prompt": "bench heron", "models": [SD], "params": {"width": size, "height": size, "steps": 1}}
        ids = []
        with requests.Session() as session:
            for _ in range(count):
                response = session.post(f"{base}/api/v2/generate/async", json=body, headers={"apikey": client_key})
                ids.append(response.json()["id"])
                time.sleep(spacing)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if Job.objects.filter(request_id__in=ids, status=Job.Status.DONE).count() == count:
                break
            time.sleep(0.5)
        rows = list(Job.objects.filter(request_id__in=ids).values_list("created_at", "claimed_at", "finished_at"))
        starts = [(claimed - created).total_seconds() for created, claimed, _ in rows if claimed]
        ends = [(finished - created).total_seconds() for created, _, finished in rows if finished]
        return {
            "requests": count,
            "done": len(ends),
            "submit_to_start": summary(starts),
            "submit_to_done": summary(ends),
        }
    finally:
        stop(worker)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--checks", type=int, default=500)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--size", type=int, default=64, help="Image side (a tiny webp).")
    parser.add_argument(
        "--empty-pop-backoff", type=float, default=0.02, help="Seconds a worker waits after an empty pop."
    )
    parser.add_argument(
        "--gunicorn-workers", type=int, default=2, help="One per core: more only adds GIL and CPU contention."
    )
    parser.add_argument("--gunicorn-threads", type=int, default=2, help="Threads per gthread worker.")
    parser.add_argument("--gunicorn-worker-class", choices=["gthread", "sync"], default="gthread")
    parser.add_argument(
        "--synchronous-commit",
        choices=["on", "off"],
        default="on",
        help="PostgreSQL synchronous_commit of the bench database (off: a labelled variant, not the headline).",
    )
    parser.add_argument("--celery-requests", type=int, default=60)
    parser.add_argument("--celery-spacing", type=float, default=0.1)
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        raise SystemExit("Set DATABASE_URL to a PostgreSQL bench database (it is dropped and recreated).")
    recreate_database(url, args.synchronous_commit)
    client_keys, worker_keys = setup(args.clients, args.workers)
    port = free_port()
    env = {**os.environ, "DEBUG": "0", "ALLOWED_HOSTS": "127.0.0.1,localhost", "LOG_LEVEL": "WARNING"}
    server = start_gunicorn(port, env, args.gunicorn_workers, args.gunicorn_threads, args.gunicorn_worker_class)
    base = f"http://127.0.0.1:{port}"
    try:
        warm_up(base, client_keys[0], worker_keys[0], 4 * args.gunicorn_workers * args.gunicorn_threads, args.size)
        w1 = phase_w1(base, client_keys, worker_keys, args.requests, args.checks, args.size, args.empty_pop_backoff)
        celery = phase_celery(base, client_keys[0], env, args.celery_requests, args.size, args.celery_spacing)
    finally:
        stop(server)
    result = {
        "machine": {"cpus": os.cpu_count()},
        "gunicorn": {
            "workers": args.gunicorn_workers,
            "threads": args.gunicorn_threads,
            "worker_class": args.gunicorn_worker_class,
        },
        "empty_pop_backoff_s": args.empty_pop_backoff,
        "synchronous_commit": args.synchronous_commit,
        "w1": w1,
        "celery": celery,
    }
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "w1.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
