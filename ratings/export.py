"""The ratings dataset export: one row per counted vote, plus the image files.

One code path for both entry points: the `export_ratings` management command
and the admin's Celery task (ratings.tasks.dataset_export_run) both call
`export_ratings`.

What a row holds (index 0 = the image shown on the left, 1 = on the right):
- vote_id, request_id: pseudonyms (see below), never the site's ids
- source ("owner" / "arena"), choice (left/right/tie/both_bad), is_check (an answer
  to a gold pair or control image: only in exports made with include_checks)
- prompt, params (without a "seed" key), model, width, height, steps
- pipeline_0, pipeline_0_version, pipeline_1, pipeline_1_version
- image_0_id (a pseudonym), image_0_file (relative to the export folder:
  images/<image_0_id>.webp, or null when the stored file is missing); the same for image_1
- shown_order: [image_0_id, image_1_id], left to right
- label_0, label_1: 1/0 for the chosen side; a tie or "both bad" is 0.5/0.5
- aesthetic_0/1 (1-10), artifacts_0/1 (0-5), null when not given
- rater_hash (a pseudonym), rater_trust (trust score or null)
- seconds_to_vote, requested_at, voted_at (UTC)

Pseudonyms: HMAC-SHA256 keyed with RATINGS_PSEUDONYM_KEY (a secret of its own, so
rotating SECRET_KEY changes none of them) over "<namespace>:<id>", one namespace each
for raters, requests, images and votes, so one id never yields the same pseudonym in
two columns. They are stable across exports of one deployment. Nothing in a row links
back to the site: the shared request page (/requests/<request id>) shows the username
next to the request id, the image ids, the image URLs and the seed, so none of those
is written (no image URLs, no seed; image files are named by their pseudonym). The
prompt is the data itself and stays: whoever has seen a shared page can still match
its prompt.

`params` is a JSON object in jsonl and a JSON-encoded string in parquet (its keys
vary by request, which a fixed parquet schema cannot hold as a struct).
Only `ratings.selectors.votes_counted()` is exported: retracted votes, votes
of excluded raters and (unless include_checks) answers to checks stay out.
`manifest.json` is written last: a folder without one holds an export that did not finish.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
from tqdm import tqdm

from generation.models import Image

from .models import DatasetExport, RaterTrust, Vote
from .selectors import votes_counted

logger = logging.getLogger(__name__)

FORMATS = ("parquet", "jsonl")
DATA_FILES = {"parquet": "ratings.parquet", "jsonl": "ratings.jsonl"}
BATCH_ROWS = 2000

LABELS = {
    Vote.Choice.LEFT: (1.0, 0.0),
    Vote.Choice.RIGHT: (0.0, 1.0),
    Vote.Choice.TIE: (0.5, 0.5),
    Vote.Choice.BOTH_BAD: (0.5, 0.5),
}

_TS = pa.timestamp("us", tz="UTC")
SCHEMA = pa.schema(
    [
        ("vote_id", pa.string()),
        ("request_id", pa.string()),
        ("source", pa.string()),
        ("choice", pa.string()),
        ("is_check", pa.bool_()),
        ("prompt", pa.string()),
        ("params", pa.string()),
        ("model", pa.string()),
        ("width", pa.int32()),
        ("height", pa.int32()),
        ("steps", pa.int32()),
        ("pipeline_0", pa.string()),
        ("pipeline_0_version", pa.string()),
        ("pipeline_1", pa.string()),
        ("pipeline_1_version", pa.string()),
        ("image_0_id", pa.string()),
        ("image_0_file", pa.string()),
        ("image_1_id", pa.string()),
        ("image_1_file", pa.string()),
        ("shown_order", pa.list_(pa.string())),
        ("label_0", pa.float32()),
        ("label_1", pa.float32()),
        ("aesthetic_0", pa.int8()),
        ("aesthetic_1", pa.int8()),
        ("artifacts_0", pa.int8()),
        ("artifacts_1", pa.int8()),
        ("rater_hash", pa.string()),
        ("rater_trust", pa.float64()),
        ("seconds_to_vote", pa.float64()),
        ("requested_at", _TS),
        ("voted_at", _TS),
    ]
)


class ExportError(Exception):
    """A bad export argument (bad folder, format...): a clear message, nothing written."""


@dataclass
class ExportResult:
    out_dir: Path
    data_file: Path
    rows: int
    images: int
    images_missing: int


def pseudonym(namespace: str, value: object) -> str:
    """HMAC-SHA256(RATINGS_PSEUDONYM_KEY, "<namespace>:<value>"): stable, not reversible
    without the key, and different per namespace for the same id."""
    message = f"{namespace}:{value}".encode()
    return hmac.new(settings.RATINGS_PSEUDONYM_KEY.encode(), message, hashlib.sha256).hexdigest()


def rater_hash(rater_id: int) -> str:
    """A stable pseudonym for a rater, never the raw id (it survives a SECRET_KEY rotation)."""
    return pseudonym("rater", rater_id)


def export_votes(*, since: datetime | None = None, include_checks: bool = False) -> QuerySet[Vote]:
    votes = votes_counted(include_checks=include_checks).select_related(
        "request__model", "left_image__job__pipeline", "right_image__job__pipeline"
    )
    if since is not None:
        votes = votes.filter(created_at__gte=since)
    return votes.order_by("created_at", "id")


class _ImageCopier:
    """Copies each image once into <out>/images/<id>.webp; remembers what is there."""

    def __init__(self, out_dir: Path) -> None:
        self.folder = out_dir / "images"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.copied: dict[str, str | None] = {}
        self.missing = 0

    def copy(self, image: Image) -> str | None:
        key = pseudonym("image", image.pk)
        if key in self.copied:
            return self.copied[key]
        relative: str | None = f"images/{key}.webp"
        try:
            with image.file.open("rb") as source, open(self.folder / f"{key}.webp", "wb") as target:
                shutil.copyfileobj(source, target)
        except (FileNotFoundError, ValueError):
            # The stored file is gone (or was never written): keep the row, say so.
            relative = None
            self.missing += 1
        self.copied[key] = relative
        return relative


def _params(params: Any) -> Any:
    # The seed is shown on the shared request page next to the username: it would link the row.
    return {key: value for key, value in params.items() if key != "seed"} if isinstance(params, dict) else params


def _row(vote: Vote, *, images: _ImageCopier, trust: dict[int, float]) -> dict[str, Any]:
    request = vote.request
    left, right = vote.left_image, vote.right_image
    left_pipeline, right_pipeline = left.job.pipeline, right.job.pipeline
    label_0, label_1 = LABELS[vote.choice]
    image_0, image_1 = pseudonym("image", left.pk), pseudonym("image", right.pk)
    return {
        "vote_id": pseudonym("vote", vote.pk),
        "request_id": pseudonym("request", request.pk),
        "source": vote.source,
        "choice": vote.choice,
        "is_check": vote.is_check,
        "prompt": request.prompt,
        "params": _params(request.params),
        "model": request.model.name,
        "width": request.width,
        "height": request.height,
        "steps": request.steps,
        "pipeline_0": left_pipeline.name if left_pipeline else None,
        "pipeline_0_version": left_pipeline.version if left_pipeline else None,
        "pipeline_1": right_pipeline.name if right_pipeline else None,
        "pipeline_1_version": right_pipeline.version if right_pipeline else None,
        "image_0_id": image_0,
        "image_0_file": images.copy(left),
        "image_1_id": image_1,
        "image_1_file": images.copy(right),
        "shown_order": [image_0, image_1],
        "label_0": label_0,
        "label_1": label_1,
        "aesthetic_0": vote.left_aesthetic,
        "aesthetic_1": vote.right_aesthetic,
        "artifacts_0": vote.left_artifacts,
        "artifacts_1": vote.right_artifacts,
        "rater_hash": rater_hash(vote.rater_id),
        "rater_trust": trust.get(vote.rater_id),
        "seconds_to_vote": vote.seconds_to_vote,
        "requested_at": request.created_at,
        "voted_at": vote.created_at,
    }


def _batches(rows: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH_ROWS:
            yield batch
            batch = []
    if batch:
        yield batch


def _write_parquet(path: Path, rows: Iterator[dict[str, Any]]) -> None:
    # Batches keep memory flat however many votes there are.
    with pq.ParquetWriter(path, SCHEMA) as writer:
        for batch in _batches(rows):
            for row in batch:
                row["params"] = json.dumps(row["params"], sort_keys=True)
            writer.write_table(pa.Table.from_pylist(batch, schema=SCHEMA))


def _write_jsonl(path: Path, rows: Iterator[dict[str, Any]]) -> None:
    with open(path, "w", encoding="utf-8") as out:
        for row in rows:
            row["requested_at"] = row["requested_at"].astimezone(UTC).isoformat()
            row["voted_at"] = row["voted_at"].astimezone(UTC).isoformat()
            out.write(json.dumps(row, ensure_ascii=False) + "\n")


def check_out_dir(out_dir: Path) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise ExportError(f"--out {out_dir} is a file, not a folder.")
    if out_dir.exists() and any(out_dir.iterdir()):
        raise ExportError(f"--out {out_dir} is not empty: choose a new folder so no earlier export is mixed in.")


def export_ratings(
    *,
    format: str,
    out_dir: Path | str,
    since: datetime | None = None,
    include_checks: bool = False,
    progress: bool = False,
) -> ExportResult:
    """Write the dataset (data file, images/, manifest.json) into an empty `out_dir`.

    `include_checks` adds the answers to gold pairs and control images, flagged `is_check`
    (they are never preferences; left out by default)."""
    if format not in FORMATS:
        raise ExportError(f"Unknown format {format!r}: use one of {', '.join(FORMATS)}.")
    if since is not None and timezone.is_naive(since):
        raise ExportError("since must carry a time zone.")
    out_dir = Path(out_dir)
    check_out_dir(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    votes = export_votes(since=since, include_checks=include_checks)
    total = votes.count()
    trust = dict(RaterTrust.objects.values_list("user_id", "score"))
    images = _ImageCopier(out_dir)
    counter = {"rows": 0}

    def rows() -> Iterator[dict[str, Any]]:
        with tqdm(total=total, unit="vote", desc="export_ratings", disable=not progress) as bar:
            for vote in votes.iterator(chunk_size=BATCH_ROWS):
                yield _row(vote, images=images, trust=trust)
                counter["rows"] += 1
                bar.update(1)

    data_file = out_dir / DATA_FILES[format]
    (_write_parquet if format == "parquet" else _write_jsonl)(data_file, rows())

    image_count = sum(1 for path in images.copied.values() if path is not None)
    manifest = {
        "format": format,
        "data_file": data_file.name,
        "rows": counter["rows"],
        "images": image_count,
        "images_missing": images.missing,
        "since": since.isoformat() if since else None,
        "include_checks": include_checks,
        "created_at": datetime.now(tz=UTC).isoformat(),
        "labels": "label_0/label_1: 1/0 for the chosen image, 0.5/0.5 for tie or both_bad",
        "pseudonyms": {
            "key": "RATINGS_PSEUDONYM_KEY",
            "rater_hash": "HMAC-SHA256(key, 'rater:<user id>')",
            "request_id": "HMAC-SHA256(key, 'request:<request id>')",
            "image_0_id, image_1_id, shown_order, image files": "HMAC-SHA256(key, 'image:<image id>')",
            "vote_id": "HMAC-SHA256(key, 'vote:<vote id>')",
        },
        "columns": SCHEMA.names,
    }
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return ExportResult(
        out_dir=out_dir,
        data_file=data_file,
        rows=counter["rows"],
        images=image_count,
        images_missing=images.missing,
    )


# --- the admin's runs --------------------------------------------------------------------


def export_root() -> Path:
    return Path(getattr(settings, "RATINGS_EXPORT_ROOT", Path(settings.VAR_DIR) / "exports"))


def dataset_export_start(*, format: str, since: datetime | None, requested_by: Any) -> DatasetExport:
    """Create a queued export run; the caller enqueues the task on commit (see admin)."""
    if format not in FORMATS:
        raise ExportError(f"Unknown format {format!r}: use one of {', '.join(FORMATS)}.")
    export = DatasetExport.objects.create(format=format, since=since, requested_by=requested_by)
    # Staff never choose a server path: each run gets its own folder under the export root.
    export.out_dir = str(export_root() / f"export-{export.pk:06d}")
    export.save(update_fields=["out_dir"])
    return export


def dataset_export_run(*, export_id: int) -> DatasetExport | None:
    """Run a queued export once (the Celery task's body). None if it was not queued."""
    claimed = DatasetExport.objects.filter(pk=export_id, status=DatasetExport.Status.QUEUED).update(
        status=DatasetExport.Status.RUNNING, started_at=timezone.now()
    )
    if claimed != 1:
        return None  # unknown, or another worker got there first (a redelivered message)
    export = DatasetExport.objects.get(pk=export_id)
    try:
        result = export_ratings(format=export.format, out_dir=export.out_dir, since=export.since)
    except Exception as error:  # a failed run is recorded for staff, not lost in a worker log
        logger.exception("dataset export %s failed", export_id)
        export.status = DatasetExport.Status.FAILED
        export.error = f"{type(error).__name__}: {error}"
        export.finished_at = timezone.now()
        export.save(update_fields=["status", "error", "finished_at"])
        return export
    export.status = DatasetExport.Status.DONE
    export.rows = result.rows
    export.images = result.images
    export.finished_at = timezone.now()
    export.save(update_fields=["status", "rows", "images", "finished_at"])
    return export
