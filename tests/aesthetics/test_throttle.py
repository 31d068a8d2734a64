"""The single-image rating throttle: a minimum interval between a rater's ratings and a
per-minute cap, like the arena's. A throttled rating is refused with 429 TooManyRatings,
stores nothing, pays nothing, and the same image can be rated once the rater waited.
Paired race tests: without the lock two simultaneous ratings both pass; with it one waits."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.utils import timezone

from aesthetics import services
from aesthetics.models import ImageRating, SetImage
from aesthetics.services import RatingRefused, image_rate
from kudos.models import Entry, Transaction
from ratings.models import RaterTrust
from tests.threads import run_in_threads

from .conftest import set_images

T0 = timezone.now().replace(microsecond=0) + dt.timedelta(days=1)


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


@pytest.fixture
def throttle(settings):
    settings.AESTHETICS_MIN_RATING_INTERVAL_SECONDS = 2
    settings.AESTHETICS_MAX_RATINGS_PER_MINUTE = 3


def ledger() -> tuple[int, int]:
    return Transaction.objects.count(), Entry.objects.count()


def rate(rater, image, seconds: float) -> ImageRating:
    return image_rate(rater=rater, image_id=image.id, rating=6, artifacts=1, now=at(seconds))


@pytest.mark.django_db
def test_a_rating_sooner_than_the_interval_is_refused_stores_nothing_and_can_be_given_later(
    charlie, make_set, throttle
):
    first, second = set_images(make_set(count=2))
    rate(charlie[0], first, 0)
    before = ledger()
    with pytest.raises(RatingRefused) as refused:
        rate(charlie[0], second, 1.5)
    assert (refused.value.status, refused.value.rc) == (429, "TooManyRatings")
    assert "2s apart" in refused.value.message
    assert ledger() == before
    assert not ImageRating.objects.filter(image=second).exists()
    assert SetImage.objects.get(pk=second.pk).rating_count == 0
    assert rate(charlie[0], second, 2.5).kudos_paid == 2


@pytest.mark.django_db
def test_the_per_minute_cap_refuses_the_next_rating_until_the_minute_has_passed(charlie, make_set, throttle):
    images = set_images(make_set(count=5))
    for index in range(3):
        rate(charlie[0], images[index], index * 5)
    with pytest.raises(RatingRefused) as refused:
        rate(charlie[0], images[3], 15)
    assert (refused.value.status, refused.value.rc) == (429, "TooManyRatings")
    assert "At most 3" in refused.value.message
    # The first rating (at 0 s) falls out of the 60 s window at 60 s.
    assert rate(charlie[0], images[3], 60.5).rating == 6


@pytest.mark.django_db
def test_the_throttle_is_per_rater(alice, bob, make_set, throttle):
    image = set_images(make_set(count=1))[0]
    rate(alice[0], image, 0)
    assert rate(bob[0], image, 0.1).rater_id == bob[0].pk


@pytest.mark.django_db
def test_zero_turns_the_throttle_off(charlie, make_set, settings):
    settings.AESTHETICS_MIN_RATING_INTERVAL_SECONDS = 0
    settings.AESTHETICS_MAX_RATINGS_PER_MINUTE = 0
    for image in set_images(make_set(count=4)):
        rate(charlie[0], image, 0)
    assert ImageRating.objects.filter(rater=charlie[0]).count() == 4


@pytest.mark.django_db
def test_the_api_answers_429_with_the_rc(api_client, charlie, make_set, throttle):
    first, second = set_images(make_set(count=2))
    url = "/api/v1/rating/{}"
    ok = api_client.post(url.format(first.id), {"rating": 5}, format="json", HTTP_APIKEY=charlie[1])
    assert ok.status_code == 200, ok.json()
    refused = api_client.post(url.format(second.id), {"rating": 5}, format="json", HTTP_APIKEY=charlie[1])
    assert refused.status_code == 429
    assert refused.json()["rc"] == "TooManyRatings" and refused.json()["message"]


def _two_at_once(charlie, images, monkeypatch, *, locked: bool):
    barrier = threading.Barrier(2)
    original = services.check_rating_throttle

    def check_then_wait(**kwargs):
        original(**kwargs)
        barrier.wait(timeout=10)  # both threads are past the throttle check before either inserts

    monkeypatch.setattr(services, "check_rating_throttle", check_then_wait)
    if not locked:
        # The race without the lock: the trust row read without FOR UPDATE.
        monkeypatch.setattr(
            services, "rater_trust_locked", lambda *, rater: RaterTrust.objects.get_or_create(user=rater)[0]
        )
    return run_in_threads(lambda index: rate(charlie[0], images[index], 0))


@pytest.mark.django_db(transaction=True)
def test_the_race_shows_without_the_lock_two_simultaneous_ratings_both_pass(charlie, make_set, throttle, monkeypatch):
    images = set_images(make_set(count=2))
    RaterTrust.objects.create(user=charlie[0])  # made first: its insert would serialise them
    results = _two_at_once(charlie, images, monkeypatch, locked=False)
    assert all(isinstance(result, ImageRating) for result in results), results


@pytest.mark.django_db(transaction=True)
def test_the_lock_stops_it_one_of_two_simultaneous_ratings_is_throttled(charlie, make_set, throttle, monkeypatch):
    images = set_images(make_set(count=2))
    barrier = threading.Barrier(2)
    original = services._image

    def image_then_wait(image_id):
        found = original(image_id)
        barrier.wait(timeout=10)  # both threads are past every check outside the transaction
        return found

    monkeypatch.setattr(services, "_image", image_then_wait)
    results = run_in_threads(lambda index: rate(charlie[0], images[index], 0))
    assert sum(isinstance(result, ImageRating) for result in results) == 1, results
    assert [r.rc for r in results if isinstance(r, RatingRefused)] == ["TooManyRatings"]
    assert Transaction.objects.filter(kind="rating_rebate").count() == 1
