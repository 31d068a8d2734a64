"""Staff start the dataset export from the admin; a Celery task runs the command's code path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.conf import settings

from ratings.models import DatasetExport

pytestmark = pytest.mark.django_db

ADD_URL = "/admin/ratings/datasetexport/add/"
LIST_URL = "/admin/ratings/datasetexport/"


@pytest.fixture
def judged(make_model, make_pipeline, make_pair, make_vote, raters):
    model = make_model()
    one, two = make_pipeline(model, "one"), make_pipeline(model, "two")
    for rater, choice in zip(raters, ("left", "right", "tie"), strict=True):
        request, a, b = make_pair(model, one, two, files=True)
        make_vote(request, rater, a, b, choice)


@pytest.fixture
def staff_client(client):
    from accounts.models import User

    client.force_login(User.objects.create_superuser("staffer", "staff@example.com", "pw-not-used-123"))
    return client


@pytest.fixture
def eager_celery():
    """Tasks sent with .delay() run in this process, as a worker would run them."""
    from horde_site.celery import app

    before = {"task_always_eager": app.conf.task_always_eager, "task_eager_propagates": app.conf.task_eager_propagates}
    app.conf.update(task_always_eager=True, task_eager_propagates=True)
    yield
    app.conf.update(before)


def test_the_add_view_queues_an_export_that_the_task_runs(
    judged, staff_client, eager_celery, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = staff_client.post(ADD_URL, {"format": "jsonl", "since_0": "", "since_1": ""})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert len(callbacks) == 1  # the task is sent only after the row is committed
    export = DatasetExport.objects.get()
    assert export.status == DatasetExport.Status.DONE
    assert (export.rows, export.images, export.error) == (3, 6, "")
    assert export.requested_by.username == "staffer"
    assert export.started_at <= export.finished_at
    out = Path(export.out_dir)
    assert out.parent == Path(settings.RATINGS_EXPORT_ROOT)
    assert len((out / "ratings.jsonl").read_text().splitlines()) == 3
    assert json.loads((out / "manifest.json").read_text())["rows"] == 3


def test_the_add_view_takes_a_since(judged, staff_client, eager_celery, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(ADD_URL, {"format": "parquet", "since_0": "2999-01-01", "since_1": "00:00:00"})
    export = DatasetExport.objects.get()
    assert export.status == DatasetExport.Status.DONE and export.rows == 0
    assert export.since.year == 2999
    assert (Path(export.out_dir) / "ratings.parquet").is_file()


def test_the_start_action_runs_a_new_export_like_the_selected_one(
    judged, staff_client, eager_celery, django_capture_on_commit_callbacks
):
    from ratings.export import dataset_export_start

    old = dataset_export_start(format="parquet", since=None, requested_by=None)
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            LIST_URL, {"action": "start_again", "_selected_action": [old.pk], "index": 0}, follow=True
        )
    assert response.status_code == 200
    new = DatasetExport.objects.exclude(pk=old.pk).get()
    assert new.status == DatasetExport.Status.DONE and new.format == "parquet" and new.rows == 3
    assert new.out_dir != old.out_dir
    assert f"Queued export(s) {new.pk}" in response.content.decode()


def test_a_redelivered_task_does_not_run_the_export_twice(judged):
    from ratings.export import dataset_export_start
    from ratings.tasks import dataset_export_run

    export = dataset_export_start(format="jsonl", since=None, requested_by=None)
    assert dataset_export_run(export.pk) == "done"
    assert dataset_export_run(export.pk) is None
    export.refresh_from_db()
    assert export.status == DatasetExport.Status.DONE and export.rows == 3


def test_a_failed_export_is_recorded_for_staff(judged):
    from ratings.export import dataset_export_start
    from ratings.tasks import dataset_export_run

    export = dataset_export_start(format="jsonl", since=None, requested_by=None)
    Path(export.out_dir).mkdir(parents=True)
    (Path(export.out_dir) / "leftover.txt").write_text("x")
    assert dataset_export_run(export.pk) == "failed"
    export.refresh_from_db()
    assert export.status == DatasetExport.Status.FAILED and "is not empty" in export.error
    assert export.finished_at is not None


def test_the_admin_is_for_staff_only(judged, client, make_user):
    user, _ = make_user("nosy")
    client.force_login(user)
    response = client.post(ADD_URL, {"format": "jsonl"})
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert not DatasetExport.objects.exists()


def test_staff_see_the_runs_in_the_list(judged, staff_client):
    from ratings.export import dataset_export_start

    export = dataset_export_start(format="jsonl", since=None, requested_by=None)
    response = staff_client.get(LIST_URL)
    assert response.status_code == 200 and f"{LIST_URL}{export.pk}/change/" in response.content.decode()
    detail = staff_client.get(f"{LIST_URL}{export.pk}/change/")
    assert detail.status_code == 200 and export.out_dir in detail.content.decode()
