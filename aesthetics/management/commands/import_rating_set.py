"""`manage.py import_rating_set NAME PATH`: bring an image set in for single-image rating."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from aesthetics.sets.importing import SetImportError, rating_set_import


class Command(BaseCommand):
    help = (
        "Import a folder of images (with an optional CSV/Parquet of prompts) or a Parquet file of image "
        "bytes into the rating set NAME. Resumable; duplicates are skipped by content hash."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("name", help="The set's name (a slug); created if new, resumed if it exists.")
        parser.add_argument("path", help="A folder of images or a Parquet file.")
        parser.add_argument("--description", default="")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args, name: str, path: str, description: str, no_progress: bool, **options) -> None:
        try:
            rating_set, report = rating_set_import(
                name=name, path=path, description=description, progress=not no_progress
            )
        except SetImportError as exc:
            raise CommandError(str(exc)) from exc
        for source, reason in report.bad:
            self.stderr.write(f"skipped {source}: {reason}")
        self.stdout.write(
            f"{rating_set.name}: {report.added} added, {report.duplicates} duplicates, "
            f"{report.already_imported} already imported, {len(report.bad)} bad"
        )
