"""`manage.py export_image_ratings OUT [--format parquet|jsonl] [--set NAME]`: the per-image dataset."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from aesthetics.export import FORMATS, export_image_ratings
from ratings.export import ExportError


class Command(BaseCommand):
    help = "Export single-image ratings (one row per image and one per rating) with the images."

    def add_arguments(self, parser) -> None:
        parser.add_argument("out", help="An empty (or new) folder.")
        parser.add_argument("--format", choices=FORMATS, default="parquet")
        parser.add_argument("--set", dest="rating_set", default=None, help="Only this rating set.")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, out: str, format: str, rating_set: str | None, no_progress: bool, **options) -> None:
        try:
            result = export_image_ratings(format=format, out_dir=out, rating_set=rating_set, progress=not no_progress)
        except ExportError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"{result.images} images, {result.ratings} ratings written to {result.out_dir}"
            + (f" ({result.images_missing} image files missing)" if result.images_missing else "")
        )
