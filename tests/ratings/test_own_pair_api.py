"""POST /api/v2/generate/rate/{id}: the requester judges their own pair once, for a capped rebate."""

from __future__ import annotations

import pytest
from django.db.models import Sum

from generation.models import GenerationRequest, Image, Worker
from kudos.models import Transaction
from kudos.selectors import user_balance
from kudos.services import kudos_rebate, kudos_refund, kudos_reward
from ratings.models import RaterTrust, Vote

from .conftest import ledger_counts, shown_pair

pytestmark = pytest.mark.django_db


def rate(api_client, request_id, key, body):
    return api_client.post(f"/api/v2/generate/rate/{request_id}", body, format="json", HTTP_APIKEY=key)


@pytest.fixture
def pair(alice, make_pair):
    return make_pair(alice[0])


def test_it_pays_the_pick_and_the_ratings_at_once_and_stores_the_shown_order(api_client, alice, pair):
    user, key = alice
    left, right = shown_pair(pair)
    before = user_balance(user=user)
    response = rate(
        api_client,
        pair.id,
        key,
        {
            "best": str(right.id),
            "ratings": [{"id": str(left.id), "rating": 4, "artifacts": 2}, {"id": str(right.id), "rating": 8}],
        },
    )
    assert response.status_code == 200, response.json()
    # 15 for the pick + 2 x 5 for the aesthetics + 5 for one artifacts rating.
    assert response.json()["reward"] == 30
    assert user_balance(user=user) == before + 30
    vote = Vote.objects.get(request=pair)
    assert (vote.left_image_id, vote.right_image_id) == (left.id, right.id)
    assert vote.left_image.job.position == 0
    assert (vote.choice, vote.left_aesthetic, vote.right_aesthetic, vote.left_artifacts, vote.right_artifacts) == (
        "right",
        4,
        8,
        2,
        None,
    )
    assert vote.kudos_paid == 30
    assert Transaction.objects.filter(kind="rating_rebate", event_key=f"rating:owner:{pair.id}").count() == 1


def test_the_best_alone_pays_the_pick(api_client, alice, pair):
    left, _ = shown_pair(pair)
    response = rate(api_client, pair.id, alice[1], {"best": str(left.id)})
    assert response.json()["reward"] == 15
    assert Vote.objects.get(request=pair).choice == "left"


def test_an_image_may_be_named_by_its_job_id_as_the_ai_horde_generation_id(api_client, alice, pair):
    _, right = shown_pair(pair)
    response = rate(api_client, pair.id, alice[1], {"best": str(right.job_id)})
    assert response.status_code == 200
    assert Vote.objects.get(request=pair).choice == "right"


@pytest.mark.parametrize("choice", ["tie", "both_bad"])
def test_the_choice_extension_records_a_tie_or_both_bad(api_client, alice, pair, choice):
    response = rate(api_client, pair.id, alice[1], {"choice": choice})
    assert response.json()["reward"] == 15
    assert Vote.objects.get(request=pair).choice == choice


def test_two_ratings_without_a_pick_name_the_better_image_and_pay_no_pick(api_client, alice, pair):
    left, right = shown_pair(pair)
    response = rate(
        api_client,
        pair.id,
        alice[1],
        {"ratings": [{"id": str(left.id), "rating": 9}, {"id": str(right.id), "rating": 3}]},
    )
    assert response.json()["reward"] == 10
    assert Vote.objects.get(request=pair).choice == "left"


def test_the_rebate_stays_strictly_below_the_cost_of_the_request(api_client, alice, make_pair):
    cheap = make_pair(alice[0], job_kudos=5)  # cost 10
    left, _ = shown_pair(cheap)
    response = rate(
        api_client,
        cheap.id,
        alice[1],
        {"best": str(left.id), "ratings": [{"id": str(left.id), "rating": 7, "artifacts": 0}]},
    )
    assert response.json()["reward"] == 9


def test_a_request_that_cost_one_kudos_pays_nothing_and_posts_no_entry(api_client, alice, make_pair):
    free = make_pair(alice[0], charge=False)
    left, _ = shown_pair(free)
    before = ledger_counts()
    response = rate(api_client, free.id, alice[1], {"best": str(left.id)})
    assert response.json()["reward"] == 0
    assert ledger_counts() == before
    assert Vote.objects.filter(request=free).count() == 1


