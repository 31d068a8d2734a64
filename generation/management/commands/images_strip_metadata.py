"""python manage.py images_strip_metadata: make images stored before blind judging blind too.

Every image stored from now on is re-encoded on ingest (generation.services.images).
Older deployments kept a worker's webp byte for byte, metadata included, and may
have names that carry a job's id. This command re-encodes each stored image that
is not already a bare webp (`webp_is_clean`) and moves every image whose name is
not a fresh random one to one. Files already clean, under a random name, are left
alone, so a second run changes nothing (idempotent). Dataset exports written
before the run keep their old copies: export again.
"""

from __future__ import annotations

import re
from typing import Any

from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand, CommandError, CommandParser

from generation.models import Image
from generation.services.images import image_reencode, webp_is_clean
from generation.services.storage import image_store

_RANDOM_NAME = re.compile(
    r"^images/\d{4}/\d{2}/\d{2}/(?P<uuid>[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12})\.webp$"
)


def name_is_random(image: Image) -> bool:
    """The name a completion gives (images/<date>/<uuid4>.webp) and not one of the ids a
    rater could match it against (the job's, the request's, the worker's)."""
    match = _RANDOM_NAME.match(image.file.name or "")
    if match is None:
        return False
    known = {str(image.job_id), str(image.request_id), str(image.worker_id)}
    return match["uuid"] not in known


class Command(BaseCommand):
    help = "Re-encode stored images without metadata (EXIF, XMP, ICC, comments) and give them random names."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Report what would change; write nothing.")

    def handle(self, *args: Any, dry_run: bool = False, **options: Any) -> None:
        counts = {"clean": 0, "reencoded": 0, "renamed": 0, "missing": 0, "failed": 0}
        failed: list[str] = []
        images = Image.objects.only("id", "file", "width", "height", "created_at", "job", "request", "worker")
        for image in images.order_by("created_at", "id").iterator(chunk_size=200):
            outcome = self._strip(image, dry_run=dry_run)
            counts[outcome] += 1
            if outcome in ("missing", "failed"):
                failed.append(str(image.id))
        prefix = "would change: " if dry_run else ""
        self.stdout.write(
            f"{prefix}{counts['reencoded']} re-encoded, {counts['renamed']} renamed only, "
            f"{counts['clean']} already clean, {counts['missing']} missing, {counts['failed']} unreadable"
        )
        if failed:
            raise CommandError(f"{len(failed)} image(s) could not be cleaned: {', '.join(failed)}")

    def _strip(self, image: Image, *, dry_run: bool) -> str:
        old_name = image.file.name
        try:
            with default_storage.open(old_name, "rb") as handle:
                data = handle.read()
        except (FileNotFoundError, OSError):
            self.stderr.write(f"image {image.id}: its file {old_name} is missing")
            return "missing"
        clean = webp_is_clean(data)
        if clean and name_is_random(image):
            return "clean"
        if not clean:
            try:
                data = image_reencode(data=data, max_pixels=max(image.width * image.height * 2, 64 * 64))
            except ValueError as exc:
                self.stderr.write(f"image {image.id}: {exc}")
                return "failed"
        if dry_run:
            return "renamed" if clean else "reencoded"
        # Write the clean copy first and only then point the row at it: a crash in
        # between leaves an unused file, never a row without its image.
        new_name = image_store(data, when=image.created_at)
        # Compare-and-swap on the old name: if the row changed meanwhile (another run of
        # this command), keep that and drop our copy instead of overwriting it.
        if Image.objects.filter(pk=image.pk, file=old_name).update(file=new_name) != 1:
            default_storage.delete(new_name)
            return "clean"
        default_storage.delete(old_name)
        return "renamed" if clean else "reencoded"
