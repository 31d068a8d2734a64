"""Staff import an uploaded set and export the per-image dataset from the admin (through Celery tasks)."""

from __future__ import annotations

import io
import zipfile

import pyarrow.parquet as pq
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from aesthetics import tasks
from aesthetics.models import RatingSet, SetImage
from aesthetics.services import image_rate

from .conftest import picture_bytes, set_images

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, make_user):
    user, _ = make_user("staffer")
    user.is_staff = user.is_superuser = True
    user.save()
    client.force_login(user)
    return client


@pytest.fixture
def run_tasks_here(monkeypatch):
    """The tasks run in this process when they are sent (as a worker would run them)."""
    for task in (tasks.rating_set_import_upload, tasks.image_ratings_export):
        monkeypatch.setattr(task, "delay", lambda *args, task=task: task.apply(args=args).get())


def zip_of(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        for name, data in files.items():
            bundle.writestr(name, data)
    return buffer.getvalue()


def test_staff_upload_a_zip_and_the_good_images_are_imported_the_bad_one_skipped(
    staff_client, media, run_tasks_here, settings, django_capture_on_commit_callbacks
):
    data = zip_of(
        {
            "set/a.png": picture_bytes(color=(1, 2, 3)),
            "set/b.jpg": picture_bytes(color=(200, 100, 0), fmt="JPEG"),
            "set/broken.png": b"\x89PNG not really",
            "set/prompts.csv": b"file,prompt\na.png,an apple\n",
            "../escape.png": picture_bytes(color=(9, 9, 9)),  # unpacked inside the upload folder, not above it
        }
    )
    with django_capture_on_commit_callbacks(execute=True):
        answer = staff_client.post(
            "/admin/aesthetics/ratingset/import/",
            {"name": "uploaded", "file": SimpleUploadedFile("set.zip", data)},
        )
    assert answer.status_code == 302
    images = SetImage.objects.filter(rating_set__name="uploaded")
    assert images.count() == 3
    assert images.get(prompt="an apple").source.endswith("a.png")
    assert not (settings.VAR_DIR / "rating-set-uploads").exists() or not any(
        (settings.VAR_DIR / "rating-set-uploads").iterdir()
    )  # the upload is deleted after the run


def test_an_upload_that_is_neither_zip_nor_parquet_is_a_form_error_and_imports_nothing(staff_client, media):
    answer = staff_client.post(
        "/admin/aesthetics/ratingset/import/", {"name": "nope", "file": SimpleUploadedFile("x.tar", b"abc")}
    )
    assert answer.status_code == 200 and "Upload a .zip of images or a .parquet file." in answer.content.decode()
    assert not RatingSet.objects.filter(name="nope").exists()


def test_the_import_page_is_for_staff_only(client, make_user):
    user, _ = make_user("bob-not-staff")
    client.force_login(user)
    assert client.get("/admin/aesthetics/ratingset/import/").status_code == 302  # to the admin login


def test_staff_export_a_set_from_the_admin(
    staff_client, make_set, alice, run_tasks_here, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.RATINGS_EXPORT_ROOT = tmp_path / "exports"
    rating_set = make_set(count=2)
    image_rate(rater=alice[0], image_id=set_images(rating_set)[0].id, rating=9, artifacts=1)
    with django_capture_on_commit_callbacks(execute=True):
        answer = staff_client.post(
            "/admin/aesthetics/ratingset/",
            {"action": "export_parquet", "_selected_action": [str(rating_set.pk)]},
        )
    assert answer.status_code == 302
    (folder,) = list((tmp_path / "exports").iterdir())
    rows = pq.read_table(folder / "images.parquet").to_pylist()
    assert sorted(row["rating_count"] for row in rows) == [0, 1]
    assert (folder / "manifest.json").exists()
