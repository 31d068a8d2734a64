#!/usr/bin/env bash
# Compile the top-level requirements (*.in) into fully pinned lock files with hashes:
#   ./scripts/lock.sh            # re-lock what changed in the .in files
#   LOCK_ARGS=--upgrade ./scripts/lock.sh  # the newest versions the .in files allow
# pip-tools runs from a venv of its own (var/piptools), so the project's venv stays as locked.
set -euo pipefail
cd "$(dirname "$0")/.."
tools=var/piptools
if [ ! -x "$tools/bin/pip-compile" ]; then
  python3 -m venv "$tools"
  "$tools/bin/python" -m pip install -q pip-tools==7.6.2
fi
for pair in "requirements.in requirements.txt" "requirements-dev.in requirements-dev.txt" \
  "requirements-gpu.in requirements-gpu.txt"; do
  set -- $pair
  echo "==> $2"
  "$tools/bin/pip-compile" -q --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url \
    --no-emit-find-links --output-file "$2" ${LOCK_ARGS:-} "$1"
done
