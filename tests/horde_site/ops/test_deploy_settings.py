"""Production settings: what `check --deploy` asks for, strict environment variables, one home
for the queue's tunables. Each case starts a fresh interpreter with its own environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
STRONG_KEY = "k" * 20 + "".join(chr(ord("a") + i) for i in range(26)) + "0123456789"


def run(code: str, **env: str) -> subprocess.CompletedProcess:
    unset = ("HORDE_HTTPS", "SERVE_MEDIA", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE")
    base = {k: v for k, v in os.environ.items() if k not in unset}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "horde_site.settings", "SECRET_KEY": STRONG_KEY, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    code = "from django.core.management import execute_from_command_line; execute_from_command_line({!r})"
    return run(code.format(["manage.py", *args]), **env)


def test_the_production_defaults_pass_the_deploy_checks_of_security():
    result = manage("check", "--deploy", DEBUG="0")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "security." not in result.stdout + result.stderr


def test_plain_http_settings_fail_the_deploy_checks_of_security():
    result = manage("check", "--deploy", DEBUG="0", HORDE_HTTPS="0")
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in result.stderr + result.stdout


PROBE = """
import django
django.setup()
from django.test import Client
client = Client()
for path, headers in (("/generate", {}), ("/healthz", {}), ("/generate", {"HTTP_X_FORWARDED_PROTO": "https"})):
    print(path, client.get(path, **headers).status_code)
"""


def test_production_redirects_to_https_but_not_the_health_check():
    lines = run(PROBE, DEBUG="0", ALLOWED_HOSTS="testserver").stdout.split("\n")
    assert lines[0] == "/generate 301"
    assert lines[1] != "/healthz 301"
    assert lines[2] == "/generate 301"  # the header is not trusted without HORDE_BEHIND_PROXY


def test_behind_a_proxy_its_forwarded_https_is_trusted():
    lines = run(PROBE, DEBUG="0", ALLOWED_HOSTS="testserver", HORDE_BEHIND_PROXY="1").stdout.split("\n")
    assert lines[2] != "/generate 301", lines


def test_a_typo_in_a_yes_no_variable_stops_the_start():
    result = run("import django; django.setup()", DEBUG="ture")
    assert result.returncode != 0
    assert "DEBUG='ture' is not a yes/no value" in result.stderr


def test_a_number_that_is_none_stops_the_start():
    result = run("import django; django.setup()", DEBUG="0", HORDE_JOB_TTL_SECONDS="5m")
    assert "HORDE_JOB_TTL_SECONDS='5m' is not a whole number" in result.stderr


def test_a_proxy_chain_of_no_proxies_stops_the_start():
    result = run("import django; django.setup()", DEBUG="0", HORDE_BEHIND_PROXY="1", HORDE_PROXY_HOPS="0")
    assert result.returncode != 0
    assert "HORDE_PROXY_HOPS=0 must be 1 or more" in result.stderr


def test_the_queue_tunables_are_read_from_the_environment():
    code = "import django; django.setup(); from generation import conf as c; print(c.aging_per_second(), c.max_n())"
    result = run(code, DEBUG="0", HORDE_PRIORITY_AGING_PER_SECOND="2.5", HORDE_MAX_N="4")
    assert result.stdout.split() == ["2.5", "4"], result.stderr


def test_production_does_not_serve_media_unless_asked():
    code = "import django; django.setup(); from django.conf import settings; print(settings.SERVE_MEDIA)"
    assert run(code, DEBUG="0").stdout.strip() == "False"
    assert run(code, DEBUG="0", SERVE_MEDIA="1").stdout.strip() == "True"
    assert run(code, DEBUG="1").stdout.strip() == "True"
