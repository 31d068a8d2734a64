"""Image sets built through the real import, and small helpers for the single-image tests."""

from __future__ import annotations

import io
import itertools
from pathlib import Path

import pytest
from PIL import Image as PILImage
from PIL import ImageDraw

from aesthetics.models import RatingSet, SetImage
from aesthetics.sets.importing import rating_set_import

_colors = itertools.cycle([(200, 60, 60), (60, 160, 90), (60, 90, 200), (220, 180, 40), (150, 70, 180)])


def picture_bytes(*, color: tuple[int, int, int], text: str = "", fmt: str = "PNG", **save) -> bytes:
    picture = PILImage.new("RGB", (64, 64), color)
    if text:
        ImageDraw.Draw(picture).text((4, 26), text, fill=(255, 255, 255))
    buffer = io.BytesIO()
    picture.save(buffer, format=fmt, **save)
    return buffer.getvalue()


def write_folder(folder: Path, count: int, *, prefix: str = "img") -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(count):
        path = folder / f"{prefix}{index:03d}.png"
        path.write_bytes(picture_bytes(color=(index * 7 % 256, index * 13 % 256, index * 29 % 256), text=str(index)))
        paths.append(path)
    return paths


@pytest.fixture(autouse=True)
def unthrottled(settings):
    # These tests rate at machine speed; the throttle has its own tests (test_throttle.py).
    settings.AESTHETICS_MIN_RATING_INTERVAL_SECONDS = 0
    settings.AESTHETICS_MAX_RATINGS_PER_MINUTE = 0


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def make_set(db, media, tmp_path):
    """make_set(name, count, controls={index: rating}) -> RatingSet, imported from a real folder."""

    def make(name: str = "laion-test", count: int = 6, *, controls: dict[int, int] | None = None) -> RatingSet:
        folder = tmp_path / f"src-{name}"
        write_folder(folder, count)
        lines = ["file,prompt,control_rating"]
        for index in range(count):
            control = (controls or {}).get(index, "")
            lines.append(f"img{index:03d}.png,prompt number {index},{control}")
        (folder / "prompts.csv").write_text("\n".join(lines) + "\n")
        rating_set, report = rating_set_import(name=name, path=folder)
        assert report.added == count and not report.bad
        return rating_set

    return make


def set_images(rating_set: RatingSet) -> list[SetImage]:
    return list(SetImage.objects.filter(rating_set=rating_set).order_by("source"))
