# Sourced by test.sh: .venv-sdk, a Python 3.12+ venv holding horde-sdk (requirements-sdk.txt),
# which the strict-conformance tests run in a subprocess. Exports HORDE_SDK_PYTHON.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_sdk_python.sh"
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
