"""The ratings service v1 API: rating/new, rating/{id}, and the read endpoints, checked
against horde-sdk's ratings response models."""

from __future__ import annotations

import uuid

import pytest
from horde_sdk.ratings_api.apimodels import (
    ImageRatingsResponse,
    UserCheckResponse,
    UserRatingsResponse,
    UserValidateResponse,
)

from aesthetics.models import ImageRating, SetImage
from kudos.models import Transaction
from kudos.selectors import user_balance
from ratings.models import RaterTrust

from .conftest import set_images

pytestmark = pytest.mark.django_db

NEW = "/api/v1/rating/new"


def rate(api_client, key: str, image_id, body: dict):
    return api_client.post(f"/api/v1/rating/{image_id}", body, format="json", HTTP_APIKEY=key)


def new(api_client, key: str, **params):
    return api_client.get(NEW, params, HTTP_APIKEY=key)


def test_rating_new_gives_id_url_and_dataset_of_an_image_in_an_active_set(api_client, charlie, make_set):
    rating_set = make_set(count=3)
    answer = new(api_client, charlie[1])
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {"id", "url", "dataset_id"}
    assert body["dataset_id"] == str(rating_set.id)
    image = SetImage.objects.get(pk=body["id"])
    assert body["url"].endswith(image.file.url)
    assert image.file.storage.exists(image.file.name)  # the file behind the URL is there


def test_rating_pays_the_reward_through_the_ledger_and_counts_on_the_image(api_client, charlie, make_set, settings):
    settings.AESTHETICS_RATING_REWARD = 3
    make_set(count=2)
    image_id = new(api_client, charlie[1]).json()["id"]
    before = user_balance(user=charlie[0])

    answer = rate(api_client, charlie[1], image_id, {"rating": 7, "artifacts": 1})

    assert answer.status_code == 200 and answer.json() == {"reward": 3}
    assert user_balance(user=charlie[0]) == before + 3
    assert Transaction.objects.filter(event_key=f"image-rating:{image_id}:{charlie[0].pk}").count() == 1
    image = SetImage.objects.get(pk=image_id)
    assert (image.rating_count, image.rating_sum) == (1, 7)
    assert ImageRating.objects.get(image=image).artifacts == 1


def test_a_second_rating_of_the_same_image_is_refused_and_pays_nothing(api_client, charlie, make_set):
    make_set(count=2)
    image_id = new(api_client, charlie[1]).json()["id"]
    assert rate(api_client, charlie[1], image_id, {"rating": 7}).status_code == 200
    paid = Transaction.objects.count()

    again = rate(api_client, charlie[1], image_id, {"rating": 2, "artifacts": 5})

    assert again.status_code == 400 and again.json()["rc"] == "RatingAlreadySubmitted"
    assert Transaction.objects.count() == paid
    image = SetImage.objects.get(pk=image_id)
    assert (image.rating_count, image.rating_sum) == (1, 7)


@pytest.mark.parametrize(
    "body",
    [
        {"rating": 0},
        {"rating": 11},
        {"rating": 5, "artifacts": 6},
        {"rating": 5, "artifacts": -1},
        {"rating": "7"},
        {"rating": 7.5},
        {"rating": True},
        {},
        {"artifacts": 2},
    ],
)
def test_values_out_of_range_or_not_whole_numbers_are_refused_and_change_nothing(api_client, charlie, make_set, body):
    make_set(count=1)
    image_id = new(api_client, charlie[1]).json()["id"]
    answer = rate(api_client, charlie[1], image_id, body)
    assert answer.status_code == 400
    assert answer.json()["rc"] == "BadRequest" and answer.json()["message"]
    assert ImageRating.objects.count() == 0 and Transaction.objects.filter(kind="rating_rebate").count() == 0


@pytest.mark.parametrize("foreign", ["not-a-uuid", str(uuid.uuid4())])
def test_a_foreign_id_is_not_found_and_pays_nothing(api_client, charlie, make_set, foreign):
    make_set(count=1)
    answer = rate(api_client, charlie[1], foreign, {"rating": 5})
    assert answer.status_code == 404 and answer.json()["rc"] == "ImageNotFound"
    assert ImageRating.objects.count() == 0


