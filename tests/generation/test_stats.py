"""Statistics: status/performance, stats/img/models and /totals read the counters finished jobs keep."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from generation.models import GenerationStat, ImageModel
from generation.services.stats import EPOCH, minute_start, stats_compact, stats_count_finished
from generation.stats import image_model_stats, image_totals

from .conftest import SD, body, webp

pytestmark = pytest.mark.django_db


def post(client, url, data, key):
    return client.post(url, data=json.dumps(data), content_type="application/json", HTTP_APIKEY=key)


def finish_one(client, requester_key, worker_key, **params):
    """Alice asks for one image; Bob's HTTP worker pops and submits it."""
    request_id = post(client, "/api/v2/generate/async", body(params=params), requester_key).json()["id"]
    job = post(client, "/api/v2/generate/pop", {"name": "bob-box", "models": [SD]}, worker_key).json()
    image = base64.b64encode(webp(params.get("width", 512), params.get("height", 512))).decode()
    done = post(client, "/api/v2/generate/submit", {"id": job["id"], "generation": image}, worker_key)
    assert done.status_code == 200, done.content
    return request_id


def test_the_totals_move_when_a_job_finishes(demo_models, api_client, alice, bob):
    before = api_client.get("/api/v2/stats/img/totals").json()
    assert before["total"] == {"images": 0, "ps": 0}
    finish_one(api_client, alice[1], bob[1], steps=20)
    after = api_client.get("/api/v2/stats/img/totals").json()
    ps = 512 * 512 * 20
    for period in ("hour", "day", "month", "total"):
        assert after[period] == {"images": 1, "ps": ps}, period
    assert after["minute"]["images"] == 1  # finished this very minute
    finish_one(api_client, alice[1], bob[1], steps=10)
    assert api_client.get("/api/v2/stats/img/totals").json()["total"] == {"images": 2, "ps": ps + 512 * 512 * 10}


def test_the_model_stats_move_when_a_job_finishes(demo_models, api_client, alice, bob):
    assert api_client.get("/api/v2/stats/img/models").json() == {"day": {}, "month": {}, "total": {}}
    finish_one(api_client, alice[1], bob[1])
    finish_one(api_client, alice[1], bob[1])
    assert api_client.get("/api/v2/stats/img/models").json() == {"day": {SD: 2}, "month": {SD: 2}, "total": {SD: 2}}
    assert api_client.get("/api/v2/stats/img/models?model_state=known").json()["total"] == {SD: 2}
    custom = api_client.get("/api/v2/stats/img/models?model_state=custom").json()
    assert custom == {"day": {}, "month": {}, "total": {}}  # every Horde model is staff-defined


def test_performance_shows_the_queue_and_then_the_past_minute(demo_models, api_client, alice, bob):
    empty = api_client.get("/api/v2/status/performance").json()
    assert (empty["queued_requests"], empty["queued_megapixelsteps"], empty["worker_count"]) == (0, 0.0, 0)
    post(api_client, "/api/v2/generate/async", body(params={"n": 2, "steps": 20}), alice[1])
    queued = api_client.get("/api/v2/status/performance").json()
    assert queued["queued_requests"] == 1
    assert queued["queued_megapixelsteps"] == round(2 * 512 * 512 * 20 / 1e6, 2)
    assert queued["past_minute_megapixelsteps"] == 0.0
    for _ in range(2):
        job = post(api_client, "/api/v2/generate/pop", {"name": "bob-box", "models": [SD]}, bob[1]).json()
        image = base64.b64encode(webp(512, 512)).decode()
        post(api_client, "/api/v2/generate/submit", {"id": job["id"], "generation": image}, bob[1])
    served = api_client.get("/api/v2/status/performance").json()
    assert (served["queued_requests"], served["queued_megapixelsteps"]) == (0, 0.0)
    assert served["worker_count"] == 1 and served["thread_count"] == 1
    assert served["past_minute_megapixelsteps"] == round(2 * 512 * 512 * 20 / 1e6, 2)
    assert served["text_worker_count"] == served["interrogator_count"] == 0


