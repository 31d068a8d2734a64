"""GET /api/v2/find_user and GET /api/v2/users/{id}: the AI Horde's UserDetails."""

from __future__ import annotations

import uuid

import pytest

from accounts.models import ANONYMOUS_APIKEY, User
from generation.models import GenerationRequest, ImageModel, Worker
from kudos.services import kudos_charge, kudos_rebate, kudos_reward, kudos_transfer


@pytest.mark.django_db
def test_find_user_answers_with_the_user_of_the_key(api_client, alice):
    user, key = alice
    response = api_client.get("/api/v2/find_user", headers={"apikey": key})
    assert response.status_code == 200
    body = response.json()
    assert body["username"] == f"alice#{user.pk}"
    assert body["id"] == user.pk
    assert body["kudos"] == 1000
    assert body["trusted"] is False
    assert body["moderator"] is False
    assert body["worker_ids"] == []
    assert body["worker_count"] == 0
    assert isinstance(body["account_age"], int) and body["account_age"] >= 0
    assert body["kudos_details"]["admin"] == 1000
    assert set(body["records"]) == {"usage", "contribution", "fulfillment", "request"}


@pytest.mark.django_db
def test_find_user_with_the_anonymous_key_is_the_anonymous_user(api_client):
    response = api_client.get("/api/v2/find_user", headers={"apikey": ANONYMOUS_APIKEY})
    assert response.status_code == 200
    assert response.json()["id"] == 0
    assert response.json()["username"] == "Anonymous#0"


@pytest.mark.django_db
@pytest.mark.parametrize("headers", [{}, {"apikey": ""}, {"apikey": "no-such-key-0123456789"}])
def test_find_user_needs_a_valid_key(api_client, alice, headers):
    response = api_client.get("/api/v2/find_user", headers=headers)
    assert response.status_code == 401
    assert response.json()["rc"] == "InvalidAPIKey"
    assert response.json()["message"]


@pytest.mark.django_db
def test_a_user_is_found_by_id_without_a_key(api_client, bob):
    user, _ = bob
    User.objects.filter(pk=user.pk).update(trusted=True, is_staff=True)
    response = api_client.get(f"/api/v2/users/{user.pk}")
    assert response.status_code == 200
    body = response.json()
    assert body["username"] == f"bob#{user.pk}"
    assert body["trusted"] is True
    assert body["moderator"] is True


@pytest.mark.django_db
@pytest.mark.parametrize("user_id", ["999999", "abc", "-1", "9" * 40])
def test_an_unknown_user_id_is_a_404_user_not_found(api_client, user_id):
    response = api_client.get(f"/api/v2/users/{user_id}")
    assert response.status_code == 404
    assert response.json()["rc"] == "UserNotFound"


@pytest.mark.django_db
def test_kudos_details_split_the_ledger_by_kind_and_direction(api_client, alice, bob):
    (alice_user, alice_key), (bob_user, _) = alice, bob
    kudos_transfer(sender=alice_user, recipient=bob_user, amount=100)
    kudos_transfer(sender=bob_user, recipient=alice_user, amount=30)
    kudos_charge(user=alice_user, amount=50, event_key=f"test-charge:{uuid.uuid4()}")
    kudos_reward(user=alice_user, amount=20, event_key=f"test-reward:{uuid.uuid4()}")
    kudos_rebate(user=alice_user, amount=5, event_key=f"test-rebate:{uuid.uuid4()}")

    body = api_client.get("/api/v2/find_user", headers={"apikey": alice_key}).json()
    assert body["kudos"] == 1000 - 100 + 30 - 50 + 20 + 5
    details = body["kudos_details"]
    assert details["gifted"] == -100
    assert details["received"] == 30
    assert details["accumulated"] == -50 + 20
    assert details["awarded"] == 5
    assert details["admin"] == 1000
    assert sum(details.values()) == body["kudos"]


@pytest.mark.django_db
def test_worker_ids_and_records_come_from_the_generation_models(api_client, alice):
    user, key = alice
    model = ImageModel.objects.create(name="test-model", queue="model.test")
    first = Worker.objects.create(name="w1", owner=user, jobs_done=3, mps_done=12.5)
    second = Worker.objects.create(name="w2", owner=user, jobs_done=2, mps_done=0.5)
    GenerationRequest.objects.create(
        user=user, model=model, prompt="a bee", width=512, height=512, steps=20, seed=1, n=2, kudos=10
    )
    body = api_client.get("/api/v2/find_user", headers={"apikey": key}).json()
    assert sorted(body["worker_ids"]) == sorted([str(first.pk), str(second.pk)])
    assert body["worker_count"] == 2
    assert body["records"]["fulfillment"]["image"] == 5
    assert body["records"]["contribution"]["megapixelsteps"] == 13.0
    assert body["records"]["request"]["image"] == 2
    assert body["records"]["usage"]["megapixelsteps"] == round(512 * 512 * 20 * 2 / 1_000_000, 2)
    assert body["contributions"] == {"megapixelsteps": 13.0, "fulfillments": 5}


@pytest.mark.django_db
def test_the_documented_shape_matches_the_answer(api_client, alice):
    from accounts.schema import UserDetailsSerializer, UserKudosDetailsSerializer

    _, key = alice
    body = api_client.get("/api/v2/find_user", headers={"apikey": key}).json()
    assert set(body) == set(UserDetailsSerializer().fields)
    assert set(body["kudos_details"]) == set(UserKudosDetailsSerializer().fields)


@pytest.mark.django_db
def test_the_api_schema_documents_the_user_and_kudos_endpoints(client):
    response = client.get("/api/schema?format=json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {"/api/v2/find_user", "/api/v2/users/{user_id}", "/api/v2/kudos/transfer"} <= set(paths)
    assert "apikey" in response.json()["components"]["securitySchemes"]


@pytest.mark.django_db
def test_find_user_costs_a_fixed_number_of_queries(api_client, alice, django_assert_max_num_queries):
    user, key = alice
    for index in range(5):
        Worker.objects.create(name=f"worker-{index}", owner=user)
    with django_assert_max_num_queries(7):
        assert api_client.get("/api/v2/find_user", headers={"apikey": key}).status_code == 200
