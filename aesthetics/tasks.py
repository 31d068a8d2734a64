"""Celery entry points of the aesthetics app."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="aesthetics.shared_comparisons_join", queue="housekeeping")
def shared_comparisons_join() -> int:
    """Periodic (Celery beat): shared SDXL beta images join the built-in rating set."""
    from .sets.shared import shared_comparisons_join as join

    return join()


# An import or export may handle many images: far longer than the default task time limit.
@shared_task(
    name="aesthetics.rating_set_import_upload", queue="housekeeping", time_limit=6 * 3600, soft_time_limit=6 * 3600 - 60
)
def rating_set_import_upload(name: str, path: str, description: str = "") -> dict:
    """Import an upload saved by the admin (a .zip of images or a .parquet), then delete it."""
    import logging
    import shutil
    from pathlib import Path

    from django.conf import settings

    from .sets.importing import rating_set_import, zip_unpack

    upload = Path(path)
    source = upload
    try:
        if upload.suffix == ".zip":
            source = zip_unpack(
                archive=upload, into=upload.parent / "unpacked", max_bytes=settings.AESTHETICS_UPLOAD_MAX_BYTES
            )
        rating_set, report = rating_set_import(name=name, path=source, description=description)
    finally:
        shutil.rmtree(upload.parent, ignore_errors=True)
    for bad, reason in report.bad:
        logging.getLogger(__name__).warning("import %s: skipped %s: %s", name, bad, reason)
    return {"set": rating_set.name, "added": report.added, "duplicates": report.duplicates, "bad": len(report.bad)}


@shared_task(
    name="aesthetics.image_ratings_export", queue="housekeeping", time_limit=6 * 3600, soft_time_limit=6 * 3600 - 60
)
def image_ratings_export(format: str, out_dir: str, rating_set: str | None = None) -> dict:
    from .export import export_image_ratings

    result = export_image_ratings(format=format, out_dir=out_dir, rating_set=rating_set)
    return {"out_dir": str(result.out_dir), "images": result.images, "ratings": result.ratings}