def test_an_image_of_an_inactive_set_is_neither_served_nor_rateable(api_client, charlie, make_set):
    rating_set = make_set(count=1)
    image = set_images(rating_set)[0]
    rating_set.active = False
    rating_set.save()
    assert new(api_client, charlie[1]).json()["rc"] == "NoImageToRate"
    assert rate(api_client, charlie[1], image.id, {"rating": 5}).status_code == 404


def test_without_a_key_it_is_401_and_anonymous_is_403(api_client, make_set):
    make_set(count=1)
    assert api_client.get(NEW).status_code == 401
    anonymous = api_client.get(NEW, HTTP_APIKEY="0000000000")
    assert anonymous.status_code == 403 and anonymous.json()["rc"] == "AnonForbidden"
    assert api_client.get(NEW, HTTP_APIKEY="wrong-key").json()["rc"] == "InvalidAPIKey"


def test_rating_new_never_serves_an_image_the_rater_rated_and_serves_fewest_ratings_first(
    api_client, alice, bob, charlie, make_set, settings
):
    settings.AESTHETICS_TARGET_RATINGS = 10
    images = set_images(make_set(count=4))
    # Alice and Bob rated the first two images: they have the most ratings.
    for rater in (alice, bob):
        for image in images[:2]:
            assert rate(api_client, rater[1], image.id, {"rating": 5}).status_code == 200
    served = set()
    for _ in range(2):
        image_id = new(api_client, charlie[1]).json()["id"]
        served.add(image_id)
        rate(api_client, charlie[1], image_id, {"rating": 6})
    assert served == {str(images[2].id), str(images[3].id)}  # the unrated ones first
    # Then the rest, and never one Charlie rated.
    later = {new(api_client, charlie[1]).json()["id"] for _ in range(10)}
    assert later <= {str(images[0].id), str(images[1].id)}


def test_an_image_leaves_the_pool_at_the_target_number_of_ratings(api_client, make_user, make_set, settings):
    settings.AESTHETICS_TARGET_RATINGS = 2
    image = set_images(make_set(count=1))[0]
    raters = [make_user(f"rater{index}") for index in range(3)]
    for rater in raters[:2]:
        assert new(api_client, rater[1]).json()["id"] == str(image.id)
        rate(api_client, rater[1], image.id, {"rating": 4})
    answer = new(api_client, raters[2][1])
    assert answer.status_code == 404 and answer.json()["rc"] == "NoImageToRate"


def test_rating_new_reads_stored_counters_in_a_constant_number_of_queries(
    api_client, charlie, make_set, django_assert_max_num_queries, settings
):
    settings.AESTHETICS_CONTROL_EVERY = 0
    make_set(count=3)
    new(api_client, charlie[1])  # warm the apikey lookup cache
    with django_assert_max_num_queries(4):
        assert new(api_client, charlie[1]).status_code == 200


def test_an_excluded_rater_is_stored_but_earns_nothing(api_client, charlie, make_set):
    make_set(count=1)
    RaterTrust.objects.create(user=charlie[0], excluded=True)
    image_id = new(api_client, charlie[1]).json()["id"]
    answer = rate(api_client, charlie[1], image_id, {"rating": 8})
    assert answer.json() == {"reward": 0}
    assert ImageRating.objects.filter(rater=charlie[0]).count() == 1
    assert Transaction.objects.filter(kind="rating_rebate").count() == 0


def test_image_ratings_match_horde_sdk_and_are_hidden_until_you_have_rated(api_client, alice, bob, make_set):
    image = set_images(make_set(count=1))[0]
    rate(api_client, alice[1], image.id, {"rating": 8, "artifacts": 0})
    refused = api_client.get(f"/api/v1/image/ratings/{image.id}", HTTP_APIKEY=bob[1])
    assert refused.status_code == 403 and refused.json()["rc"] == "Forbidden"
    rate(api_client, bob[1], image.id, {"rating": 4})

    answer = api_client.get(f"/api/v1/image/ratings/{image.id}", {"format": "json"}, HTTP_APIKEY=bob[1])

    parsed = ImageRatingsResponse.model_validate(answer.json())
    assert parsed.image_id == image.id and parsed.total == 2 and parsed.times_rated == 2
    assert parsed.average == 6.0
    # Bob sees his own name, never Alice's.
    assert sorted((row.username, row.rating) for row in parsed.ratings) == [(f"bob#{bob[0].pk}", 4), ("rater", 8)]


