"""The raters' arena API: other people's shared pairs, one vote each, small capped rewards, undo."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from generation.models import GenerationRequest, Job, Worker
from kudos.models import Transaction
from kudos.selectors import user_balance
from ratings.models import GoldPair, PairAssignment, Vote

from .conftest import ledger_counts

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def patient_raters(settings):
    # These tests vote at machine speed; the speed check has its own tests.
    settings.RATINGS_MIN_SECONDS_TO_VOTE = 0
    settings.RATINGS_GOLD_EVERY = 0
    # Calibration and the throttle have their own tests (test_calibration.py, test_throttle.py).
    settings.RATINGS_CALIBRATION_CHECKS = 0
    settings.RATINGS_ARENA_MIN_VOTE_INTERVAL_SECONDS = 0
    settings.RATINGS_ARENA_MAX_VOTES_PER_MINUTE = 0


def next_pair(api_client, key):
    response = api_client.get("/api/v2/ratings/arena/next", HTTP_APIKEY=key)
    assert response.status_code == 200, response.json()
    return response.json()


def vote(api_client, key, assignment_id, body):
    return api_client.post(f"/api/v2/ratings/arena/{assignment_id}", body, format="json", HTTP_APIKEY=key)


def post(api_client, key, url):
    return api_client.post(url, {}, format="json", HTTP_APIKEY=key)


@pytest.fixture
def pool(alice, bob, charlie, make_pair):
    """Alice's and Bob's shared pairs, plus pairs the arena must never serve to anyone."""
    served = {make_pair(alice[0]).id, make_pair(bob[0]).id}
    make_pair(alice[0], shared=False)
    make_pair(alice[0], status=GenerationRequest.Status.PROCESSING)
    make_pair(bob[0], status=GenerationRequest.Status.CANCELLED)
    return served


def drain(api_client, key) -> list[dict]:
    served = []
    while (data := next_pair(api_client, key))["assignment"] is not None:
        served.append(data["assignment"])
        assert len(served) < 20
    return served


def test_it_serves_each_shared_finished_pair_of_other_people_once(api_client, charlie, pool):
    served = drain(api_client, charlie[1])
    assert {PairAssignment.objects.get(pk=a["id"]).request_id for a in served} == pool
    assert len(served) == len(pool)


def test_it_never_serves_a_raters_own_pair(api_client, alice, pool, make_pair):
    make_pair(alice[0])
    served = drain(api_client, alice[1])
    requests = GenerationRequest.objects.filter(pair_assignments__id__in=[a["id"] for a in served])
    assert requests.count() == 1
    assert all(request.user_id != alice[0].pk for request in requests)


def served_by(request: GenerationRequest, owner, *, index: int = 0) -> Worker:
    """One job of the pair served by a worker `owner` owns: its owner could read its recipe."""
    worker = Worker.objects.create(name=f"{owner.username}-box-{request.pk}", owner=owner)
    Job.objects.filter(request=request, index=index).update(worker=worker)
    return worker


def test_it_never_serves_a_pair_a_worker_of_the_rater_served(api_client, alice, bob, charlie, make_pair):
    made_by_charlies_box = make_pair(alice[0])
    served_by(made_by_charlies_box, charlie[0], index=1)
    other = make_pair(alice[0])
    served_by(other, bob[0])  # someone else's worker: no reason to keep it from Charlie
    served = drain(api_client, charlie[1])
    assert [PairAssignment.objects.get(pk=a["id"]).request_id for a in served] == [other.id]
    # Other raters still judge it.
    assert {PairAssignment.objects.get(pk=a["id"]).request_id for a in drain(api_client, bob[1])} == {
        made_by_charlies_box.id
    }


def test_a_vote_on_a_pair_the_raters_worker_served_is_refused_and_pays_nothing(api_client, alice, charlie, make_pair):
    pair = make_pair(alice[0])
    issued = next_pair(api_client, charlie[1])["assignment"]
    # Served after the pair was issued (say a job requeued to Charlie's worker): the vote is refused.
    served_by(pair, charlie[0])
    before = ledger_counts()
    response = vote(api_client, charlie[1], issued["id"], {"choice": "left"})
    assert (response.status_code, response.json()["rc"]) == (403, "OwnWorkerPair")
    assert not Vote.objects.exists()
    assert ledger_counts() == before
    assert GenerationRequest.objects.get(pk=pair.pk).arena_votes == 0


def test_it_never_serves_a_pair_the_rater_already_judged(api_client, charlie, pool, settings):
    first = next_pair(api_client, charlie[1])["assignment"]
    assert vote(api_client, charlie[1], first["id"], {"choice": "left"}).status_code == 200
    # Even when held pairs are released at once, the judged one does not come back.
    settings.RATINGS_ASSIGNMENT_TTL_SECONDS = 0
    judged = PairAssignment.objects.get(pk=first["id"]).request_id
    for _ in range(5):
        data = next_pair(api_client, charlie[1])["assignment"]
        assert data is not None
        assert PairAssignment.objects.get(pk=data["id"]).request_id != judged


def test_the_shown_and_the_preloaded_pair_are_different_and_held(api_client, charlie, pool):
    shown = next_pair(api_client, charlie[1])["assignment"]
    preloaded = next_pair(api_client, charlie[1])["assignment"]
    assert shown["id"] != preloaded["id"]
    assert (
        PairAssignment.objects.get(pk=shown["id"]).request_id
        != PairAssignment.objects.get(pk=preloaded["id"]).request_id
    )
    assert next_pair(api_client, charlie[1])["assignment"] is None


def test_an_abandoned_pair_is_served_again_after_the_hold(api_client, charlie, pool):
    drain(api_client, charlie[1])
    PairAssignment.objects.update(issued_at=timezone.now() - dt.timedelta(hours=1))
    assert next_pair(api_client, charlie[1])["assignment"] is not None


def test_the_vote_stores_the_order_this_rater_saw(api_client, charlie, pool):
    data = next_pair(api_client, charlie[1])["assignment"]
    assert (
        vote(
            api_client, charlie[1], data["id"], {"choice": "right", "left_aesthetic": 3, "right_artifacts": 1}
        ).status_code
        == 200
    )
    stored = Vote.objects.get(assignment_id=data["id"])
    assert (str(stored.left_image_id), str(stored.right_image_id)) == (data["left"]["id"], data["right"]["id"])
    assert (stored.source, stored.choice, stored.left_aesthetic, stored.right_artifacts) == ("arena", "right", 3, 1)


def test_the_order_is_drawn_per_rater(api_client, make_user, alice, make_pair):
    request = make_pair(alice[0])
    orders = set()
    for index in range(16):
        _, key = make_user(f"rater{index}")
        data = next_pair(api_client, key)["assignment"]
        assert PairAssignment.objects.get(pk=data["id"]).request_id == request.id
        orders.add((data["left"]["id"], data["right"]["id"]))
    assert len(orders) == 2  # both orders show up (a 1 in 2**15 chance to fail by luck)


def test_a_vote_pays_the_arena_reward_and_counts_today(api_client, charlie, pool):
    data = next_pair(api_client, charlie[1])
    assert data["today"] == {"votes": 0, "kudos": 0, "cap": 100}
    response = vote(api_client, charlie[1], data["assignment"]["id"], {"choice": "tie"})
    assert response.status_code == 200
    assert response.json()["reward"] == 2
    assert response.json()["today"] == {"votes": 1, "kudos": 2, "cap": 100}
    assert user_balance(user=charlie[0]) == 2
    assert Transaction.objects.filter(kind="rating_rebate", event_key=f"rating:{response.json()['vote_id']}").exists()


def test_the_daily_cap_stops_the_earning_but_not_the_voting(api_client, charlie, alice, make_pair, settings):
    settings.RATINGS_ARENA_DAILY_CAP = 5
    for _ in range(4):
        make_pair(alice[0])
    rewards = []
    for _ in range(4):
        data = next_pair(api_client, charlie[1])["assignment"]
        rewards.append(vote(api_client, charlie[1], data["id"], {"choice": "left"}).json()["reward"])
    assert rewards == [2, 2, 1, 0]
    assert user_balance(user=charlie[0]) == 5
    assert Vote.objects.filter(rater=charlie[0]).count() == 4


def test_yesterdays_kudos_do_not_count_against_todays_cap(api_client, charlie, alice, make_pair, settings):
    settings.RATINGS_ARENA_DAILY_CAP = 2
    make_pair(alice[0])
    make_pair(alice[0])
    first = next_pair(api_client, charlie[1])["assignment"]
    assert vote(api_client, charlie[1], first["id"], {"choice": "left"}).json()["reward"] == 2
    Vote.objects.update(created_at=timezone.now() - dt.timedelta(days=1))
    second = next_pair(api_client, charlie[1])["assignment"]
    assert vote(api_client, charlie[1], second["id"], {"choice": "left"}).json()["reward"] == 2


def test_a_second_vote_on_the_same_pair_is_refused_and_pays_nothing(api_client, charlie, pool):
    data = next_pair(api_client, charlie[1])["assignment"]
    assert vote(api_client, charlie[1], data["id"], {"choice": "left"}).status_code == 200
    before = ledger_counts()
    again = vote(api_client, charlie[1], data["id"], {"choice": "right"})
    assert again.status_code == 400
    assert again.json()["rc"] == "AestheticsAlreadyExist"
    assert ledger_counts() == before


def test_a_second_assignment_of_a_judged_pair_cannot_be_voted_on(api_client, charlie, pool):
    data = next_pair(api_client, charlie[1])["assignment"]
    assignment = PairAssignment.objects.get(pk=data["id"])
    twin = PairAssignment.objects.create(
        rater=charlie[0],
        request=assignment.request,
        left_image=assignment.left_image,
        right_image=assignment.right_image,
    )
    assert vote(api_client, charlie[1], data["id"], {"choice": "left"}).status_code == 200
    before = ledger_counts()
    response = vote(api_client, charlie[1], twin.id, {"choice": "left"})
    assert response.json()["rc"] == "AestheticsAlreadyExist"
    assert ledger_counts() == before
    assert PairAssignment.objects.get(pk=twin.pk).answered_at is None  # rolled back with the vote


def test_someone_elses_assignment_is_not_found(api_client, charlie, bob, pool):
    data = next_pair(api_client, charlie[1])["assignment"]
    response = vote(api_client, bob[1], data["id"], {"choice": "left"})
    assert response.status_code == 404
    assert response.json()["rc"] == "PairNotFound"
    assert post(api_client, bob[1], f"/api/v2/ratings/arena/{data['id']}/skip").status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"choice": "up"},
        {"choice": "left", "left_aesthetic": 0},
        {"choice": "left", "right_aesthetic": 11},
        {"choice": "left", "left_aesthetic": 4.5},
        {"choice": "left", "left_aesthetic": "4"},
        {"choice": "left", "left_artifacts": 6},
        {"choice": "left", "right_artifacts": -1},
        {"choice": "left", "right_artifacts": False},
    ],
)
def test_bad_votes_are_400_and_change_nothing(api_client, charlie, pool, body):
    data = next_pair(api_client, charlie[1])["assignment"]
    before = ledger_counts()
    response = vote(api_client, charlie[1], data["id"], body)
    assert response.status_code == 400
    assert response.json()["rc"] == "BadRequest"
    assert ledger_counts() == before
    assert PairAssignment.objects.get(pk=data["id"]).answered_at is None


def test_a_vote_faster_than_a_human_is_refused(api_client, charlie, pool, settings):
    settings.RATINGS_MIN_SECONDS_TO_VOTE = 1.5
    data = next_pair(api_client, charlie[1])["assignment"]
    response = vote(api_client, charlie[1], data["id"], {"choice": "left"})
    assert response.status_code == 400
    assert response.json()["rc"] == "RatingTooFast"
    assert not Vote.objects.exists()


def test_a_preloaded_pair_counts_from_when_the_previous_one_was_answered(api_client, charlie, pool, settings):
    settings.RATINGS_MIN_SECONDS_TO_VOTE = 1.5
    shown = next_pair(api_client, charlie[1])["assignment"]
    preloaded = next_pair(api_client, charlie[1])["assignment"]
    PairAssignment.objects.update(issued_at=timezone.now() - dt.timedelta(seconds=30))
    assert vote(api_client, charlie[1], shown["id"], {"choice": "left"}).status_code == 200
    # Issued 30 s ago, but on screen only since the vote just now.
    response = vote(api_client, charlie[1], preloaded["id"], {"choice": "left"})
    assert response.json()["rc"] == "RatingTooFast"


def test_a_skipped_pair_is_not_served_again_and_cannot_be_voted_on(api_client, charlie, pool, settings):
    data = next_pair(api_client, charlie[1])["assignment"]
    assert post(api_client, charlie[1], f"/api/v2/ratings/arena/{data['id']}/skip").status_code == 200
    assert (
        post(api_client, charlie[1], f"/api/v2/ratings/arena/{data['id']}/skip").json()["rc"] == "PairAlreadyAnswered"
    )
    assert vote(api_client, charlie[1], data["id"], {"choice": "left"}).json()["rc"] == "PairSkipped"
    settings.RATINGS_ASSIGNMENT_TTL_SECONDS = 0
    skipped = PairAssignment.objects.get(pk=data["id"]).request_id
    for _ in range(3):
        again = next_pair(api_client, charlie[1])["assignment"]
        assert PairAssignment.objects.get(pk=again["id"]).request_id != skipped


def test_undo_retracts_the_vote_takes_the_kudos_back_and_withdraws_the_revealed_pair(api_client, charlie, pool):
    data = next_pair(api_client, charlie[1])["assignment"]
    voted = vote(api_client, charlie[1], data["id"], {"choice": "left"}).json()
    assert voted["reveal"]  # the vote showed which pipeline made which image
    assert user_balance(user=charlie[0]) == 2
    response = post(api_client, charlie[1], f"/api/v2/ratings/arena/{data['id']}/undo")
    assert response.status_code == 200, response.json()
    assert response.json()["undone"] == voted["vote_id"]
    assert response.json()["today"]["votes"] == 0
    retracted = Vote.objects.get(pk=voted["vote_id"])
    assert retracted.retracted_at is not None
    assert user_balance(user=charlie[0]) == 0
    assert Transaction.objects.filter(event_key=f"rating-undo:{retracted.id}", kind="rebate_reversal").count() == 1
    # No blind re-vote after the reveal: the pair never comes back to this rater.
    assert vote(api_client, charlie[1], data["id"], {"choice": "right"}).status_code == 400
    served = set()
    while (pair := next_pair(api_client, charlie[1])["assignment"]) is not None:
        served.add(PairAssignment.objects.get(pk=pair["id"]).request_id)
        post(api_client, charlie[1], f"/api/v2/ratings/arena/{pair['id']}/skip")
    assert retracted.request_id not in served
    assert Vote.objects.filter(rater=charlie[0]).get() == retracted  # kept, marked retracted


def test_undo_after_the_window_is_refused(api_client, charlie, pool):
    data = next_pair(api_client, charlie[1])["assignment"]
    vote(api_client, charlie[1], data["id"], {"choice": "left"})
    Vote.objects.update(created_at=timezone.now() - dt.timedelta(seconds=11))
    before = ledger_counts()
    response = post(api_client, charlie[1], f"/api/v2/ratings/arena/{data['id']}/undo")
    assert response.status_code == 400
    assert response.json()["rc"] == "UndoWindowPassed"
    assert ledger_counts() == before
    assert Vote.objects.get().retracted_at is None


def test_undo_twice_or_without_a_vote_is_refused(api_client, charlie, pool):
    data = next_pair(api_client, charlie[1])["assignment"]
    assert post(api_client, charlie[1], f"/api/v2/ratings/arena/{data['id']}/undo").json()["rc"] == "NothingToUndo"
    vote(api_client, charlie[1], data["id"], {"choice": "left"})
    assert post(api_client, charlie[1], f"/api/v2/ratings/arena/{data['id']}/undo").status_code == 200
    before = ledger_counts()
    assert post(api_client, charlie[1], f"/api/v2/ratings/arena/{data['id']}/undo").json()["rc"] == "VoteAlreadyUndone"
    assert ledger_counts() == before


def test_the_arena_needs_a_registered_rater(api_client, pool):
    assert api_client.get("/api/v2/ratings/arena/next").status_code == 401
    response = api_client.get("/api/v2/ratings/arena/next", HTTP_APIKEY="0000000000")
    assert response.status_code == 403
    assert response.json()["rc"] == "AnonForbidden"


def test_the_arena_page_session_needs_the_csrf_token(charlie, pool):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(charlie[0])
    data = client.get("/api/v2/ratings/arena/next").json()["assignment"]
    refused = client.post(f"/api/v2/ratings/arena/{data['id']}", {"choice": "left"}, content_type="application/json")
    assert refused.status_code == 403
    page = client.get("/ratings/arena")
    token = page.cookies["csrftoken"].value
    accepted = client.post(
        f"/api/v2/ratings/arena/{data['id']}",
        {"choice": "left"},
        content_type="application/json",
        HTTP_X_CSRFTOKEN=token,
    )
    assert accepted.status_code == 200


def test_gold_pairs_are_mixed_in_at_the_set_rate(api_client, charlie, alice, make_pair, settings):
    for _ in range(3):
        make_pair(alice[0])
    gold = make_pair(alice[0])
    GoldPair.objects.create(request=gold, expected_choice="left")
    settings.RATINGS_GOLD_EVERY = 1  # every pair is a gold one while any is left
    first = next_pair(api_client, charlie[1])["assignment"]
    assignment = PairAssignment.objects.get(pk=first["id"])
    assert assignment.request_id == gold.id
    assert assignment.is_gold
    assert not PairAssignment.objects.get(pk=next_pair(api_client, charlie[1])["assignment"]["id"]).is_gold
