"""Ledger throughput: charging the (hot) anonymous user vs one (cold) regular user.

    DATABASE_URL=postgres://... SECRET_KEY=x RATINGS_PSEUDONYM_KEY=y python bench/ledger_bench.py \
        [--threads 4] [--ops 300] [--hold-ms 0 5]

Runs against the migrated database named by DATABASE_URL (use a scratch database:
the ledger is append-only, so what the benchmark writes stays). It creates its own
users. For each `--hold-ms` value, every charge runs in a transaction that stays open
that long after the charge, as a job completion does while it writes its other rows;
the anonymous user's charges should not queue on each other, a regular user's must.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "horde_site.settings")

import django

django.setup()

from django.db import connection, transaction  # noqa: E402

from accounts.models import ANONYMOUS_USER_ID, User  # noqa: E402
from accounts.services import user_create  # noqa: E402
from kudos.services import kudos_charge  # noqa: E402


def run(user: User, *, threads: int, ops: int, hold_s: float, label: str) -> dict[str, float]:
    barrier = threading.Barrier(threads + 1)
    latencies: list[list[float]] = [[] for _ in range(threads)]
    errors: list[BaseException] = []
    run_id = uuid.uuid4().hex[:8]

    def work(index: int) -> None:
        try:
            connection.ensure_connection()  # connect before the clock starts
            barrier.wait()
            for op in range(ops):
                started = time.perf_counter()
                with transaction.atomic():
                    kudos_charge(user=user, amount=1, event_key=f"bench:{run_id}:{index}:{op}")
                    if hold_s:
                        time.sleep(hold_s)  # the rest of the caller's transaction
                latencies[index].append(time.perf_counter() - started)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    barrier.wait()
    started = time.perf_counter()
    for worker in workers:
        worker.join()
    wall = time.perf_counter() - started
    if errors:
        raise errors[0]
    flat = sorted(x for per_thread in latencies for x in per_thread)
    result = {
        "ops_per_s": len(flat) / wall,
        "p50_ms": 1000 * statistics.median(flat),
        "p99_ms": 1000 * flat[min(len(flat) - 1, int(0.99 * len(flat)))],
    }
    print(
        f"{label:<36} {threads} threads x {ops} ops: {result['ops_per_s']:8.1f} ops/s"
        f"  p50 {result['p50_ms']:7.2f} ms  p99 {result['p99_ms']:7.2f} ms"
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--ops", type=int, default=300, help="charges per thread")
    parser.add_argument("--hold-ms", type=float, nargs="+", default=[0.0, 5.0])
    args = parser.parse_args()

    anonymous = User.objects.get(pk=ANONYMOUS_USER_ID)
    regular = user_create(username=f"bench-{uuid.uuid4().hex[:10]}")
    print(f"database {connection.settings_dict['NAME']} on {connection.vendor}")
    for hold_ms in args.hold_ms:
        for label, user in (("anonymous (hot account)", anonymous), ("one regular user (cold)", regular)):
            run(user, threads=args.threads, ops=args.ops, hold_s=hold_ms / 1000, label=f"{label}, hold {hold_ms:g} ms")


if __name__ == "__main__":
    main()
