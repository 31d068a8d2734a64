"""A real Celery worker on the housekeeping queue runs what the admin and Celery beat send."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.core.cache import cache

from ratings.leaderboard import CACHE_KEY
from ratings.models import DatasetExport

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[3]


def database_url() -> str:
    from django.db import connection

    db = connection.settings_dict
    auth = quote(db["USER"] or "", safe="") + (f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def worker(transactional_db, tmp_path):
    """`celery worker -Q housekeeping` in a child process, on the test database and this test's folders."""
    from horde_site.celery import app

    app.control.purge()  # nothing left over from earlier runs on this broker
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "RATINGS_EXPORT_ROOT": str(settings.RATINGS_EXPORT_ROOT),
        "HORDE_VAR_DIR": str(tmp_path / "worker-var"),
        "DB_CONN_MAX_AGE": "0",
    }
    command = [sys.executable, "-m", "celery", "-A", "horde_site", "worker", "-Q", "housekeeping", "--pool", "solo"]
    command += ["--without-heartbeat", "--without-mingle", "--without-gossip", "--loglevel", "INFO"]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    ready = threading.Event()

    def read() -> None:
        for line in process.stdout:
            lines.append(line)
            if "ready." in line:
                ready.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        assert ready.wait(60), "the worker did not start:\n" + "".join(lines)
        yield lines
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_for(check, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.2)
    return check()


def test_an_export_started_in_the_admin_is_run_by_a_worker(
    client, make_model, make_pipeline, make_pair, make_vote, raters, worker
):
    from accounts.models import User

    model = make_model()
    one, two = make_pipeline(model, "one"), make_pipeline(model, "two")
    for rater in raters:
        request, a, b = make_pair(model, one, two, files=True)
        make_vote(request, rater, a, b, "left")
    client.force_login(User.objects.create_superuser("staffer", "staff@example.com", "pw-not-used-123"))
    response = client.post("/admin/ratings/datasetexport/add/", {"format": "parquet", "since_0": "", "since_1": ""})
    assert response.status_code == 302

    export = DatasetExport.objects.get()
    done = wait_for(lambda: DatasetExport.objects.filter(pk=export.pk, status="done").first())
    assert done, "".join(worker)
    assert (done.rows, done.images) == (3, 6)
    assert (Path(done.out_dir) / "ratings.parquet").is_file()
    assert len(list((Path(done.out_dir) / "images").iterdir())) == 6


def test_the_beat_task_fills_the_cache_through_a_worker(
    make_model, make_pipeline, make_pair, make_vote, raters, worker
):
    from ratings.tasks import leaderboard_refresh

    model = make_model()
    one, two = make_pipeline(model, "one"), make_pipeline(model, "two")
    request, a, b = make_pair(model, one, two)
    make_vote(request, raters[0], a, b, "right")
    cache.delete(CACHE_KEY)
    # What Celery beat sends: the scheduled task name on the housekeeping queue.
    entry = settings.CELERY_BEAT_SCHEDULE["ratings-leaderboard-refresh"]
    leaderboard_refresh.apply_async(**entry.get("options", {}))
    board = wait_for(lambda: cache.get(CACHE_KEY))
    assert board, "".join(worker)
    assert [row["name"] for row in board["models"][0]["pipelines"]] == ["two", "one"]
