# Sourced by run.sh and test.sh: make .venv (Python 3.11+) and install a requirements file into it.
# Re-installs only when the requirements files change (a hash stamp in .venv).
set -euo pipefail
HORDE_PYTHON=${HORDE_PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv with $($HORDE_PYTHON --version)"
  "$HORDE_PYTHON" -m venv .venv
fi
_req_file=$1
_stamp=.venv/.installed-$(basename "$_req_file")
_hash=$(cat requirements*.txt | sha256sum | cut -d' ' -f1)
if [ ! -f "$_stamp" ] || [ "$(cat "$_stamp")" != "$_hash" ]; then
  echo "==> installing $_req_file into .venv"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -r "$_req_file"
  echo "$_hash" > "$_stamp"
fi
export PATH="$PWD/.venv/bin:$PATH"
