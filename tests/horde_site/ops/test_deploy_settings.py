"""Production settings: what `check --deploy` asks for, strict environment variables, one home
for the queue's tunables. Each case starts a fresh interpreter with its own environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

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


def child_database_url() -> str:
    """The test database (the health check asks it for SELECT 1), as the child's DATABASE_URL."""
    from django.db import connection

    conf = connection.settings_dict
    auth = quote(conf.get("USER") or "") + (f":{quote(conf['PASSWORD'])}" if conf.get("PASSWORD") else "")
    return f"postgres://{auth}@{conf.get('HOST') or '127.0.0.1'}:{conf.get('PORT') or 5432}/{conf['NAME']}"


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
print(client.get("/healthz").content.decode())
"""


def test_production_redirects_to_https_but_not_the_health_check(db):
    result = run(PROBE, DEBUG="0", ALLOWED_HOSTS="testserver", DATABASE_URL=child_database_url())
    lines = result.stdout.split("\n")
    assert lines[0] == "/generate 301"
    # Over plain HTTP the health check answers itself (a load balancer probes from inside).
    assert lines[1] == "/healthz 200"
    assert json.loads(lines[3]) == {"status": "ok", "database": "ok", "cache": "ok", "broker": "ok"}
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
    assert "HORDE_PROXY_HOPS=0 is too small: it must be at least 1" in result.stderr


def test_the_queue_tunables_are_read_from_the_environment():
    code = "import django; django.setup(); from generation import conf as c; print(c.aging_per_second(), c.max_n())"
    result = run(code, DEBUG="0", HORDE_PRIORITY_AGING_PER_SECOND="2.5", HORDE_MAX_N="4")
    assert result.stdout.split() == ["2.5", "4"], result.stderr


def test_production_does_not_serve_media_unless_asked():
    code = "import django; django.setup(); from django.conf import settings; print(settings.SERVE_MEDIA)"
    assert run(code, DEBUG="0").stdout.strip() == "False"
    assert run(code, DEBUG="0", SERVE_MEDIA="1").stdout.strip() == "True"
    assert run(code, DEBUG="1").stdout.strip() == "True"


def test_a_number_that_is_not_a_number_names_its_variable():
    result = manage("check", DEBUG="0", RATINGS_TRUST_THRESHOLD="half")
    assert result.returncode != 0
    assert "RATINGS_TRUST_THRESHOLD='half' is not a number" in result.stderr


def test_a_number_that_is_not_finite_stops_the_start():
    result = manage("check", DEBUG="0", RATINGS_WEIGHT_CAP="nan")
    assert result.returncode != 0
    assert "RATINGS_WEIGHT_CAP='nan' is not a finite number" in result.stderr


def test_a_zero_job_ttl_stops_the_start():
    result = manage("check", DEBUG="0", HORDE_JOB_TTL_SECONDS="0")
    assert result.returncode != 0
    assert "HORDE_JOB_TTL_SECONDS=0 is too small: it must be at least 1" in result.stderr


def test_a_task_time_limit_that_leaves_no_soft_limit_stops_the_start():
    result = manage("check", DEBUG="0", CELERY_TASK_TIME_LIMIT="30")
    assert result.returncode != 0
    assert "CELERY_TASK_TIME_LIMIT=30 is too small: it must be at least 31" in result.stderr


def test_a_zero_housekeeping_interval_stops_the_start():
    result = manage("check", DEBUG="0", HORDE_REQUEUE_EVERY_SECONDS="0")
    assert result.returncode != 0
    assert "HORDE_REQUEUE_EVERY_SECONDS=0 is too small" in result.stderr


def test_a_negative_throttle_interval_stops_the_start():
    result = manage("check", DEBUG="0", RATINGS_ARENA_MIN_VOTE_INTERVAL_SECONDS="-1")
    assert result.returncode != 0
    assert "RATINGS_ARENA_MIN_VOTE_INTERVAL_SECONDS=-1.0 is too small: it must be at least 0" in result.stderr


def test_the_smallest_sane_values_start():
    result = manage(
        "check", DEBUG="0", HORDE_JOB_TTL_SECONDS="1", CELERY_TASK_TIME_LIMIT="31", HORDE_PROCEDURAL_SECONDS="0.5"
    )
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_the_procedural_backend_reads_its_time_from_the_settings():
    code = "import django; django.setup(); "
    code += "from generation.backends import get_backend as g; print(g('procedural').seconds)"
    assert run(code, DEBUG="0", HORDE_PROCEDURAL_SECONDS="0.25").stdout.strip() == "0.25"
    assert (
        "HORDE_PROCEDURAL_SECONDS='soon' is not a number"
        in run(code, DEBUG="0", HORDE_PROCEDURAL_SECONDS="soon").stderr
    )


def test_an_unknown_log_level_or_format_stops_the_start():
    assert "LOG_LEVEL='loud': use DEBUG" in manage("check", DEBUG="0", LOG_LEVEL="loud").stderr
    assert "LOG_FORMAT='xml': use json or text" in manage("check", DEBUG="0", LOG_FORMAT="xml").stderr
