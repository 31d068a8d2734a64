"""The own-pair page (form POST through the same service) and the arena page; the admin tables."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.services import user_create
from generation.models import GenerationRequest
from kudos.selectors import user_balance
from ratings.models import GoldPair, RaterTrust, Vote

from .conftest import ledger_counts

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice_client(alice):
    client = Client()
    client.force_login(alice[0])
    return client


@pytest.fixture
def pair(alice, make_pair):
    return make_pair(alice[0])


def test_the_page_shows_the_pair_in_the_shown_order_with_shortcuts_and_meanings(alice_client, pair):
    response = alice_client.get(f"/ratings/judge/{pair.id}")
    assert response.status_code == 200
    html = response.content.decode()
    left = pair.images.get(job__position=0)
    right = pair.images.get(job__position=1)
    assert html.index(left.file.url) < html.index(right.file.url)
    for text in ("Keyboard shortcuts", "both bad", "masterpiece", "garbage", "<kbd>T</kbd>", "A then 1…9, 0"):
        assert text in html


def test_a_page_post_judges_and_then_shows_the_reward_and_the_new_balance(alice_client, alice, pair):
    before = user_balance(user=alice[0])
    response = alice_client.post(
        f"/ratings/judge/{pair.id}", {"choice": "tie", "left_aesthetic": "6", "right_artifacts": "2"}, follow=True
    )
    assert response.status_code == 200
    vote = Vote.objects.get(request=pair)
    assert (vote.choice, vote.left_aesthetic, vote.right_aesthetic, vote.right_artifacts) == ("tie", 6, None, 2)
    assert vote.kudos_paid == 25
    html = response.content.decode()
    assert 'id="reward">25<' in html
    assert f'id="balance">{before + 25}<' in html


def test_a_page_post_needs_the_csrf_token(alice, pair):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice[0])
    assert client.post(f"/ratings/judge/{pair.id}", {"choice": "left"}).status_code == 403
    assert not Vote.objects.exists()


def test_a_bad_page_post_shows_a_form_error_and_changes_nothing(alice_client, pair):
    before = ledger_counts()
    response = alice_client.post(f"/ratings/judge/{pair.id}", {"choice": "left", "left_aesthetic": "11"})
    assert response.status_code == 400
    assert b"errorlist" in response.content
    assert ledger_counts() == before
    assert not Vote.objects.exists()


def test_a_second_page_post_pays_nothing(alice_client, pair):
    alice_client.post(f"/ratings/judge/{pair.id}", {"choice": "left"})
    before = ledger_counts()
    response = alice_client.post(f"/ratings/judge/{pair.id}", {"choice": "right"})
    assert response.status_code == 200
    assert ledger_counts() == before
    assert Vote.objects.get(request=pair).choice == "left"


def test_someone_elses_pair_page_is_403(bob, pair):
    client = Client()
    client.force_login(bob[0])
    assert client.get(f"/ratings/judge/{pair.id}").status_code == 403
    assert client.post(f"/ratings/judge/{pair.id}", {"choice": "left"}).status_code == 403
    assert not Vote.objects.exists()


def test_an_unfinished_pair_page_says_so(alice_client, alice, make_pair):
    waiting = make_pair(alice[0], status=GenerationRequest.Status.PROCESSING)
    response = alice_client.get(f"/ratings/judge/{waiting.id}")
    assert b'id="problem"' in response.content
    assert alice_client.post(f"/ratings/judge/{waiting.id}", {"choice": "left"}).status_code == 200
    assert not Vote.objects.exists()


def test_the_pages_need_a_login(pair):
    client = Client()
    for url in (f"/ratings/judge/{pair.id}", "/ratings/arena"):
        response = client.get(url)
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]


def test_the_arena_page_shows_todays_counts_and_the_shortcuts(alice_client):
    html = alice_client.get("/ratings/arena").content.decode()
    assert 'id="today-votes">0<' in html
    assert "skip this pair" in html
    assert "undo your last vote" in html


@pytest.fixture
def staff_client(db):
    staff = user_create(username="staff", is_staff=True)
    staff.is_superuser = True
    staff.save()
    client = Client()
    client.force_login(staff)
    return client


def test_the_admin_lists_trust_gold_controls_and_votes(staff_client, alice, pair):
    Vote.objects.create(
        request=pair,
        rater=alice[0],
        source="owner",
        left_image=pair.images.get(job__position=0),
        right_image=pair.images.get(job__position=1),
        choice="left",
    )
    RaterTrust.objects.create(user=alice[0], score=0.3, excluded=True)
    GoldPair.objects.create(request=pair, expected_choice="left")
    for url in ("ratertrust", "goldpair", "controlimage", "vote", "pairassignment"):
        assert staff_client.get(f"/admin/ratings/{url}/").status_code == 200, url
    assert staff_client.get("/admin/ratings/ratertrust/?excluded__exact=1").status_code == 200
    assert staff_client.get("/admin/ratings/vote/add/").status_code == 403


def test_staff_trust_and_block_raters_from_the_admin(staff_client, alice, bob):
    low = RaterTrust.objects.create(user=alice[0], score=0.1, excluded=True)
    high = RaterTrust.objects.create(user=bob[0], score=1.0)
    staff_client.post("/admin/ratings/ratertrust/", {"action": "trust", "_selected_action": [low.pk]})
    staff_client.post("/admin/ratings/ratertrust/", {"action": "block", "_selected_action": [high.pk]})
    low.refresh_from_db()
    high.refresh_from_db()
    assert (low.override, low.excluded) == ("trusted", False)
    assert (high.override, high.excluded) == ("blocked", True)
