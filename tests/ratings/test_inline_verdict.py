"""The verdict on the request page: the panel the request page loads under the pair, and the
judge page's POST coming back there. Same form, same service (own_pair_vote) as the judge page."""

from __future__ import annotations

import pytest
from django.test import Client

from kudos.selectors import user_balance
from ratings.models import Vote

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


def panel(client, request_id) -> str:
    response = client.get(f"/ratings/judge/{request_id}/panel")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    return response.content.decode()


def test_before_the_vote_the_panel_offers_the_form_and_names_no_pipeline(alice_client, pair):
    html = panel(alice_client, pair.id)
    assert 'id="judge-form"' in html and 'name="from" value="request"' in html
    assert f'action="/ratings/judge/{pair.id}"' in html
    for pipeline in pair.jobs.values_list("pipeline__name", flat=True):
        assert f">{pipeline}" not in html
    assert 'id="reveal"' not in html and "<img" not in html  # the request page shows the pair itself


def test_a_verdict_sent_from_the_request_page_is_stored_once_and_comes_back_there(alice_client, alice, pair):
    before = user_balance(user=alice[0])
    response = alice_client.post(
        f"/ratings/judge/{pair.id}", {"choice": "right", "left_aesthetic": "7", "from": "request"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/requests/{pair.id}#verdict"
    vote = Vote.objects.get(request=pair)
    assert (vote.choice, vote.left_aesthetic, vote.kudos_paid) == ("right", 7, 20)
    assert user_balance(user=alice[0]) == before + 20
    # A second send (a double tap, a reload) stores and pays nothing and still comes back.
    counts = ledger_counts()
    again = alice_client.post(f"/ratings/judge/{pair.id}", {"choice": "left", "from": "request"})
    assert again["Location"] == f"/requests/{pair.id}#verdict"
    assert ledger_counts() == counts and Vote.objects.get(request=pair).choice == "right"


def test_after_the_vote_the_panel_shows_verdict_reward_reveal_and_the_next_waiting_pair(
    alice_client, alice, make_pair, pair
):
    older = make_pair(alice[0], finished_ago=600)  # waits longest: offered first
    make_pair(alice[0], finished_ago=300)
    alice_client.post(f"/ratings/judge/{pair.id}", {"choice": "tie", "from": "request"})
    html = panel(alice_client, pair.id)
    vote = Vote.objects.get(request=pair)
    assert 'id="your-choice">Tie<' in html
    assert f'id="reward">{vote.kudos_paid}<' in html
    left = pair.images.select_related("job__pipeline").get(job__position=0).job.pipeline
    assert f'id="left-pipeline">{left.name} v{left.version}<' in html
    assert f'id="next-pair" href="/requests/{older.id}#verdict"' in html
    assert 'id="judge-form"' not in html


def test_with_no_other_pair_waiting_the_panel_points_to_the_arena(alice_client, alice, make_pair, pair):
    judged = make_pair(alice[0])
    alice_client.post(f"/ratings/judge/{judged.id}", {"choice": "left"})
    alice_client.post(f"/ratings/judge/{pair.id}", {"choice": "left", "from": "request"})
    html = panel(alice_client, pair.id)
    assert 'id="next-pair"' not in html
    assert 'id="to-arena" href="/ratings/arena"' in html


def test_a_refused_verdict_from_the_request_page_says_why_there_and_changes_nothing(
    alice_client, alice, make_pair, settings
):
    settings.RATINGS_MIN_SECONDS_TO_VOTE = 30
    fresh = make_pair(alice[0], finished_ago=1)
    counts = ledger_counts()
    response = alice_client.post(f"/ratings/judge/{fresh.id}", {"choice": "left", "from": "request"}, follow=True)
    assert response.redirect_chain[-1][0] == f"/requests/{fresh.id}#verdict"
    assert "look at the images for at least 30s" in response.content.decode()
    bad = alice_client.post(
        f"/ratings/judge/{fresh.id}", {"choice": "sideways", "from": "request"}, follow=True
    ).content.decode()
    assert "choice: &quot;sideways&quot; is not a valid choice." in bad  # the API serializer's words
    assert ledger_counts() == counts and not Vote.objects.exists()


def test_the_panel_tells_the_page_how_long_the_look_first_rule_still_holds(alice_client, alice, make_pair, settings):
    settings.RATINGS_MIN_SECONDS_TO_VOTE = 30
    fresh = make_pair(alice[0], finished_ago=10)
    html = panel(alice_client, fresh.id)
    wait = int(html.split('data-wait-ms="')[1].split('"')[0])
    assert 19_000 <= wait <= 20_000
    assert 'data-wait-ms="0"' in panel(alice_client, make_pair(alice[0], finished_ago=60).id)


def test_someone_elses_panel_is_403_and_shows_the_branded_page(bob, pair):
    client = Client()
    client.force_login(bob[0])
    response = client.get(f"/ratings/judge/{pair.id}/panel")
    assert response.status_code == 403
    assert 'id="error-page"' in response.content.decode()
    assert "Only the requester may judge this pair." in response.content.decode()
