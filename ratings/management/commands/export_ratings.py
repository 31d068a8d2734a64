"""python manage.py export_ratings --format parquet|jsonl --out DIR [--since DATE] [--include-checks]

Writes the ratings dataset (see ratings.export for the columns) with a progress
bar. The admin's "start export" runs the same code in a Celery task.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.dateparse import parse_date, parse_datetime

from ratings.export import FORMATS, ExportError, export_ratings


def parse_since(value: str) -> datetime:
    """A date (midnight UTC) or an ISO datetime (UTC when it names no zone)."""
    try:
        moment = parse_datetime(value)
        if moment is None:
            day = parse_date(value)
            moment = datetime.combine(day, time.min) if day is not None else None
    except ValueError:
        moment = None  # well-formed but impossible, e.g. 2024-02-30
    if moment is None:
        raise CommandError(f"--since {value!r} is not a date: use YYYY-MM-DD or an ISO datetime.")
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class Command(BaseCommand):
    help = "Export counted votes (one row per judged pair) with their images, as parquet or jsonl."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", required=True, choices=FORMATS, help="parquet or jsonl")
        parser.add_argument("--out", required=True, help="An empty (or new) folder to write into.")
        parser.add_argument("--since", help="Only votes cast at or after this date / ISO datetime (UTC).")
        parser.add_argument(
            "--include-checks",
            action="store_true",
            help="Also write the answers to gold pairs and control images (flagged is_check; never preferences).",
        )
        parser.add_argument("--no-progress", action="store_true", help="Hide the progress bar.")

    def handle(self, *args: Any, **options: Any) -> None:
        since = parse_since(options["since"]) if options.get("since") else None
        try:
            result = export_ratings(
                format=options["format"],
                out_dir=Path(options["out"]),
                since=since,
                include_checks=options["include_checks"],
                progress=not options["no_progress"],
            )
        except ExportError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            self.style.SUCCESS(
                f"Exported {result.rows} votes and {result.images} images to {result.out_dir}"
                + (f" ({result.images_missing} image files missing)" if result.images_missing else "")
            )
        )
