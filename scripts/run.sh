#!/usr/bin/env bash
# Run the whole site on its embedded defaults:  ./scripts/run.sh
# (SQLite + a filesystem Celery broker; set DATABASE_URL / REDIS_URL for the real services.)
# PORT (8000) and HOST (127.0.0.1) choose where the web server listens.
set -euo pipefail
cd "$(dirname "$0")/.."

# Django's debug pages only when asked for (DEBUG=1): by default the demo runs like a site
# (branded error pages), on secret keys of its own kept under var/.
export DEBUG=${DEBUG:-0}
PORT=${PORT:-8000}
HOST=${HOST:-127.0.0.1}
VAR_DIR=${HORDE_VAR_DIR:-var}

# A busy port stops everything before anything starts: otherwise the banner would print a URL
# that belongs to another server.
if (exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null; then
  echo "run.sh: $HOST:$PORT is already in use (another server answers there)." >&2
  echo "        Stop it, or choose another port: PORT=8001 ./scripts/run.sh" >&2
  exit 2
fi

source scripts/_venv.sh requirements.txt

mkdir -p "$VAR_DIR"
# A secret made once for this var/ and kept there (so sessions and pseudonyms survive restarts).
var_secret() {
  local file="$VAR_DIR/$1"
  [[ -s $file ]] || (umask 077 && python -c 'import secrets; print(secrets.token_urlsafe(50))' >"$file")
  cat "$file"
}
case "${DEBUG,,}" in
  1 | true | yes | on) ;;
  *)
    SECRET_KEY=${SECRET_KEY:-$(var_secret secret_key)}
    RATINGS_PSEUDONYM_KEY=${RATINGS_PSEUDONYM_KEY:-$(var_secret pseudonym_key)}
    # Plain HTTP on this machine, Horde serving its own media, readable logs, this HOST allowed.
    export SECRET_KEY RATINGS_PSEUDONYM_KEY HORDE_HTTPS=${HORDE_HTTPS:-0} SERVE_MEDIA=${SERVE_MEDIA:-1}
    export LOG_FORMAT=${LOG_FORMAT:-text} ALLOWED_HOSTS=${ALLOWED_HOSTS:-localhost,127.0.0.1,[::1],$HOST}
    ;;
esac

python manage.py migrate --noinput
python manage.py collectstatic --noinput -v 0
python manage.py seed_demo

# The demo key stays the same across restarts of the same var/: kept there, re-issued only
# when it is missing or no longer opens the demo account (a fresh database).
KEY_FILE="$VAR_DIR/demo_apikey"
DEMO_KEY=""
if [[ -s $KEY_FILE ]]; then
  DEMO_KEY=$(<"$KEY_FILE")
  if ! HORDE_DEMO_KEY=$DEMO_KEY python manage.py shell -v 0 -c "
import os, sys
from accounts.selectors import user_by_apikey
user = user_by_apikey(key=os.environ['HORDE_DEMO_KEY'])
sys.exit(0 if user is not None and user.username == 'demo' else 1)"; then
    DEMO_KEY=""
  fi
fi
if [[ -z $DEMO_KEY ]]; then
  DEMO_KEY=$(python manage.py issue_apikey demo | tail -n 1)
  (umask 077 && printf '%s\n' "$DEMO_KEY" >"$KEY_FILE")
fi

pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM
STARTED_AT=$(date -u +%Y-%m-%dT%H:%M:%SZ)

# Housekeeping (re-queue expired jobs, re-dispatch lost messages, leaderboard) with beat embedded.
celery -A horde_site worker -B -Q housekeeping -n housekeeping@%h --concurrency 1 -l warning &
pids+=($!)
# One GPU worker with the procedural (CPU) backend serving every demo model, owned by the
# platform's operator (seed_demo): a comparison is never served by its requester's worker.
python manage.py gpu_worker --owner horde-gpu --backend procedural --all-models &
pids+=($!)
python manage.py runserver "$HOST:$PORT" --noreload &
pids+=($!)

# The banner comes last, once the services answer (checked, not slept): the web server's
# /healthz (database, cache, broker) and the GPU worker's first heartbeat since this start.
alive() { for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null || return 1; done; }
web_ok() {
  python - "$HOST" "$PORT" <<'PY'
import sys, urllib.request
host, port = sys.argv[1], sys.argv[2]
host = f"[{host}]" if ":" in host else host
try:
    with urllib.request.urlopen(f"http://{host}:{port}/healthz", timeout=2) as response:
        sys.exit(0 if response.status == 200 else 1)
except Exception:
    sys.exit(1)
PY
}
worker_ok() {
  HORDE_STARTED_AT=$STARTED_AT python manage.py shell -v 0 -c "
import os, sys
from django.utils.dateparse import parse_datetime
from generation.models import Worker
since = parse_datetime(os.environ['HORDE_STARTED_AT'])
sys.exit(0 if Worker.objects.filter(owner__username='horde-gpu', last_seen__gte=since).exists() else 1)"
}
for _ in $(seq 1 120); do
  if ! alive; then
    echo "run.sh: a service stopped during start-up (see its output above); nothing is running." >&2
    exit 1
  fi
  if web_ok && worker_ok; then
    cat <<MSG

  Horde is running:  http://$HOST:$PORT/
  Demo log-in:       demo / demo-password
  Demo API key:      $DEMO_KEY   (kept in $KEY_FILE)
  Admin:             http://$HOST:$PORT/admin/ (demo is staff)

  Ctrl-C stops everything.
MSG
    wait -n "${pids[@]}"
    exit $?
  fi
  sleep 1
done
echo "run.sh: the web server or the GPU worker did not answer within 2 minutes; stopping." >&2
exit 1