def test_user_ratings_match_horde_sdk_with_filters_and_divergence(api_client, alice, bob, charlie, make_set):
    images = set_images(make_set(count=3))
    for rater, value in ((alice, 9), (bob, 9), (charlie, 2)):
        rate(api_client, rater[1], images[0].id, {"rating": value})
    rate(api_client, charlie[1], images[1].id, {"rating": 6, "artifacts": 3})

    mine = UserRatingsResponse.model_validate(
        api_client.get("/api/v1/user/ratings/", {"format": "json", "limit": 10}, HTTP_APIKEY=charlie[1]).json()
    )
    assert mine.total == 2 and {row.rating for row in mine.ratings} == {2, 6}
    assert all(row.username == charlie[0].horde_name for row in mine.ratings)

    high = api_client.get("/api/v1/user/ratings/", {"rating": 5, "rating_comparison": "ge"}, HTTP_APIKEY=charlie[1])
    assert [row["rating"] for row in high.json()["ratings"]] == [6]
    # Divergence: 2 against the others' mean of 9 is 7 away; the lone rating of image 1 has no others.
    diverging = api_client.get("/api/v1/user/ratings", {"diverge": 5}, HTTP_APIKEY=charlie[1]).json()
    assert [(row["rating"], row["average"]) for row in diverging["ratings"]] == [(2, round(20 / 3, 4))]
    bad = api_client.get("/api/v1/user/ratings/", {"rating_comparison": "gt", "rating": 3}, HTTP_APIKEY=charlie[1])
    assert bad.status_code == 400 and bad.json()["rc"] == "BadRequest"


def test_user_check_and_validate_match_horde_sdk_for_self_and_staff_only(api_client, alice, bob, charlie, make_set):
    images = set_images(make_set(count=2, controls={1: 7}))
    for rater, value in ((alice, 9), (bob, 8), (charlie, 1)):
        rate(api_client, rater[1], images[0].id, {"rating": value})
    rate(api_client, charlie[1], images[1].id, {"rating": 3})  # the control said 7: failed

    check = api_client.get(
        f"/api/v1/user/check/{charlie[0].pk}", {"minutes": 60, "divergence": 3}, HTTP_APIKEY=charlie[1]
    )
    figures = UserCheckResponse.model_validate(check.json())
    assert figures.ratings_in_timeframe == 2 and figures.ratings_past_three_hours == 2
    assert figures.suspect_divergences == 1 and figures.captchas_failed == 1

    validate = api_client.get(f"/api/v1/user/validate/{charlie[0].pk}", HTTP_APIKEY=charlie[1])
    assert UserValidateResponse.model_validate(validate.json()).total == 2

    assert api_client.get(f"/api/v1/user/check/{alice[0].pk}", HTTP_APIKEY=charlie[1]).status_code == 403
    alice[0].is_staff = True
    alice[0].save()
    staff = api_client.get(f"/api/v1/user/validate/{charlie[0].pk}", HTTP_APIKEY=alice[1])
    assert staff.status_code == 200 and staff.json()["ratings"][0]["username"] == charlie[0].horde_name
    missing = api_client.get("/api/v1/user/check/999999", HTTP_APIKEY=alice[1])
    assert missing.status_code == 404 and missing.json()["rc"] == "UserNotFound"
    bad = api_client.get(f"/api/v1/user/check/{charlie[0].pk}", {"minutes": 0}, HTTP_APIKEY=alice[1])
    assert bad.status_code == 400 and bad.json()["rc"] == "BadRequest"


def test_a_browser_client_on_another_origin_may_call_the_ratings_api(api_client, charlie, make_set):
    image = set_images(make_set(count=1))[0]
    preflight = api_client.options(
        f"/api/v1/rating/{image.id}",
        HTTP_ORIGIN="https://artbot.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="apikey, content-type",
    )
    assert preflight["Access-Control-Allow-Origin"] == "*"
    assert "POST" in preflight["Access-Control-Allow-Methods"]
    answer = api_client.get(NEW, HTTP_APIKEY=charlie[1], HTTP_ORIGIN="https://artbot.example")
    assert answer.status_code == 200 and answer["Access-Control-Allow-Origin"] == "*"
