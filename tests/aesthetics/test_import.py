"""`import_rating_set`: folders with prompts, Parquet with bytes, bad files, duplicates, resuming."""

from __future__ import annotations

import io
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.core.management import CommandError, call_command
from PIL import Image as PILImage

from aesthetics.models import RatingSet, SetImage
from aesthetics.sets import importing
from aesthetics.sets.importing import rating_set_import
from generation.services.images import webp_is_clean

from .conftest import picture_bytes, write_folder

pytestmark = pytest.mark.django_db


def stored_files(media: Path) -> list[Path]:
    return sorted(p for p in Path(media).rglob("*") if p.is_file())


def test_a_folder_with_a_bad_file_among_good_ones_imports_the_good_reports_the_bad_and_skips_duplicates(
    media, tmp_path
):
    folder = tmp_path / "set"
    good = write_folder(folder, 3)
    (folder / "broken.png").write_bytes(good[0].read_bytes()[:60])  # a truncated png
    (folder / "zz-copy-of-first.png").write_bytes(good[0].read_bytes())  # the same picture again
    (folder / "notes.txt").write_text("not an image, not a table: ignored")
    (folder / "prompts.csv").write_text("file,prompt\nimg000.png,a red fox\nimg001.png,a green hill\n")
    out, err = io.StringIO(), io.StringIO()

    call_command("import_rating_set", "fox-set", str(folder), "--no-progress", stdout=out, stderr=err)

    assert "3 added, 1 duplicates, 0 already imported, 1 bad" in out.getvalue()
    assert "skipped broken.png" in err.getvalue()
    images = list(SetImage.objects.filter(rating_set__name="fox-set").order_by("source"))
    assert [image.source for image in images] == ["img000.png", "img001.png", "img002.png"]
    assert [image.prompt for image in images] == ["a red fox", "a green hill", ""]
    # Nothing half-written: exactly one stored file per row, none for the bad file or the duplicate.
    assert len(stored_files(media)) == 3
    for image in images:
        data = image.file.read()
        assert webp_is_clean(data)  # re-encoded: no metadata, no original container
        assert image.file.name.startswith("images/") and "img0" not in image.file.name
        assert (image.width, image.height) == (64, 64)


def test_metadata_in_the_source_is_not_in_the_stored_image(media, tmp_path):
    folder = tmp_path / "meta"
    folder.mkdir()
    exif = PILImage.Exif()
    exif[0x010E] = "secret pipeline name"  # ImageDescription
    (folder / "tagged.jpg").write_bytes(picture_bytes(color=(10, 20, 30), fmt="JPEG", exif=exif.tobytes()))

    rating_set, report = rating_set_import(name="meta", path=folder)

    data = SetImage.objects.get(rating_set=rating_set).file.read()
    assert report.added == 1 and webp_is_clean(data)
    assert b"secret pipeline name" not in data


def test_a_second_run_resumes_without_adding_anything_and_a_grown_folder_adds_only_the_new_images(media, tmp_path):
    folder = tmp_path / "grow"
    write_folder(folder, 4)
    rating_set_import(name="grow", path=folder)
    _, again = rating_set_import(name="grow", path=folder)
    assert (again.added, again.already_imported, again.duplicates) == (0, 4, 0)

    write_folder(folder, 6)  # two more files (the first four are rewritten identically)
    _, grown = rating_set_import(name="grow", path=folder)
    assert (grown.added, grown.already_imported) == (2, 4)
    assert SetImage.objects.filter(rating_set__name="grow").count() == 6
    assert len(stored_files(media)) == 6


def test_a_parquet_file_of_image_bytes_imports_with_prompts_and_reports_its_bad_row(media, tmp_path):
    rows = [
        {"key": "a", "image": {"bytes": picture_bytes(color=(1, 2, 3))}, "caption": "first"},
        {"key": "b", "image": {"bytes": b"not an image at all"}, "caption": "broken"},
        {"key": "c", "image": {"bytes": picture_bytes(color=(9, 8, 7), fmt="WEBP")}, "caption": "third"},
    ]
    path = tmp_path / "set.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path)

    rating_set, report = rating_set_import(name="parquet-set", path=path)

    assert report.added == 2 and [source for source, _ in report.bad] == ["set.parquet#b"]
    images = list(SetImage.objects.filter(rating_set=rating_set).order_by("source"))
    assert [(image.source, image.prompt) for image in images] == [
        ("set.parquet#a", "first"),
        ("set.parquet#c", "third"),
    ]
    assert len(stored_files(media)) == 2


def test_when_the_row_cannot_be_written_its_stored_file_is_deleted_again(media, tmp_path, monkeypatch):
    folder = tmp_path / "fail"
    write_folder(folder, 2)

    def refuse(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(importing.SetImage.objects, "create", refuse)
    with pytest.raises(RuntimeError):
        rating_set_import(name="fail", path=folder)
    assert stored_files(media) == []
    assert SetImage.objects.count() == 0


def test_control_ratings_come_from_the_prompt_table_and_a_bad_one_is_reported(media, tmp_path):
    folder = tmp_path / "ctl"
    write_folder(folder, 3)
    (folder / "prompts.csv").write_text("file,prompt,control_rating\nimg000.png,rate this 7,7\nimg001.png,x,12\n")

    rating_set, report = rating_set_import(name="ctl", path=folder)

    assert report.added == 2 and report.bad[0][0] == "img001.png" and "1-10" in report.bad[0][1]
    controls = dict(SetImage.objects.filter(rating_set=rating_set).values_list("source", "control_rating"))
    assert controls == {"img000.png": 7, "img002.png": None}


def test_a_path_that_is_neither_a_folder_nor_parquet_is_a_clear_command_error(media, tmp_path):
    with pytest.raises(CommandError, match="neither a folder of images nor a Parquet file"):
        call_command("import_rating_set", "nothing", str(tmp_path / "missing.zip"), "--no-progress")
    assert not RatingSet.objects.filter(name="nothing").exists()


def test_a_broken_parquet_file_or_one_without_an_image_column_is_a_clear_error_and_creates_no_set(media, tmp_path):
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(CommandError, match="not a readable Parquet file"):
        call_command("import_rating_set", "broken", str(broken), "--no-progress")
    no_images = tmp_path / "captions.parquet"
    pq.write_table(pa.Table.from_pylist([{"caption": "only text"}]), no_images)
    with pytest.raises(CommandError, match="no image column"):
        call_command("import_rating_set", "captions", str(no_images), "--no-progress")
    assert not RatingSet.objects.exists()