def test_the_rewards_follow_settings(api_client, alice, pair, settings):
    settings.RATINGS_REWARD_PICK = 7
    left, _ = shown_pair(pair)
    assert rate(api_client, pair.id, alice[1], {"best": str(left.id)}).json()["reward"] == 7


def test_a_second_judgement_is_refused_and_pays_nothing(api_client, alice, pair):
    left, right = shown_pair(pair)
    assert rate(api_client, pair.id, alice[1], {"best": str(left.id)}).status_code == 200
    before, balance = ledger_counts(), user_balance(user=alice[0])
    again = rate(api_client, pair.id, alice[1], {"best": str(right.id)})
    assert again.status_code == 400
    assert again.json()["rc"] == "AestheticsAlreadyExist"
    assert ledger_counts() == before
    assert user_balance(user=alice[0]) == balance
    assert Vote.objects.get(request=pair).choice == "left"


def test_someone_else_gets_403_and_nothing_changes(api_client, bob, pair):
    left, _ = shown_pair(pair)
    before = ledger_counts()
    response = rate(api_client, pair.id, bob[1], {"best": str(left.id)})
    assert response.status_code == 403
    assert response.json()["rc"] == "NotOwner"
    assert ledger_counts() == before
    assert not Vote.objects.exists()


def test_the_apikey_header_is_required(api_client, pair):
    left, _ = shown_pair(pair)
    response = api_client.post(f"/api/v2/generate/rate/{pair.id}", {"best": str(left.id)}, format="json")
    assert response.status_code == 401
    assert response.json()["rc"] == "InvalidAPIKey"


def test_the_anonymous_key_is_refused(api_client, pair):
    left, _ = shown_pair(pair)
    response = rate(api_client, pair.id, "0000000000", {"best": str(left.id)})
    assert response.status_code == 403
    assert response.json()["rc"] == "AnonForbidden"


@pytest.mark.parametrize("request_id", ["not-a-uuid", "6038971e-f0b0-4fdd-a3bb-148f561f815e"])
def test_an_unknown_request_is_404(api_client, alice, request_id):
    response = rate(api_client, request_id, alice[1], {"choice": "tie"})
    assert response.status_code == 404
    assert response.json()["rc"] == "RequestNotFound"


@pytest.mark.parametrize(
    "status",
    [GenerationRequest.Status.WAITING, GenerationRequest.Status.PROCESSING, GenerationRequest.Status.CANCELLED],
)
def test_an_unfinished_or_cancelled_request_cannot_be_judged(api_client, alice, make_pair, status):
    request = make_pair(alice[0], status=status)
    before = ledger_counts()
    response = rate(api_client, request.id, alice[1], {"choice": "tie"})
    assert response.status_code == 400
    assert response.json()["rc"] == "AestheticsNotCompleted"
    assert ledger_counts() == before


def test_a_cancelled_request_with_images_still_cannot_be_judged(api_client, alice, pair):
    GenerationRequest.objects.filter(pk=pair.pk).update(status=GenerationRequest.Status.CANCELLED)
    response = rate(api_client, pair.id, alice[1], {"choice": "tie"})
    assert response.status_code == 400
    assert response.json()["rc"] == "AestheticsNotCompleted"


def test_a_model_without_pairs_cannot_be_judged(api_client, alice, make_pair, plain_model):
    request = make_pair(alice[0], model=plain_model)
    response = rate(api_client, request.id, alice[1], {"choice": "tie"})
    assert response.status_code == 400
    assert response.json()["rc"] == "InvalidAestheticAttempt"


def test_an_image_of_another_request_is_refused(api_client, alice, pair, make_pair):
    other_left, _ = shown_pair(make_pair(alice[0]))
    before = ledger_counts()
    for body in (
        {"best": str(other_left.id)},
        {"choice": "tie", "ratings": [{"id": str(other_left.id), "rating": 5}]},
    ):
        response = rate(api_client, pair.id, alice[1], body)
        assert response.status_code == 400
        assert response.json()["rc"] == "ProcGenNotFound"
    assert ledger_counts() == before
    assert not Vote.objects.exists()


def test_the_same_image_rated_twice_is_refused(api_client, alice, pair):
    left, _ = shown_pair(pair)
    body = {"choice": "left", "ratings": [{"id": str(left.id), "rating": 5}, {"id": str(left.id), "rating": 6}]}
    response = rate(api_client, pair.id, alice[1], body)
    assert response.json()["rc"] == "AestheticsDuplicate"


