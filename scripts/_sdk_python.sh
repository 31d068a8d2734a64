# Sourced by _venv_sdk.sh and lock.sh: finds a Python 3.12+ interpreter (horde-sdk needs it) and
# sets _sdk_python; HORDE_SDK_BASE_PYTHON names one explicitly.
_sdk_python=${HORDE_SDK_BASE_PYTHON:-}
if [ -z "$_sdk_python" ]; then
  for candidate in python3.13 python3.12 "$(pyenv root 2>/dev/null)"/versions/3.12.*/bin/python3.12; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
      _sdk_python=$candidate
      break
    fi
  done
fi
if [ -z "$_sdk_python" ]; then
  echo "horde-sdk needs Python 3.12 or newer (pyenv install 3.12, or set HORDE_SDK_BASE_PYTHON)." >&2
  exit 1
fi
