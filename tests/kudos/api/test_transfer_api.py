"""POST /api/v2/kudos/transfer: AI Horde compatible, and every bad input changes nothing."""

from __future__ import annotations

import json
import uuid

import pytest

from accounts.models import ANONYMOUS_APIKEY
from kudos.models import Transaction
from kudos.selectors import user_balance

URL = "/api/v2/kudos/transfer"


def post(api_client, key, body):
    headers = {} if key is None else {"apikey": key}
    return api_client.post(URL, body, format="json", headers=headers)


@pytest.mark.django_db
def test_it_transfers_kudos_by_plain_username(api_client, alice, bob):
    (alice_user, alice_key), (bob_user, _) = alice, bob
    response = post(api_client, alice_key, {"username": "bob", "amount": 300})
    assert response.status_code == 200
    assert response.json() == {"transferred": 300}
    assert user_balance(user=alice_user) == 700
    assert user_balance(user=bob_user) == 1300


@pytest.mark.django_db
def test_it_transfers_kudos_by_horde_name(api_client, alice, bob):
    (alice_user, alice_key), (bob_user, _) = alice, bob
    response = post(api_client, alice_key, {"username": bob_user.horde_name, "amount": 1})
    assert response.status_code == 200
    assert user_balance(user=bob_user) == 1001
    assert user_balance(user=alice_user) == 999


@pytest.mark.django_db
def test_a_retried_transfer_id_pays_once(api_client, alice, bob, ledger_snapshot):
    (alice_user, alice_key), (bob_user, _) = alice, bob
    body = {"username": "bob", "amount": 100, "transfer_id": str(uuid.uuid4())}
    assert post(api_client, alice_key, body).status_code == 200
    before = ledger_snapshot()
    response = post(api_client, alice_key, body)
    assert response.status_code == 400
    assert response.json()["rc"] == "DuplicateEvent"
    assert ledger_snapshot() == before
    assert user_balance(user=alice_user) == 900
    assert user_balance(user=bob_user) == 1100


@pytest.mark.django_db
def test_an_entire_balance_can_be_sent(api_client, alice, bob):
    (alice_user, alice_key), _ = alice, bob
    assert post(api_client, alice_key, {"username": "bob", "amount": 1000}).status_code == 200
    assert user_balance(user=alice_user) == 0


def assert_refused(response, status: int, rc: str, before: dict, after: dict) -> None:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["rc"] == rc
    assert body["message"]
    assert after == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("amount", "rc"),
    [
        (0, "NegativeKudosTransfer"),
        (-5, "NegativeKudosTransfer"),
        ("10", "KudosValidationError"),
        ("ten", "KudosValidationError"),
        (1.5, "KudosValidationError"),
        (True, "KudosValidationError"),
        ([10], "KudosValidationError"),
        ({"n": 10}, "KudosValidationError"),
        (10**12, "KudosValidationError"),
        (10**40, "KudosValidationError"),
    ],
)
def test_it_refuses_an_amount_that_is_not_a_positive_whole_number(api_client, alice, bob, ledger_snapshot, amount, rc):
    _, alice_key = alice
    before = ledger_snapshot()
    response = post(api_client, alice_key, {"username": "bob", "amount": amount})
    assert_refused(response, 400, rc, before, ledger_snapshot())


@pytest.mark.django_db
def test_it_refuses_a_null_or_missing_amount(api_client, alice, bob, ledger_snapshot):
    _, alice_key = alice
    before = ledger_snapshot()
    for body in ({"username": "bob", "amount": None}, {"username": "bob"}):
        response = post(api_client, alice_key, body)
        assert_refused(response, 400, "BadRequest", before, ledger_snapshot())
        assert "amount" in response.json()["message"]


@pytest.mark.django_db
@pytest.mark.parametrize("username", ["nobody", "bob#999999", "alice#0", "#", "", "bob#x"])
def test_it_refuses_an_unknown_recipient(api_client, alice, bob, ledger_snapshot, username):
    _, alice_key = alice
    before = ledger_snapshot()
    response = post(api_client, alice_key, {"username": username, "amount": 10})
    rc = "BadRequest" if username == "" else "InvalidTargetUsername"
    assert_refused(response, 400, rc, before, ledger_snapshot())


@pytest.mark.django_db
def test_it_refuses_a_transfer_to_oneself(api_client, alice, ledger_snapshot):
    alice_user, alice_key = alice
    before = ledger_snapshot()
    for username in ("alice", alice_user.horde_name):
        response = post(api_client, alice_key, {"username": username, "amount": 10})
        assert_refused(response, 400, "KudosTransferToSelf", before, ledger_snapshot())