def test_a_best_that_contradicts_the_choice_is_refused(api_client, alice, pair):
    left, _ = shown_pair(pair)
    response = rate(api_client, pair.id, alice[1], {"best": str(left.id), "choice": "right"})
    assert response.status_code == 400
    assert response.json()["rc"] == "AestheticsConfused"


def test_nothing_to_say_is_refused(api_client, alice, pair):
    left, _ = shown_pair(pair)
    for body in ({}, {"ratings": [{"id": str(left.id), "rating": 5}]}):
        response = rate(api_client, pair.id, alice[1], body)
        assert response.status_code == 400
        assert response.json()["rc"] == "AestheticsMissing"


@pytest.mark.parametrize(
    "rating",
    [
        {"rating": 0},
        {"rating": 11},
        {"rating": 5.5},
        {"rating": "5"},
        {"rating": True},
        {"rating": None},
        {"rating": 5, "artifacts": 6},
        {"rating": 5, "artifacts": -1},
        {"rating": 5, "artifacts": 2.5},
        {},
    ],
)
def test_ratings_out_of_range_or_not_whole_numbers_are_400(api_client, alice, pair, rating):
    left, _ = shown_pair(pair)
    before = ledger_counts()
    response = rate(api_client, pair.id, alice[1], {"choice": "left", "ratings": [{"id": str(left.id), **rating}]})
    assert response.status_code == 400
    assert response.json()["rc"] == "BadRequest"
    assert ledger_counts() == before
    assert not Vote.objects.exists()


@pytest.mark.parametrize("body", [{"choice": "middle"}, {"choice": 1}, {"ratings": "x"}, [1, 2]])
def test_malformed_bodies_are_400(api_client, alice, pair, body):
    response = rate(api_client, pair.id, alice[1], body)
    assert response.status_code == 400
    assert response.json()["rc"] == "BadRequest"


def test_a_vote_faster_than_a_human_is_refused(api_client, alice, make_pair, settings):
    settings.RATINGS_MIN_SECONDS_TO_VOTE = 1.5
    fresh = make_pair(alice[0], finished_ago=0.2)
    left, _ = shown_pair(fresh)
    before = ledger_counts()
    response = rate(api_client, fresh.id, alice[1], {"best": str(left.id)})
    assert response.status_code == 400
    assert response.json()["rc"] == "RatingTooFast"
    assert ledger_counts() == before
    assert not Vote.objects.exists()


def test_an_excluded_rater_may_still_judge_but_earns_nothing(api_client, alice, pair):
    RaterTrust.objects.create(user=alice[0], excluded=True, override="blocked")
    left, _ = shown_pair(pair)
    response = rate(api_client, pair.id, alice[1], {"best": str(left.id)})
    assert response.json()["reward"] == 0
    assert Vote.objects.filter(request=pair).count() == 1
    assert not Transaction.objects.filter(kind="rating_rebate").exists()


def test_the_rebates_never_add_up_to_more_than_the_cost(api_client, alice, make_pair):
    requests = [make_pair(alice[0], job_kudos=k) for k in (1, 3, 8, 40)]
    for request in requests:
        left, right = shown_pair(request)
        body = {
            "best": str(left.id),
            "ratings": [
                {"id": str(left.id), "rating": 9, "artifacts": 0},
                {"id": str(right.id), "rating": 2, "artifacts": 5},
            ],
        }
        assert rate(api_client, request.id, alice[1], body).status_code == 200
    for request in requests:
        paid = Vote.objects.filter(request=request).aggregate(total=Sum("kudos_paid"))["total"]
        assert paid < request.kudos


# --- the cap follows the ledger's net cost; no self-dealing -----------------------------


def test_a_refund_for_the_request_lowers_the_cap(api_client, alice, make_pair):
    refunded = make_pair(alice[0], job_kudos=10)  # charged 20
    job = refunded.jobs.order_by("index").first()
    kudos_refund(user=alice[0], amount=10, event_key=f"job-refund:{job.pk}")  # net 10
    left, _ = shown_pair(refunded)
    response = rate(api_client, refunded.id, alice[1], {"best": str(left.id)})
    assert response.json()["reward"] == 9


