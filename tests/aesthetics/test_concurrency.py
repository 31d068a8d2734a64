"""Concurrent single-image ratings on PostgreSQL with threads.

Pairs: a naive check-then-pay rating (written here, for the test only) pays twice
for one rater and image; the service, whose insert and reward share one
transaction behind the (image, rater) unique constraint, pays once. A naive
read-then-write counter loses a rating under two raters; the service's F()
update in the rating transaction counts both.
"""

from __future__ import annotations

import threading
import uuid

import pytest

from aesthetics import services
from aesthetics.models import ImageRating, SetImage
from aesthetics.services import image_rate
from kudos.models import Transaction
from kudos.services import kudos_rebate
from tests.threads import run_in_threads

from .conftest import set_images

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_race_shows_without_the_guard_a_naive_check_then_pay_pays_twice(charlie, make_set):
    image = set_images(make_set(count=1))[0]
    barrier = threading.Barrier(2)

    def naive(_):
        if ImageRating.objects.filter(image=image, rater=charlie[0]).exists():
            return "refused"
        barrier.wait(timeout=10)  # both threads have passed the check
        kudos_rebate(user=charlie[0], amount=2, event_key=f"naive-image-rating:{uuid.uuid4()}")
        return "paid"

    assert run_in_threads(naive) == ["paid", "paid"]
    assert Transaction.objects.filter(kind="rating_rebate").count() == 2


def test_the_guard_stops_it_two_simultaneous_ratings_of_one_image_pay_once(charlie, make_set, monkeypatch):
    image = set_images(make_set(count=1))[0]
    barrier = threading.Barrier(2)
    original = services._image

    def image_then_wait(image_id):
        found = original(image_id)
        barrier.wait(timeout=10)  # both threads are past every check before the insert
        return found

    monkeypatch.setattr(services, "_image", image_then_wait)
    results = run_in_threads(
        lambda index: image_rate(rater=charlie[0], image_id=image.id, rating=3 + index, artifacts=0)
    )

    assert sum(isinstance(result, ImageRating) for result in results) == 1
    assert [result.rc for result in results if isinstance(result, services.RatingRefused)] == ["RatingAlreadySubmitted"]
    assert ImageRating.objects.filter(image=image).count() == 1
    assert Transaction.objects.filter(kind="rating_rebate").count() == 1
    assert SetImage.objects.get(pk=image.pk).rating_count == 1


def test_the_race_shows_a_read_then_write_counter_loses_a_rating(alice, bob, make_set):
    image = set_images(make_set(count=1))[0]
    barrier = threading.Barrier(2)

    def naive_count(_):
        seen = SetImage.objects.get(pk=image.pk).rating_count
        barrier.wait(timeout=10)
        SetImage.objects.filter(pk=image.pk).update(rating_count=seen + 1)

    run_in_threads(naive_count)
    assert SetImage.objects.get(pk=image.pk).rating_count == 1  # two ratings, one counted


def test_the_guard_stops_it_two_raters_at_once_are_both_counted(alice, bob, make_set, monkeypatch):
    image = set_images(make_set(count=1))[0]
    barrier = threading.Barrier(2)
    original = services._image

    def image_then_wait(image_id):
        found = original(image_id)
        barrier.wait(timeout=10)
        return found

    monkeypatch.setattr(services, "_image", image_then_wait)
    raters = [alice[0], bob[0]]
    results = run_in_threads(
        lambda index: image_rate(rater=raters[index], image_id=image.id, rating=4 + index, artifacts=None)
    )

    assert all(isinstance(result, ImageRating) for result in results)
    stored = SetImage.objects.get(pk=image.pk)
    assert (stored.rating_count, stored.rating_sum) == (2, 9)
