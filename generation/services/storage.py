"""Where image bytes live: the stored image files and the R2-style staging uploads."""

from __future__ import annotations

import contextlib
import uuid
from datetime import datetime

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from generation.models import Job


def r2_staging_name(job: Job) -> str:
    """Where the R2-style PUT of one claim (job + attempt) waits for its submit."""
    return f"r2-staging/{job.pk}-{job.attempts}.webp"


def r2_staging_discard(job: Job) -> None:
    with contextlib.suppress(Exception):  # best effort: a leftover file harms nothing
        name = r2_staging_name(job)
        if default_storage.exists(name):
            default_storage.delete(name)


def image_store(data: bytes, *, when: datetime | None = None) -> str:
    """Store image bytes under a random name (nothing in it says which job, pipeline or
    worker made it: judging stays blind); `when` dates the folder (default: now)."""
    when = when or timezone.now()
    name = f"images/{when:%Y/%m/%d}/{uuid.uuid4()}.webp"
    return default_storage.save(name, ContentFile(data))
