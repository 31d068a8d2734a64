"""POST /api/v2/kudos/award: staff only, through the ledger, paying once per award_id."""

from __future__ import annotations

import uuid

import pytest

from accounts.models import ANONYMOUS_APIKEY
from kudos.models import Transaction
from kudos.selectors import user_balance

pytestmark = pytest.mark.django_db
URL = "/api/v2/kudos/award"


@pytest.fixture
def staff(make_user):
    return make_user("staffer", is_staff=True)


def post(api_client, key, body):
    return api_client.post(URL, body, format="json", headers={} if key is None else {"apikey": key})


def test_staff_award_kudos_through_the_ledger(api_client, staff, bob):
    response = post(api_client, staff[1], {"username": bob[0].horde_name, "amount": 250.0})
    assert response.status_code == 200
    assert response.json() == {"awarded": 250.0}
    assert user_balance(user=bob[0]) == 1250
    award = Transaction.objects.get(kind=Transaction.Kind.AWARD)
    assert award.created_by == staff[0] and award.event_key.startswith("award:")
    assert {entry.amount for entry in award.entries.all()} == {250, -250}
    details = api_client.get(f"/api/v2/users/{bob[0].pk}").json()["kudos_details"]
    assert details["awarded"] == 250


def test_an_award_id_pays_once(api_client, staff, bob):
    award_id = str(uuid.uuid4())
    first = post(api_client, staff[1], {"username": "bob", "amount": 40, "award_id": award_id})
    again = post(api_client, staff[1], {"username": "bob", "amount": 40, "award_id": award_id})
    assert first.status_code == 200
    assert again.status_code == 400 and again.json()["rc"] == "DuplicateEvent"
    assert user_balance(user=bob[0]) == 1040


def test_only_staff_may_award(api_client, alice, bob):
    for key in (alice[1], ANONYMOUS_APIKEY):
        response = post(api_client, key, {"username": "bob", "amount": 10})
        assert response.status_code == 403 and response.json()["rc"] == "NotAllowedAwards"
    assert post(api_client, None, {"username": "bob", "amount": 10}).status_code == 401
    assert user_balance(user=bob[0]) == 1000
    assert not Transaction.objects.filter(kind=Transaction.Kind.AWARD).exists()


def test_unknown_and_anonymous_recipients_are_refused(api_client, staff):
    unknown = post(api_client, staff[1], {"username": "nobody", "amount": 10})
    assert unknown.status_code == 400 and unknown.json()["rc"] == "InvalidAwardUsername"
    anon = post(api_client, staff[1], {"username": "Anonymous#0", "amount": 10})
    assert anon.status_code == 400 and anon.json()["rc"] == "KudosAwardToAnon"
    assert not Transaction.objects.filter(kind=Transaction.Kind.AWARD).exists()


@pytest.mark.parametrize(
    ("body", "rc"),
    [
        ({"username": "bob", "amount": 0}, "NegativeKudosTransfer"),
        ({"username": "bob", "amount": -5}, "NegativeKudosTransfer"),
        ({"username": "bob", "amount": 1.5}, "KudosValidationError"),
        ({"username": "bob", "amount": "10"}, "KudosValidationError"),
        ({"username": "bob", "amount": True}, "KudosValidationError"),
        ({"username": "bob", "amount": 10**20}, "KudosValidationError"),
        ({"username": "bob"}, "BadRequest"),
        ({"amount": 10}, "BadRequest"),
        ({"username": "bob", "amount": 10, "award_id": "not-a-uuid"}, "BadRequest"),
        ({"username": "b\u0000ob", "amount": 10}, "BadRequest"),
    ],
)
def test_bad_input_is_refused_and_pays_nothing(api_client, staff, bob, body, rc):
    response = post(api_client, staff[1], body)
    assert response.status_code == 400, response.content
    assert response.json()["rc"] == rc
    assert user_balance(user=bob[0]) == 1000
    assert not Transaction.objects.filter(kind=Transaction.Kind.AWARD).exists()
