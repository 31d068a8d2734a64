"""`manage.py images_strip_metadata` makes images stored before blind judging blind too."""

from __future__ import annotations

import io
import uuid

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command

from generation.management.commands.images_strip_metadata import name_is_random
from generation.models import GenerationRequest, Image, ImageModel, Job
from generation.services.images import webp_is_clean

from .conftest import webp
from .tagged_images import MARKER, tagged_jpeg, tagged_webp

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def stored_image(alice):
    """stored_image(data, name=None) -> an Image whose file holds `data` as it was stored
    (byte for byte), under `name` (default: the job's id, as older deployments did)."""
    model = ImageModel.objects.create(name="stable_diffusion", queue="sd15_test")

    def make(data: bytes, *, name: str | None = None) -> Image:
        request = GenerationRequest.objects.create(
            user=alice[0], model=model, prompt="a fox", width=64, height=64, steps=20, seed=1, n=1, kudos=1
        )
        job = Job.objects.create(
            request=request, index=0, position=0, model=model, seed=1, kudos=1, status=Job.Status.DONE
        )
        saved = default_storage.save(name or f"images/2026/01/31/{job.id}.webp", ContentFile(data))
        return Image.objects.create(job=job, request=request, file=saved, width=64, height=64, seed=1)

    return make


def read(image: Image) -> bytes:
    image.refresh_from_db()
    with default_storage.open(image.file.name, "rb") as handle:
        return handle.read()


def state(image: Image) -> tuple[str, bytes]:
    data = read(image)  # refreshes the row first
    return image.file.name, data


def strip(*args: str) -> str:
    out = io.StringIO()
    call_command("images_strip_metadata", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def random_name() -> str:
    return f"images/2026/01/31/{uuid.uuid4()}.webp"


def test_it_re_encodes_images_with_metadata_and_gives_them_random_names(stored_image):
    dirty = stored_image(tagged_webp(64, 64))
    old_name = dirty.file.name
    assert str(dirty.job_id) in old_name
    jpeg = stored_image(tagged_jpeg(64, 64), name=random_name())
    output = strip()
    assert "2 re-encoded, 0 renamed only, 0 already clean" in output
    for image in (dirty, jpeg):
        data = read(image)
        assert webp_is_clean(data)
        assert MARKER.encode() not in data
        assert name_is_random(image)
    assert str(dirty.job_id) not in dirty.file.name
    assert not default_storage.exists(old_name)  # the old file with its metadata is gone


def test_a_second_run_changes_nothing(stored_image):
    images = [stored_image(tagged_webp(64, 64)), stored_image(webp(64, 64), name=random_name())]
    strip()
    after_first = [state(image) for image in images]
    assert "0 re-encoded, 0 renamed only, 2 already clean" in strip()
    assert [state(image) for image in images] == after_first


def test_a_clean_image_under_a_random_name_is_left_byte_for_byte(stored_image):
    data = webp(64, 64)
    image = stored_image(data, name=random_name())
    name = image.file.name
    assert "1 already clean" in strip()
    assert state(image) == (name, data)


def test_a_clean_image_named_after_its_job_is_only_renamed(stored_image):
    data = webp(64, 64)
    image = stored_image(data)
    assert "0 re-encoded, 1 renamed only" in strip()
    assert read(image) == data  # not re-encoded again: no second generation loss
    assert name_is_random(image)


def test_a_dry_run_writes_nothing(stored_image):
    sent = tagged_webp(64, 64)
    image = stored_image(sent)
    name = image.file.name
    assert "would change: 1 re-encoded" in strip("--dry-run")
    assert state(image) == (name, sent)


def test_missing_and_unreadable_files_are_reported_and_the_others_still_cleaned(stored_image):
    missing = stored_image(webp(64, 64))
    default_storage.delete(missing.file.name)
    garbage = stored_image(b"RIFF\x10\x00\x00\x00WEBPnot really an image")
    dirty = stored_image(tagged_webp(64, 64))
    with pytest.raises(CommandError) as caught:
        strip()
    assert str(missing.id) in str(caught.value) and str(garbage.id) in str(caught.value)
    assert webp_is_clean(read(dirty))
    assert read(garbage) == b"RIFF\x10\x00\x00\x00WEBPnot really an image"  # left as it was, for staff to look at
