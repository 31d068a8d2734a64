#!/usr/bin/env bash
# The whole test suite, lint included:  ./scripts/test.sh [pytest args]
# Finds PostgreSQL and Redis by itself (see scripts/find_services.py).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh requirements-dev.txt
if [ "${HORDE_TEST_GPU:-0}" = "1" ]; then
  source scripts/_venv.sh requirements-gpu.txt
fi

# horde-sdk, the referee for API shapes, needs Python 3.12+: a venv of its own (.venv-sdk).
source scripts/_venv_sdk.sh

eval "$(python scripts/find_services.py)"
if [ -n "${HORDE_TEST_SERVICES_DIR:-}" ]; then
  trap 'python scripts/find_services.py --stop "$HORDE_TEST_SERVICES_DIR"' EXIT
fi
export SECRET_KEY=${SECRET_KEY:-test-secret-key-not-for-production}
export RATINGS_PSEUDONYM_KEY=${RATINGS_PSEUDONYM_KEY:-test-pseudonym-key-not-for-production}
export DEBUG=0
# Production settings but plain HTTP on loopback (no HTTPS redirect, no secure-only cookies).
export HORDE_HTTPS=${HORDE_HTTPS:-0}
export SERVE_MEDIA=${SERVE_MEDIA:-1}  # live-server tests download the images from Horde itself
# Rate limits count per client in Redis across tests; their own tests switch them on.
export HORDE_RATE_LIMITS_OFF=${HORDE_RATE_LIMITS_OFF:-1}
export HORDE_VAR_DIR=${HORDE_VAR_DIR:-$(mktemp -d -t horde-test-var-XXXX)}

if [ ! -x /usr/bin/chromium ]; then
  echo "Browser tests need Debian's Chromium at /usr/bin/chromium: apt-get install -y chromium" >&2
  exit 1
fi

echo "==> lint (ruff)"
ruff check .
ruff format --check .

echo "==> django checks"
python manage.py check --fail-level WARNING
python manage.py makemigrations --check --dry-run >/dev/null

echo "==> tests"
python -m pytest "$@"
