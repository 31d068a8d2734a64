"""scripts/run.sh tells the truth: a busy port stops it, naming PORT, before anything starts."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_a_busy_port_stops_run_sh_with_a_message_naming_port_before_anything_starts(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = {**os.environ, "PORT": str(port), "HOST": "127.0.0.1", "HORDE_VAR_DIR": str(tmp_path / "var")}
        result = subprocess.run(
            [str(ROOT / "scripts" / "run.sh")], env=env, capture_output=True, text=True, timeout=60, check=False
        )
    assert result.returncode == 2
    assert f"127.0.0.1:{port} is already in use" in result.stderr
    assert "PORT=" in result.stderr
    assert "Horde is running" not in result.stdout + result.stderr
    assert not (tmp_path / "var").exists()  # no migration, no demo key, no service was started
