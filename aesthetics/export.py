"""The per-image aesthetics dataset: `manage.py export_image_ratings OUT`.

Shaped like the LAION aesthetics sets: one row per image (images.parquet or
images.jsonl) and one row per rating (ratings.parquet or ratings.jsonl), with the
image files under images/ and manifest.json written last (a folder without one
holds an export that did not finish).

Image row: image_id (a pseudonym), rating_set, file (images/<image_id>.webp, or
null when the stored file is missing), prompt, width, height, rating_count,
rating_mean, rating_median, artifacts_count, artifacts_mean, artifacts_median
(null with no ratings behind them).
Rating row: image_id, rater_hash (a pseudonym, as in the pair export), rater_trust
(the rater's trust score), rating (1-10), artifacts (0-5 or null), rated_at (UTC).

Counted, as the leaderboard counts votes: ratings of raters whose trust is excluded
or flagged stay out, and control images ("rate this image N") are checks, never
opinions: neither they nor their ratings are exported. Pseudonyms are
ratings.export.pseudonym (keyed with RATINGS_PSEUDONYM_KEY, namespace
"set-image"), so nothing links a row back to the site's ids or URLs.
"""

from __future__ import annotations

import dataclasses
import json
import statistics
from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import groupby
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from django.db.models import Q, QuerySet
from tqdm import tqdm

from ratings.export import ExportError, check_out_dir, pseudonym, rater_hash
from ratings.models import RaterTrust

from .models import ImageRating, SetImage

FORMATS = ("parquet", "jsonl")
BATCH = 2000

IMAGE_SCHEMA = pa.schema(
    [
        ("image_id", pa.string()),
        ("rating_set", pa.string()),
        ("file", pa.string()),
        ("prompt", pa.string()),
        ("width", pa.int32()),
        ("height", pa.int32()),
        ("rating_count", pa.int32()),
        ("rating_mean", pa.float64()),
        ("rating_median", pa.float64()),
        ("artifacts_count", pa.int32()),
        ("artifacts_mean", pa.float64()),
        ("artifacts_median", pa.float64()),
    ]
)
RATING_SCHEMA = pa.schema(
    [
        ("image_id", pa.string()),
        ("rater_hash", pa.string()),
        ("rater_trust", pa.float64()),
        ("rating", pa.int8()),
        ("artifacts", pa.int8()),
        ("rated_at", pa.timestamp("us", tz="UTC")),
    ]
)


@dataclasses.dataclass(frozen=True)
class ImageExportResult:
    out_dir: Path
    images: int
    ratings: int
    images_missing: int


def counted_ratings() -> QuerySet[ImageRating]:
    return ImageRating.objects.filter(is_check=False, image__control_rating__isnull=True).exclude(
        Q(rater__rater_trust__excluded=True) | Q(rater__rater_trust__flagged=True)
    )


class _Writer:
    """Rows to a Parquet or JSON-lines file, in batches (memory stays flat)."""

    def __init__(self, path: Path, schema: pa.Schema, format: str) -> None:
        self.format, self.schema, self.batch = format, schema, []
        self.parquet = pq.ParquetWriter(path, schema) if format == "parquet" else None
        self.jsonl = open(path, "w", encoding="utf-8") if format == "jsonl" else None  # noqa: SIM115
        self.rows = 0

    def write(self, row: dict[str, Any]) -> None:
        self.rows += 1
        if self.jsonl is not None:
            out = {
                key: value.astimezone(UTC).isoformat() if isinstance(value, datetime) else value
                for key, value in row.items()
            }
            self.jsonl.write(json.dumps(out, ensure_ascii=False) + "\n")
            return
        self.batch.append(row)
        if len(self.batch) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if self.parquet is not None and self.batch:
            self.parquet.write_table(pa.Table.from_pylist(self.batch, schema=self.schema))
        self.batch = []

    def close(self) -> None:
        self.flush()
        if self.parquet is not None:
            self.parquet.close()
        if self.jsonl is not None:
            self.jsonl.close()


def _summary(values: list[int]) -> tuple[int, float | None, float | None]:
    if not values:
        return 0, None, None
    return len(values), round(statistics.fmean(values), 4), float(statistics.median(values))