def test_worker_rewards_paid_to_the_requester_for_the_request_leave_no_rebate(api_client, alice, make_pair):
    # What an own worker was paid before serving your own request stopped paying:
    # the request then cost nothing net, so rating it pays nothing.
    served = make_pair(alice[0], job_kudos=30)
    for job in served.jobs.all():
        kudos_reward(user=alice[0], amount=30, event_key=f"job-reward:{job.pk}")
    before = user_balance(user=alice[0])
    left, _ = shown_pair(served)
    response = rate(api_client, served.id, alice[1], {"best": str(left.id)})
    assert response.json()["reward"] == 0
    assert user_balance(user=alice[0]) == before
    assert Vote.objects.get(request=served).kudos_paid == 0


def test_request_cost_subtracts_a_rebate_already_paid(alice, make_pair):
    from ratings.selectors import request_cost

    pair = make_pair(alice[0], job_kudos=30)
    assert request_cost(generation_request=pair) == 60
    kudos_rebate(user=alice[0], amount=25, event_key=f"rating:owner:{pair.id}")
    assert request_cost(generation_request=pair) == 35


def test_serving_and_rating_your_own_pair_over_the_api_leaves_you_poorer(api_client, charlie, bob, settings):
    """The issue's round trip: a user with 0 kudos runs an HTTP worker, pops their own
    pair, submits flat images and rates them. It used to pay +25 kudos a pair. Now their
    own worker is handed nothing of their pair, and once a trusted worker made it, rating
    it rebates strictly less than it cost."""
    import base64
    import io
    import json

    from django.core.management import call_command
    from PIL import Image as PILImage

    call_command("seed_demo", stdout=io.StringIO())
    settings.HORDE_CELERY_DISPATCH = False
    settings.RATINGS_MIN_SECONDS_TO_VOTE = 0
    user, key = charlie
    start = user_balance(user=user)
    assert start == 0

    def post(url, data, apikey=key):
        return api_client.post(url, data=json.dumps(data), content_type="application/json", HTTP_APIKEY=apikey)

    beta = "SDXL_beta::stability.ai#6901"
    submitted = post(
        "/api/v2/generate/async", {"prompt": "a fox", "models": [beta], "params": {"width": 1024, "height": 1024}}
    )
    assert submitted.status_code == 202, submitted.json()
    request_id, price = submitted.json()["id"], int(submitted.json()["kudos"])
    own = post("/api/v2/generate/pop", {"name": "charlies-box", "models": [beta], "max_pixels": 1024 * 1024})
    assert (own.json()["id"], own.json()["skipped"]) == (None, {"untrusted": 2})
    assert user_balance(user=user) == start - price  # charged at submission

    bob[0].trusted = True  # a worker staff trust makes the pair
    bob[0].save(update_fields=["trusted"])
    flat = io.BytesIO()
    PILImage.new("RGB", (1024, 1024), (128, 128, 128)).save(flat, format="WEBP")
    image = base64.b64encode(flat.getvalue()).decode()
    popped_ids = set()
    for _ in range(2):  # one pop payload is one recipe
        popped = post("/api/v2/generate/pop", {"name": "bobs-box", "models": [beta], "max_pixels": 1024 * 1024}, bob[1])
        assert popped.json().get("id"), popped.json()
        popped_ids.add(popped.json()["id"])
        done = post("/api/v2/generate/submit", {"id": popped.json()["id"], "generation": image}, bob[1])
        assert done.status_code == 200, done.json()

    status = api_client.get(f"/api/v2/generate/status/{request_id}").json()
    left, right = (generation["id"] for generation in status["generations"])
    # A pair's generations are named by their image ids (a job id is the serving worker's).
    assert {left, right} == {str(pk) for pk in Image.objects.filter(job_id__in=popped_ids).values_list("pk", flat=True)}
    rated = post(
        f"/api/v2/generate/rate/{request_id}",
        {
            "best": left,
            "ratings": [{"id": left, "rating": 9, "artifacts": 0}, {"id": right, "rating": 3, "artifacts": 4}],
        },
    )
    assert rated.status_code == 200, rated.json()
    assert 0 < rated.json()["reward"] < price
    assert user_balance(user=user) == start - price + rated.json()["reward"]
    assert user_balance(user=user) < start
    assert Worker.objects.get(name="charlies-box").jobs_done == 0