@pytest.mark.django_db
def test_it_refuses_a_transfer_from_the_anonymous_user(api_client, bob, ledger_snapshot):
    before = ledger_snapshot()
    response = post(api_client, ANONYMOUS_APIKEY, {"username": "bob", "amount": 10})
    assert_refused(response, 400, "KudosTransferFromAnon", before, ledger_snapshot())


@pytest.mark.django_db
def test_it_refuses_a_transfer_to_the_anonymous_user(api_client, alice, ledger_snapshot):
    _, alice_key = alice
    before = ledger_snapshot()
    for username in ("Anonymous#0", "Anonymous"):
        response = post(api_client, alice_key, {"username": username, "amount": 10})
        assert_refused(response, 400, "KudosTransferToAnon", before, ledger_snapshot())


@pytest.mark.django_db
def test_it_refuses_an_overdraft(api_client, alice, bob, ledger_snapshot):
    (alice_user, alice_key), _ = alice, bob
    before = ledger_snapshot()
    response = post(api_client, alice_key, {"username": "bob", "amount": 1001})
    assert_refused(response, 400, "KudosTransferNotEnough", before, ledger_snapshot())
    assert user_balance(user=alice_user) == 1000


@pytest.mark.django_db
def test_a_user_with_no_kudos_cannot_send_any(api_client, charlie, bob, ledger_snapshot):
    _, charlie_key = charlie
    before = ledger_snapshot()
    response = post(api_client, charlie_key, {"username": "bob", "amount": 1})
    assert_refused(response, 400, "KudosTransferNotEnough", before, ledger_snapshot())


@pytest.mark.django_db
@pytest.mark.parametrize("key", [None, "", "not-a-real-key-at-all!", "x" * 500])
def test_it_refuses_a_missing_or_wrong_apikey(api_client, alice, bob, ledger_snapshot, key):
    before = ledger_snapshot()
    response = post(api_client, key, {"username": "bob", "amount": 10})
    assert_refused(response, 401, "InvalidAPIKey", before, ledger_snapshot())


@pytest.mark.django_db
@pytest.mark.parametrize("raw", ['{"username": "bob", "amount": 10', "not json", "", '["bob", 10]', "null"])
def test_it_refuses_a_malformed_body(api_client, alice, bob, ledger_snapshot, raw):
    _, alice_key = alice
    before = ledger_snapshot()
    response = api_client.post(URL, raw, content_type="application/json", headers={"apikey": alice_key})
    assert_refused(response, 400, "BadRequest", before, ledger_snapshot())


@pytest.mark.django_db
def test_it_refuses_a_transfer_id_that_is_not_a_uuid(api_client, alice, bob, ledger_snapshot):
    _, alice_key = alice
    before = ledger_snapshot()
    response = post(api_client, alice_key, {"username": "bob", "amount": 10, "transfer_id": "abc"})
    assert_refused(response, 400, "BadRequest", before, ledger_snapshot())


@pytest.mark.django_db
def test_the_transfer_is_one_balanced_transaction_naming_both_users(api_client, alice, bob):
    (alice_user, alice_key), (bob_user, _) = alice, bob
    transfer_id = uuid.uuid4()
    post(api_client, alice_key, {"username": "bob", "amount": 42, "transfer_id": str(transfer_id)})
    txn = Transaction.objects.get(event_key=f"transfer:{transfer_id}")
    legs = dict(txn.entries.values_list("account__user_id", "amount"))
    assert legs == {alice_user.pk: -42, bob_user.pk: 42}
    assert txn.created_by_id == alice_user.pk
    assert json.dumps(txn.memo)  # a readable memo for both histories
    assert "alice" in txn.memo and "bob" in txn.memo


def test_a_whole_number_sent_as_a_float_is_a_whole_number(api_client, alice, bob):
    # horde-sdk sends the amount as a float (10.0): the AI Horde takes it.
    from kudos.selectors import user_balance

    response = api_client.post(
        "/api/v2/kudos/transfer", {"username": "bob", "amount": 10.0}, format="json", HTTP_APIKEY=alice[1]
    )
    assert response.status_code == 200, response.json()
    assert response.json() == {"transferred": 10}
    assert user_balance(user=bob[0]) == 1010
    half = api_client.post(
        "/api/v2/kudos/transfer", {"username": "bob", "amount": 10.5}, format="json", HTTP_APIKEY=alice[1]
    )
    assert half.status_code == 400
    assert user_balance(user=bob[0]) == 1010
