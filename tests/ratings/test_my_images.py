"""My images by pair and the public gallery: pairs together in their shown order, the ones
waiting for a verdict first, filters, downloads, paging; a half-done pair shows neither image."""

from __future__ import annotations

import re

import pytest
from django.core.files.base import ContentFile
from django.test import Client

from generation.models import GenerationRequest, Image, Job
from tests.ratings.conftest import webp_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice_client(alice):
    client = Client()
    client.force_login(alice[0])
    return client


def cards(html: str) -> list[str]:
    return re.findall(r'data-request-id="([0-9a-f-]{36})"', html)


def test_pairs_waiting_for_a_verdict_come_first_then_the_rest_newest_first(alice_client, alice, make_pair, plain_model):
    judged = make_pair(alice[0])
    alice_client.post(f"/ratings/judge/{judged.id}", {"choice": "left"})
    waiting = make_pair(alice[0])
    newest = make_pair(alice[0])
    alice_client.post(f"/ratings/judge/{newest.id}", {"choice": "tie"})
    html = alice_client.get("/images").content.decode()
    assert cards(html) == [str(waiting.id), str(newest.id), str(judged.id)]
    assert 'id="waiting-count"><strong>1</strong> pair waiting' in html
    assert html.count("Waiting for your verdict</a>") == 1
    assert f'href="/requests/{waiting.id}#verdict"' in html


def test_a_pair_is_shown_together_in_its_shown_order_with_downloads_and_no_pipeline(alice_client, alice, make_pair):
    pair = make_pair(alice[0])
    html = alice_client.get("/images").content.decode()
    left = pair.images.get(job__position=0)
    right = pair.images.get(job__position=1)
    assert html.index(left.file.url) < html.index(right.file.url)
    alts = re.findall(r'alt="([^"]*)"', html)
    assert alts == [
        "Left image of the pair for: a lighthouse at dusk",
        "Right image of the pair for: a lighthouse at dusk",
    ]
    assert html.count('class="download"') == 2 and 'download="horde-' in html
    for name in pair.jobs.values_list("pipeline__name", flat=True):
        assert f">{name}<" not in html and f"{name} v" not in html


def test_a_half_done_pair_shows_neither_image(alice_client, alice, make_pair):
    pair = make_pair(alice[0], status=GenerationRequest.Status.PROCESSING)
    job = pair.jobs.get(position=1)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.DONE)
    image = Image(job=job, request=pair, width=96, height=96, seed=1234)
    image.file.save(f"{job.id}.webp", ContentFile(webp_bytes(color=(1, 2, 3))))
    html = alice_client.get("/images").content.decode()
    assert cards(html) == [] and image.file.url not in html


def test_the_filters_pick_by_model_and_by_judged_or_waiting(alice_client, alice, make_pair, plain_model):
    judged, waiting = make_pair(alice[0]), make_pair(alice[0])
    alice_client.post(f"/ratings/judge/{judged.id}", {"choice": "left"})
    assert cards(alice_client.get("/images?judged=waiting").content.decode()) == [str(waiting.id)]
    assert cards(alice_client.get("/images?judged=judged").content.decode()) == [str(judged.id)]
    assert cards(alice_client.get("/images?model=stable_diffusion").content.decode()) == []
    assert "Nothing matches these filters" in alice_client.get("/images?model=stable_diffusion").content.decode()
    assert len(cards(alice_client.get("/images?judged=nonsense").content.decode())) == 2  # unknown: all


def test_the_paging_keeps_the_filters(alice_client, alice, make_pair):
    for _ in range(13):
        make_pair(alice[0])
    html = alice_client.get("/images?judged=waiting").content.decode()
    assert len(cards(html)) == 12
    assert 'href="?judged=waiting&amp;page=2"' in html
    assert len(cards(alice_client.get("/images?judged=waiting&page=2").content.decode())) == 1


def test_the_gallery_is_public_shows_shared_done_requests_newest_first_and_no_private_ones(
    client, alice, bob, make_pair
):
    older = make_pair(alice[0], finished_ago=300)
    newer = make_pair(bob[0], finished_ago=10)
    private = make_pair(alice[0], shared=False)
    make_pair(alice[0], status=GenerationRequest.Status.PROCESSING)
    response = client.get("/gallery")  # nobody logged in
    assert response.status_code == 200
    html = response.content.decode()
    assert cards(html) == [str(newer.id), str(older.id)]
    assert str(private.id) not in html
    assert "by bob" in html and "by alice" in html