def export_image_ratings(
    *, format: str, out_dir: Path | str, rating_set: str | None = None, progress: bool = False
) -> ImageExportResult:
    """Write the per-image dataset into an empty `out_dir` (all active and inactive sets,
    or only `rating_set`)."""
    if format not in FORMATS:
        raise ExportError(f"Unknown format {format!r}: use one of {', '.join(FORMATS)}.")
    out_dir = Path(out_dir)
    check_out_dir(out_dir)
    (out_dir / "images").mkdir(parents=True, exist_ok=True)
    images = SetImage.objects.filter(control_rating__isnull=True).select_related("rating_set").order_by("id")
    ratings = counted_ratings().order_by("image_id", "created_at", "id")
    if rating_set is not None:
        if not SetImage.objects.filter(rating_set__name=rating_set).exists():
            raise ExportError(f"No rating set named {rating_set!r} with images.")
        images = images.filter(rating_set__name=rating_set)
        ratings = ratings.filter(image__rating_set__name=rating_set)
    trust = dict(RaterTrust.objects.values_list("user_id", "score"))
    image_writer = _Writer(out_dir / f"images.{format}", IMAGE_SCHEMA, format)
    rating_writer = _Writer(out_dir / f"ratings.{format}", RATING_SCHEMA, format)
    missing = 0
    # A merge of two streams ordered by image id: one pass over each, whatever the size.
    grouped: Iterator = groupby(
        ratings.values_list("image_id", "rater_id", "rating", "artifacts", "created_at").iterator(chunk_size=BATCH),
        key=lambda row: row[0],
    )
    pending = next(grouped, None)
    try:
        for image in tqdm(images.iterator(chunk_size=BATCH), total=images.count(), disable=not progress, unit="image"):
            rows: list = []
            while pending is not None and pending[0] < image.id:
                pending = next(grouped, None)  # ratings of an image filtered out (none expected)
            if pending is not None and pending[0] == image.id:
                rows = list(pending[1])
                pending = next(grouped, None)
            image_id = pseudonym("set-image", image.id)
            file_name = f"images/{image_id}.webp"
            try:
                with image.file.open("rb") as source:
                    (out_dir / file_name).write_bytes(source.read())
            except OSError:
                file_name, missing = None, missing + 1
            for _, rater_id, rating, artifacts, created_at in rows:
                rating_writer.write(
                    {
                        "image_id": image_id,
                        "rater_hash": rater_hash(rater_id),
                        "rater_trust": trust.get(rater_id),
                        "rating": rating,
                        "artifacts": artifacts,
                        "rated_at": created_at,
                    }
                )
            count, mean, median = _summary([row[2] for row in rows])
            artifacts_count, artifacts_mean, artifacts_median = _summary([row[3] for row in rows if row[3] is not None])
            image_writer.write(
                {
                    "image_id": image_id,
                    "rating_set": image.rating_set.name,
                    "file": file_name,
                    "prompt": image.prompt,
                    "width": image.width,
                    "height": image.height,
                    "rating_count": count,
                    "rating_mean": mean,
                    "rating_median": median,
                    "artifacts_count": artifacts_count,
                    "artifacts_mean": artifacts_mean,
                    "artifacts_median": artifacts_median,
                }
            )
    finally:
        image_writer.close()
        rating_writer.close()
    manifest = {
        "format": format,
        "rating_set": rating_set,
        "images": image_writer.rows,
        "ratings": rating_writer.rows,
        "images_missing": missing,
        "created_at": datetime.now(tz=UTC).isoformat(),
        "counted": "ratings of raters not excluded or flagged; control images and their ratings left out",
        "pseudonyms": {
            "key": "RATINGS_PSEUDONYM_KEY",
            "image_id, image files": "HMAC-SHA256(key, 'set-image:<image id>')",
            "rater_hash": "HMAC-SHA256(key, 'rater:<user id>')",
        },
        "columns": {"images": IMAGE_SCHEMA.names, "ratings": RATING_SCHEMA.names},
    }
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return ImageExportResult(
        out_dir=out_dir, images=image_writer.rows, ratings=rating_writer.rows, images_missing=missing
    )
