#!/usr/bin/env bash
# Run the whole site on its embedded defaults:  ./scripts/run.sh
# (SQLite + a filesystem Celery broker; set DATABASE_URL / REDIS_URL for the real services.)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh requirements.txt

export DEBUG=${DEBUG:-1}
PORT=${PORT:-8000}
HOST=${HOST:-127.0.0.1}

python manage.py migrate --noinput
python manage.py collectstatic --noinput -v 0
python manage.py seed_demo
DEMO_KEY=$(python manage.py issue_apikey demo | tail -n 1)

pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

# Housekeeping (re-queue expired jobs, re-dispatch lost messages, leaderboard) with beat embedded.
celery -A horde_site worker -B -Q housekeeping -n housekeeping@%h --concurrency 1 -l warning &
pids+=($!)
# One GPU worker with the procedural (CPU) backend serving every demo model, owned by the
# platform's operator (seed_demo): a comparison is never served by its requester's worker.
python manage.py gpu_worker --owner horde-gpu --backend procedural --all-models &
pids+=($!)
python manage.py runserver "$HOST:$PORT" --noreload &
pids+=($!)

sleep 2
cat <<MSG

  Horde is running:  http://$HOST:$PORT/
  Demo log-in:       demo / demo-password
  Demo API key:      $DEMO_KEY
  Admin:             http://$HOST:$PORT/admin/ (demo is staff)

  Ctrl-C stops everything.
MSG
wait -n "${pids[@]}"
