"""Run horde-sdk (the newest, in strict mode) on answers Horde gave: the referee for API shapes.

horde-sdk needs Python 3.12, so it lives in a venv of its own (.venv-sdk, made by
scripts/test.sh; HORDE_SDK_PYTHON names its interpreter). With TESTS_ONGOING=1 its models
refuse unknown fields and wrong types, as the SDK's own test suite does.
"""

from __future__ import annotations

import json
import os
import subprocess

CHECK = r"""
import json, sys
from horde_sdk.ai_horde_api import apimodels
results = []
for name, data in json.load(sys.stdin):
    try:
        getattr(apimodels, name).model_validate(data)
        results.append(None)
    except Exception as exc:  # the SDK's verdict, whatever its type
        results.append(f"{type(exc).__name__}: {exc}"[:2000])
print(json.dumps(results))
"""


def sdk_python() -> str:
    path = os.environ.get("HORDE_SDK_PYTHON", "")
    assert path, "HORDE_SDK_PYTHON is not set: run the tests with ./scripts/test.sh (it builds .venv-sdk)"
    return path


def strict_errors(answers: list[tuple[str, object]]) -> list[str | None]:
    """For each (SDK response model name, answer JSON): None when the SDK takes it, else why not."""
    result = subprocess.run(
        [sdk_python(), "-c", CHECK],
        input=json.dumps(answers),
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "TESTS_ONGOING": "1"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def sdk_version() -> str:
    result = subprocess.run(
        [sdk_python(), "-c", "import importlib.metadata as m; print(m.version('horde_sdk'))"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result.stdout.strip()
