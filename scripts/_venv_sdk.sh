# Sourced by test.sh: .venv-sdk, a Python 3.12+ venv holding horde-sdk (requirements-sdk.txt),
# which the strict-conformance tests run in a subprocess. Exports HORDE_SDK_PYTHON.
set -euo pipefail
_sdk_python=${HORDE_SDK_BASE_PYTHON:-}
if [ -z "$_sdk_python" ]; then
  for candidate in python3.13 python3.12 "$(pyenv root 2>/dev/null)"/versions/3.12.*/bin/python3.12; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))'; then
      _sdk_python=$candidate
      break
    fi
  done
fi
if [ -z "$_sdk_python" ]; then
  echo "The strict horde-sdk tests need Python 3.12 or newer (pyenv install 3.12, or set HORDE_SDK_BASE_PYTHON)." >&2
  exit 1
fi
if [ ! -x .venv-sdk/bin/python ]; then
  echo "==> creating .venv-sdk with $("$_sdk_python" --version)"
  "$_sdk_python" -m venv .venv-sdk
fi
_sdk_hash=$(sha256sum requirements-sdk.txt | cut -d' ' -f1)
if [ ! -f .venv-sdk/.installed ] || [ "$(cat .venv-sdk/.installed)" != "$_sdk_hash" ]; then
  echo "==> installing requirements-sdk.txt into .venv-sdk"
  .venv-sdk/bin/python -m pip install -q -r requirements-sdk.txt
  echo "$_sdk_hash" > .venv-sdk/.installed
fi
export HORDE_SDK_PYTHON=$PWD/.venv-sdk/bin/python
