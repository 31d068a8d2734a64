#!/usr/bin/env bash
# Production smoke test: install requirements.txt ALONE into a fresh venv (what an operator
# does), then run gunicorn, a housekeeping Celery worker and a procedural GPU worker against
# PostgreSQL and Redis, and take one request end to end over HTTP (submit, wait, status, image).
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/horde_smoke REDIS_URL=redis://127.0.0.1:6379/9 \
#     ./scripts/smoke_production.sh
# The database named by DATABASE_URL is dropped and created afresh: name a scratch one.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DATABASE_URL:?name a scratch PostgreSQL database}" "${REDIS_URL:?name a Redis database}"
work=$(mktemp -d -t horde-smoke-XXXX)
pids=()
cleanup() {
  kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

echo "==> fresh venv from requirements.txt alone"
python3 -m venv "$work/venv"
"$work/venv/bin/python" -m pip install -q -r requirements.txt
py="$work/venv/bin/python"

db_name=${DATABASE_URL##*/}
admin_url=${DATABASE_URL%/*}/postgres
"$py" - "$admin_url" "$db_name" <<'PY'
import sys

import psycopg2

conn = psycopg2.connect(sys.argv[1])
conn.autocommit = True
with conn.cursor() as cursor:
    cursor.execute(f'DROP DATABASE IF EXISTS "{sys.argv[2]}"')
    cursor.execute(f'CREATE DATABASE "{sys.argv[2]}"')
PY
"$py" -c "import redis, sys; redis.Redis.from_url(sys.argv[1]).flushdb()" "$REDIS_URL"

export DEBUG=0 SECRET_KEY="smoke-$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"
export RATINGS_PSEUDONYM_KEY="smoke-$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"
export HORDE_VAR_DIR="$work/var" ALLOWED_HOSTS=127.0.0.1 DJANGO_SETTINGS_MODULE=horde_site.settings
# HTTPS settings as in production, behind a TLS proxy (the client below sends the proxy's
# X-Forwarded-Proto); with no object storage, Horde serves the images itself.
export HORDE_BEHIND_PROXY=1 SERVE_MEDIA=1
port=$("$py" -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")

echo "==> migrate, static files, demo data"
"$py" manage.py migrate --noinput -v 0
"$py" manage.py collectstatic --noinput -v 0
"$py" manage.py seed_demo >/dev/null
key=$("$py" manage.py issue_apikey smoke --create --kudos 1000 | tail -n 1)

echo "==> gunicorn, housekeeping worker, GPU worker"
"$work/venv/bin/gunicorn" horde_site.wsgi -b "127.0.0.1:$port" -w 2 --log-level warning &
pids+=($!)
"$work/venv/bin/celery" -A horde_site worker -Q housekeeping -n "smoke-hk@%h" --concurrency 1 -l warning &
pids+=($!)
"$py" manage.py gpu_worker --owner smoke --backend procedural --models stable_diffusion --loglevel warning &
pids+=($!)

echo "==> one request end to end"
"$py" - "http://127.0.0.1:$port" "$key" <<'PY'
import json
import sys
import time
import urllib.request

base, key = sys.argv[1], sys.argv[2]
headers = {"apikey": key, "Content-Type": "application/json", "Client-Agent": "smoke:1:ci", "X-Forwarded-Proto": "https"}


def call(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, headers=headers, method=method)
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.loads(response.read())


deadline = time.monotonic() + 60
while True:  # gunicorn is still starting
    try:
        call("GET", "/api/v2/status/heartbeat")
        break
    except OSError:
        if time.monotonic() > deadline:
            raise
        time.sleep(0.5)
status, queued = call(
    "POST", "/api/v2/generate/async", {"prompt": "a lighthouse at dusk", "models": ["stable_diffusion"]}
)
assert status == 202, (status, queued)
while True:
    _, check = call("GET", f"/api/v2/generate/check/{queued['id']}")
    if check["done"]:
        break
    if time.monotonic() > deadline + 60:
        raise SystemExit(f"not done in time: {check}")
    time.sleep(0.5)
_, result = call("GET", f"/api/v2/generate/status/{queued['id']}")
[generation] = result["generations"]
url = generation["img"]
assert url.startswith("https://"), url  # the proxy's scheme, not the loopback's
url = base + "/" + url.split("/", 3)[3]
with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as response:
    image = response.read()
assert image[:4] == b"RIFF" and image[8:12] == b"WEBP", image[:16]
print(f"smoke: request {queued['id']} done by {generation['worker_name']}, {len(image)} bytes of webp")
PY
echo "==> production smoke test passed"
