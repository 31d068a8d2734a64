#!/usr/bin/env bash
# Compile the top-level requirements (*.in) into fully pinned lock files with hashes:
#   ./scripts/lock.sh            # re-lock what changed in the .in files
#   LOCK_ARGS=--upgrade ./scripts/lock.sh  # the newest versions the .in files allow
# pip-tools runs from a venv of its own (var/piptools), so the project's venv stays as locked.
# requirements-sdk.in (horde-sdk, Python 3.12+) is compiled by a pip-tools venv on a 3.12+
# interpreter (var/piptools-sdk): a lock resolves for the Python that compiles it.
set -euo pipefail
cd "$(dirname "$0")/.."

piptools() {  # piptools VENV PYTHON: make VENV with pip-tools unless it is there
  if [ ! -x "$1/bin/pip-compile" ]; then
    "$2" -m venv "$1"
    "$1/bin/python" -m pip install -q pip-tools==7.6.2
  fi
}

compile() {  # compile VENV IN TXT
  echo "==> $3"
  "$1/bin/pip-compile" -q --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url \
    --no-emit-find-links --output-file "$3" ${LOCK_ARGS:-} "$2"
}

piptools var/piptools python3
for name in requirements requirements-dev requirements-gpu; do
  compile var/piptools "$name.in" "$name.txt"
done

source scripts/_sdk_python.sh
piptools var/piptools-sdk "$_sdk_python"
compile var/piptools-sdk requirements-sdk.in requirements-sdk.txt
