"""Bringing an image set in: `manage.py import_rating_set NAME PATH` and the admin.

Sources: a folder of images (jpeg, png, webp) with an optional CSV or Parquet
file of prompts (columns `file` or `filename`, and `prompt`, `caption` or
`text`), or a Parquet file whose rows hold the image bytes (an `image` column
of bytes, or of {"bytes": ...} as Hugging Face datasets write it) and a prompt.

- Every image is decoded and re-encoded without metadata
  (generation.services.images.image_reencode) and stored under a random name
  (generation.services.storage.image_store): what is served is never the
  original file.
- Resumable: a source already imported into the set is skipped without being
  decoded; an image whose content hash is already in the set is a duplicate.
- A bad file is reported and skipped; nothing of it is written (a stored file
  whose row cannot be written is deleted again).
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import itertools
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from PIL import Image as PILImage

from generation.services.images import image_reencode
from generation.services.storage import image_store

from ..models import RatingSet, SetImage

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}
FILE_COLUMNS = ("file", "filename", "file_name", "image", "path", "name")
PROMPT_COLUMNS = ("prompt", "caption", "text")
CONTROL_COLUMNS = ("control_rating", "control")


class SetImportError(Exception):
    """The source itself cannot be read (not one bad image among good ones)."""


@dataclasses.dataclass
class ImportReport:
    added: int = 0
    duplicates: int = 0
    already_imported: int = 0
    bad: list[tuple[str, str]] = dataclasses.field(default_factory=list)


@dataclasses.dataclass(frozen=True)
class Source:
    """One image to bring in: where it came from, how to read its bytes, its prompt."""

    name: str
    read: object  # () -> bytes
    prompt: str = ""
    control_rating: int | None = None


def _pick(columns: list[str], wanted: tuple[str, ...]) -> str | None:
    lowered = {column.lower(): column for column in columns}
    return next((lowered[name] for name in wanted if name in lowered), None)


def _control(value: object) -> int | None:
    if value in (None, ""):
        return None
    number = int(float(str(value)))
    if not 1 <= number <= 10:
        raise ValueError(f"control rating {number} is not 1-10")
    return number


def _table_rows(path: Path) -> list[dict]:
    if path.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        return pq.read_table(path).to_pylist()
    with open(path, newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def _folder_sources(folder: Path) -> Iterator[Source]:
    prompts: dict[str, dict] = {}
    tables = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in (".csv", ".parquet"))
    for table in tables:
        rows = _table_rows(table)
        if not rows:
            continue
        file_column = _pick(list(rows[0]), FILE_COLUMNS)
        if file_column is None:
            raise SetImportError(f"{table.name}: no file column (one of {', '.join(FILE_COLUMNS)}).")
        for row in rows:
            prompts[Path(str(row[file_column])).name] = row
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES):
        row = prompts.get(path.name, {})
        prompt_column = _pick(list(row), PROMPT_COLUMNS)
        control_column = _pick(list(row), CONTROL_COLUMNS)
        yield Source(
            name=str(path.relative_to(folder)),
            read=path.read_bytes,
            prompt=str(row[prompt_column] or "") if prompt_column else "",
            control_rating=row.get(control_column) if control_column else None,
        )


def _parquet_sources(path: Path) -> Iterator[Source]:
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(path)
    columns = parquet.schema_arrow.names
    image_column = _pick(columns, ("image", "image_bytes", "bytes", "jpg", "png", "webp"))
    if image_column is None:
        raise SetImportError(f"{path.name}: no image column (image, image_bytes, bytes, jpg, png or webp).")
    prompt_column = _pick(columns, PROMPT_COLUMNS)
    key_column = _pick(columns, ("key", "id", "file", "filename"))
    control_column = _pick(columns, CONTROL_COLUMNS)
    index = 0
    # Batches keep memory flat: the bytes of a large set never sit in memory at once.
    for batch in parquet.iter_batches(batch_size=256):
        for row in batch.to_pylist():
            value = row[image_column]
            data = value.get("bytes") if isinstance(value, dict) else value
            key = row[key_column] if key_column else index
            yield Source(
                name=f"{path.name}#{key}",
                read=lambda data=data: bytes(data or b""),
                prompt=str(row[prompt_column] or "") if prompt_column else "",
                control_rating=row.get(control_column) if control_column else None,
            )
            index += 1


def zip_unpack(*, archive: Path, into: Path, max_bytes: int) -> Path:
    """Unpack an uploaded zip of images (and prompt tables) into `into`, refusing a zip bomb.

    zipfile drops absolute paths and ".." parts itself, so nothing lands outside `into`."""
    import zipfile

    try:
        with zipfile.ZipFile(archive) as bundle:
            if sum(info.file_size for info in bundle.infolist()) > max_bytes:
                raise SetImportError(f"{archive.name} unpacks to more than {max_bytes} bytes.")
            bundle.extractall(into)
    except zipfile.BadZipFile as exc:
        raise SetImportError(f"{archive.name} is not a readable zip file.") from exc
    return into


def rating_set_sources(path: Path | str) -> tuple[Iterator[Source], int]:
    """The sources at `path` and how many there are. A Parquet file is read lazily, a batch at
    a time (its rows hold the image bytes); a folder lists its files (their bytes are read one
    at a time)."""
    path = Path(path)
    if path.is_dir():
        sources = list(_folder_sources(path))
        return iter(sources), len(sources)
    if path.is_file() and path.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        try:
            rows = pq.ParquetFile(path).metadata.num_rows
        except Exception as exc:  # pyarrow raises its own error types for a broken file
            raise SetImportError(f"{path.name} is not a readable Parquet file ({exc}).") from exc
        return _parquet_sources(path), rows
    raise SetImportError(f"{path} is neither a folder of images nor a Parquet file.")


def _image_add(*, rating_set: RatingSet, source: Source, report: ImportReport) -> None:
    try:
        control = _control(source.control_rating)
        clean = image_reencode(data=source.read(), max_pixels=settings.AESTHETICS_IMPORT_MAX_PIXELS)
        with PILImage.open(io.BytesIO(clean)) as picture:
            width, height = picture.size
    except (ValueError, OSError) as exc:
        report.bad.append((source.name, str(exc)))
        return
    digest = hashlib.sha256(clean).hexdigest()
    if SetImage.objects.filter(rating_set=rating_set, content_hash=digest).exists():
        report.duplicates += 1
        return
    name = image_store(clean)
    try:
        with transaction.atomic():
            SetImage.objects.create(
                rating_set=rating_set,
                file=name,
                content_hash=digest,
                source=source.name[:500],
                prompt=source.prompt,
                width=width,
                height=height,
                control_rating=control,
            )
    except IntegrityError:
        # The same picture added meanwhile (a duplicate in the same run or a concurrent import).
        default_storage.delete(name)
        report.duplicates += 1
    except BaseException:
        default_storage.delete(name)  # nothing half-written: no file without its row
        raise
    else:
        report.added += 1


def rating_set_import(
    *, name: str, path: Path | str, description: str = "", progress: bool = False
) -> tuple[RatingSet, ImportReport]:
    """Import (or resume importing) the images at `path` into the set `name` (created if new)."""
    sources, total = rating_set_sources(path)
    # Reading the first source checks the file before a set is created for it.
    first = next(sources, None)
    rating_set, _ = RatingSet.objects.get_or_create(name=name, defaults={"description": description})
    done = set(SetImage.objects.filter(rating_set=rating_set).values_list("source", flat=True))
    report = ImportReport()
    iterator: Iterator[Source] = itertools.chain([first], sources) if first is not None else iter(())
    if progress:
        from tqdm import tqdm

        iterator = tqdm(iterator, total=total, desc=f"import {name}", unit="image")
    for source in iterator:
        if source.name in done:
            report.already_imported += 1
            continue
        _image_add(rating_set=rating_set, source=source, report=report)
    return rating_set, report
