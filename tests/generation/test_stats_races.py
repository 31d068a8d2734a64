"""The statistics counters under concurrency, on PostgreSQL: finishes at once all count, and a
compaction racing a finish moves its count instead of losing it."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from generation.models import GenerationStat, ImageModel
from generation.services.stats import minute_start, stats_compact, stats_count_finished
from generation.stats import image_totals
from tests.threads import run_in_threads

from .conftest import SD

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def model(demo_models):
    return ImageModel.objects.get(name=SD)


def test_a_read_then_write_counter_loses_finishes_that_happen_at_once(model):
    """Why the counter adds in the database: read, add one and write back, and two finishes count once."""
    row = GenerationStat.objects.create(model=model, span="minute", start=minute_start(timezone.now()))
    both_read = threading.Barrier(2)

    def naive(_index: int) -> None:
        with transaction.atomic():
            images = GenerationStat.objects.get(pk=row.pk).images
            both_read.wait(timeout=10)
            GenerationStat.objects.filter(pk=row.pk).update(images=images + 1)

    run_in_threads(naive, 2)
    row.refresh_from_db()
    assert row.images == 1  # one finish lost


def test_finishes_at_once_in_one_minute_all_count(model):
    at = minute_start(timezone.now()) + timedelta(seconds=5)

    def finish(_index: int) -> None:
        for _ in range(10):
            with transaction.atomic():
                stats_count_finished(model_id=model.pk, pixelsteps=3, at=at)

    results = run_in_threads(finish, 6)
    assert results == [None] * 6
    row = GenerationStat.objects.get()
    assert (row.images, row.pixelsteps) == (60, 180)


def test_a_compaction_racing_a_finish_moves_its_count(model):
    now = timezone.now()
    old = now - timedelta(hours=3)
    stats_count_finished(model_id=model.pk, pixelsteps=10, at=old)  # committed: the row exists
    counted = threading.Event()

    def finish() -> None:
        with transaction.atomic():
            stats_count_finished(model_id=model.pk, pixelsteps=10, at=old)  # locks the old minute row
            counted.set()
            time.sleep(1.0)  # the compaction meets the lock meanwhile

    def compact() -> None:
        counted.wait(timeout=10)
        stats_compact(now=now)

    results = run_in_threads(lambda index: (finish, compact)[index](), 2)
    assert results == [None, None]
    assert image_totals(now=now)["total"] == {"images": 2, "ps": 20}
    assert list(GenerationStat.objects.values_list("span", "images")) == [("hour", 2)]
