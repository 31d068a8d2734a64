"""My images, the workers page and the model list."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from generation.models import ImageModel, Worker

from .conftest import store_images, submit

pytestmark = pytest.mark.django_db


def test_my_images_needs_a_login(client):
    response = client.get("/images")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_my_images_pages_12_requests_at_a_time_newest_first_and_only_mine(client, alice, bob, demo_models):
    mine = []
    for number in range(13):
        generation = submit(alice[0], demo_models["sd"], prompt=f"picture {number}", width=64, height=64, steps=1)
        store_images(generation)
        mine.append(generation)
    theirs = submit(bob[0], demo_models["sd"], prompt="bob's", width=64, height=64, steps=1)
    store_images(theirs)
    client.force_login(alice[0])

    first = client.get("/images")
    shown = list(first.context["page"].object_list)
    assert len(shown) == 12
    assert shown[0] == mine[-1]  # the newest first
    assert theirs not in shown
    html = first.content.decode()
    assert f'href="/requests/{mine[-1].id}"' in html
    assert 'href="?page=2"' in html

    second = client.get("/images?page=2")
    assert list(second.context["page"].object_list) == [mine[0]]
    assert "Page 2 of 2" in second.content.decode()


def test_the_workers_page_shows_each_worker_with_its_state(client, alice, bob):
    now = timezone.now()
    Worker.objects.create(
        name="fast-gpu",
        owner=alice[0],
        kind=Worker.Kind.CELERY,
        model_names=["stable_diffusion", "SDXL_beta::stability.ai#6901"],
        last_seen=now,
        jobs_done=12,
        kudos_earned=345,
        mps_done=30.0,
        seconds_busy=12.0,
        info={"device": "NVIDIA H100", "memory": "12.5 GiB"},
    )
    Worker.objects.create(name="old-box", owner=bob[0], last_seen=now - timedelta(hours=2))
    response = client.get("/workers")
    assert response.status_code == 200
    rows = {row["worker"].name: row for row in response.context["rows"]}
    assert rows["fast-gpu"]["online"] is True
    assert rows["old-box"]["online"] is False
    assert rows["fast-gpu"]["speed"] == pytest.approx(2.5)
    html = response.content.decode()
    for text in ("fast-gpu", "alice", "NVIDIA H100", "12.5 GiB", "345", "Celery GPU worker", "2.50", "offline"):
        assert text in html


def test_the_model_list_shows_queue_lengths_and_rules(client, alice, demo_models):
    for _ in range(3):
        submit(alice[0], demo_models["sd"], width=512, height=512, steps=10)
    submit(alice[0], demo_models["sdxl"], width=1024, height=1024, steps=10)
    ImageModel.objects.create(name="retired", queue="model.retired", enabled=False)
    response = client.get("/models")
    assert response.status_code == 200
    rows = {row["model"].name: row for row in response.context["rows"]}
    assert set(rows) == {"stable_diffusion", "SDXL_beta::stability.ai#6901"}
    assert rows["stable_diffusion"]["queued_jobs"] == 3
    assert rows["SDXL_beta::stability.ai#6901"]["queued_jobs"] == 2
    assert rows["SDXL_beta::stability.ai#6901"]["model"].active_pipelines == 2
    html = response.content.decode()
    assert "retired" not in html
