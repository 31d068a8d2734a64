"""Find PostgreSQL and Redis for the tests, or start throwaway ones.

Order: the servers named by DATABASE_URL / REDIS_URL; else the local servers
on their default ports; else throwaway instances started from the installed
server binaries (initdb + pg_ctl, redis-server) in a temporary folder.
Prints `export VAR=...` lines for the shell; `--stop DIR` stops what it started.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from urllib.parse import urlparse


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def find_binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    return candidates[0] if candidates else None


def say(message: str) -> None:
    print(message, file=sys.stderr)


def start_postgres(workdir: str) -> str | None:
    initdb, pg_ctl = find_binary("initdb"), find_binary("pg_ctl")
    if not (initdb and pg_ctl):
        return None
    data, port = os.path.join(workdir, "pg"), free_port()
    user = "postgres"
    run_as: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root: use the postgres system user
        shutil.chown(workdir, "postgres")
        run_as = ["runuser", "-u", "postgres", "--"]
    subprocess.run([*run_as, initdb, "-D", data, "-U", user, "-A", "trust"], check=True, capture_output=True)
    subprocess.run(
        [
            *run_as,
            pg_ctl,
            "-D",
            data,
            "-l",
            os.path.join(workdir, "pg.log"),
            "-w",
            "start",
            "-o",
            f"-p {port} -k {workdir} -c listen_addresses=127.0.0.1 -c fsync=off",
        ],
        check=True,
        capture_output=True,
    )
    return f"postgres://{user}@127.0.0.1:{port}/horde"


def start_redis(workdir: str) -> str | None:
    binary = shutil.which("redis-server")
    if not binary:
        return None
    port = free_port()
    subprocess.run(
        [
            binary,
            "--daemonize",
            "yes",
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            workdir,
            "--pidfile",
            os.path.join(workdir, "redis.pid"),
        ],
        check=True,
        capture_output=True,
    )
    for _ in range(50):
        if port_open("127.0.0.1", port):
            break
        time.sleep(0.1)
    return f"redis://127.0.0.1:{port}/0"


def stop(workdir: str) -> None:
    data = os.path.join(workdir, "pg")
    if os.path.isdir(data):
        run_as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run(
            [*run_as, find_binary("pg_ctl") or "pg_ctl", "-D", data, "-m", "fast", "stop"], capture_output=True
        )
    pidfile = os.path.join(workdir, "redis.pid")
    if os.path.exists(pidfile):
        with open(pidfile) as handle:
            subprocess.run(["kill", handle.read().strip()], capture_output=True)
    shutil.rmtree(workdir, ignore_errors=True)


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "--stop":
        stop(sys.argv[2])
        return 0
    workdir = None
    exports: dict[str, str] = {}

    database_url = os.environ.get("DATABASE_URL", "")
    if database_url:
        say(f"==> PostgreSQL from DATABASE_URL ({urlparse(database_url).hostname})")
    elif port_open("127.0.0.1", 5432):
        database_url = "postgres://postgres@127.0.0.1:5432/horde"
        say("==> PostgreSQL on 127.0.0.1:5432")
    else:
        workdir = tempfile.mkdtemp(prefix="horde-test-services-")
        database_url = start_postgres(workdir) or ""
        if not database_url:
            say(
                "No PostgreSQL found: set DATABASE_URL, start a server on 127.0.0.1:5432, "
                "or install the server (Debian: apt-get install postgresql)."
            )
            return 1
        say(f"==> started a throwaway PostgreSQL: {database_url}")
    exports["DATABASE_URL"] = database_url

    redis_url = os.environ.get("REDIS_URL", "")
    if redis_url:
        say("==> Redis from REDIS_URL")
    elif port_open("127.0.0.1", 6379):
        redis_url = "redis://127.0.0.1:6379/0"
        say("==> Redis on 127.0.0.1:6379")
    else:
        workdir = workdir or tempfile.mkdtemp(prefix="horde-test-services-")
        redis_url = start_redis(workdir) or ""
        if not redis_url:
            say(
                "No Redis found: set REDIS_URL, start a server on 127.0.0.1:6379, "
                "or install the server (Debian: apt-get install redis-server)."
            )
            return 1
        say(f"==> started a throwaway Redis: {redis_url}")
    exports["REDIS_URL"] = redis_url
    exports["CELERY_BROKER_URL"] = os.environ.get("CELERY_BROKER_URL") or redis_url
    if workdir:
        exports["HORDE_TEST_SERVICES_DIR"] = workdir
    for name, value in exports.items():
        print(f"export {name}='{value}'")
    return 0


if __name__ == "__main__":
    sys.exit(main())