def test_each_endpoint_costs_a_fixed_number_of_queries(demo_models, api_client, alice, bob, django_assert_num_queries):
    for _ in range(3):
        finish_one(api_client, alice[1], bob[1])
    post(api_client, "/api/v2/generate/async", body(params={"n": 3}), alice[1])
    # One aggregate each for the counters; performance adds the queue and the workers online.
    for url, queries in (
        ("/api/v2/stats/img/totals", 1),
        ("/api/v2/stats/img/models", 1),
        ("/api/v2/status/performance", 3),
    ):
        with django_assert_num_queries(queries):
            assert api_client.get(url).status_code == 200, url


def test_a_finish_that_rolls_back_counts_nothing(demo_models, alice):
    from django.db import transaction

    model = ImageModel.objects.get(name=SD)
    with pytest.raises(RuntimeError), transaction.atomic():
        stats_count_finished(model_id=model.pk, pixelsteps=100)
        raise RuntimeError("the finish failed after counting")
    assert not GenerationStat.objects.exists()


def test_compaction_folds_old_periods_and_keeps_every_count(demo_models):
    now = timezone.now()
    model = ImageModel.objects.get(name=SD)
    ages = [timedelta(minutes=5), timedelta(hours=3), timedelta(days=3), timedelta(days=20), timedelta(days=50)]
    for age in ages:
        stats_count_finished(model_id=model.pk, pixelsteps=10, at=now - age)
    before_totals, before_models = image_totals(now=now), image_model_stats(now=now)
    assert before_totals["total"] == {"images": 5, "ps": 50}
    assert before_totals["day"]["images"] == 2 and before_totals["month"]["images"] == 4
    stats_compact(now=now)
    spans = sorted(GenerationStat.objects.values_list("span", flat=True))
    assert spans == ["day", "day", "hour", "minute", "total"]
    assert GenerationStat.objects.get(span="total").start == EPOCH
    assert image_totals(now=now) == before_totals
    assert image_model_stats(now=now) == before_models
    stats_compact(now=now)  # a second run changes nothing
    assert image_totals(now=now) == before_totals
    assert GenerationStat.objects.count() == 5


def test_counts_in_one_minute_add_up_in_one_row(demo_models):
    model = ImageModel.objects.get(name=SD)
    at = minute_start(timezone.now())
    for _ in range(3):
        stats_count_finished(model_id=model.pk, pixelsteps=7, at=at + timedelta(seconds=10))
    row = GenerationStat.objects.get()
    assert (row.span, row.start, row.images, row.pixelsteps) == ("minute", at, 3, 21)


def test_the_past_minute_is_a_sliding_estimate_of_two_minutes(demo_models):
    model = ImageModel.objects.get(name=SD)
    now = minute_start(timezone.now()) + timedelta(seconds=15)
    stats_count_finished(model_id=model.pk, pixelsteps=40, images=4, at=now - timedelta(minutes=1))
    stats_count_finished(model_id=model.pk, pixelsteps=10, images=1, at=now)
    # The previous minute is three quarters within the last 60 seconds.
    assert image_totals(now=now)["minute"] == {"images": 4, "ps": 40}
    assert image_totals(now=now)["hour"] == {"images": 5, "ps": 50}


def test_the_beat_schedule_compacts_the_counters(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["generation-stats-compact"]
    assert entry["task"] == "generation.stats_compact"
    assert entry["options"] == {"queue": "housekeeping"}


@pytest.mark.parametrize(
    "url",
    [
        "/api/v2/stats/img/models?model_state=bogus",
        "/api/v2/stats/img/models?model_state=%00",
        "/api/v2/stats/img/totals?x=%00",
        "/api/v2/status/performance?x=%00",
    ],
)
def test_bad_input_is_refused_with_an_rc_and_changes_nothing(demo_models, api_client, url):
    response = api_client.get(url)
    assert response.status_code == 400
    assert response.json()["rc"] == "BadRequest"
    assert not GenerationStat.objects.exists()
