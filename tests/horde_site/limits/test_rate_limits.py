"""Rate limits: per client and route, shared by every web process through Redis, 429 past them."""

from __future__ import annotations

import io
import json
import threading
import uuid

import pytest
from django.core.management import call_command

from generation.models import GenerationRequest
from generation.services import RequestRefused, request_submit
from horde_site.limits import Rule, client_id, limit_hit
from kudos.models import Transaction

SD = "stable_diffusion"


@pytest.fixture
def demo_models(db):
    call_command("seed_demo", stdout=io.StringIO())


@pytest.fixture
def limits(settings):
    """Switch chosen limits on (the suite runs with them off), with a fresh route name per
    test so counters of other tests (they live in Redis) never count here."""

    def set_limits(**specs):
        settings.HORDE_RATE_LIMITS = specs

    return set_limits


def post(client, path, body, key=None):
    headers = {"HTTP_APIKEY": key} if key else {}
    return client.post(path, data=json.dumps(body), content_type="application/json", **headers)


def test_a_client_past_its_limit_gets_429_with_retry_after_and_nothing_is_created(client, demo_models, alice, limits):
    limits(**{"generate-async": "POST 3/60"})
    body = {"prompt": "a cat", "models": [SD]}
    assert [post(client, "/api/v2/generate/async", body, alice[1]).status_code for _ in range(3)] == [202] * 3
    refused = post(client, "/api/v2/generate/async", body, alice[1])
    assert refused.status_code == 429
    assert refused.json()["rc"] == "TooManyRequests"
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert GenerationRequest.objects.count() == 3


def test_each_key_has_its_own_count(client, demo_models, alice, bob, limits):
    limits(**{"generate-async": "POST 1/60"})
    body = {"prompt": "a cat", "models": [SD]}
    assert post(client, "/api/v2/generate/async", body, alice[1]).status_code == 202
    assert post(client, "/api/v2/generate/async", body, bob[1]).status_code == 202
    assert post(client, "/api/v2/generate/async", body, alice[1]).status_code == 429


def test_anonymous_calls_count_by_ip_address(client, demo_models, limits):
    limits(**{"generate-async": "POST 2/60"})
    body = {"prompt": "a cat", "models": [SD]}
    ip = f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.7"  # a fresh client for this test
    statuses = [
        client.post(
            "/api/v2/generate/async",
            data=json.dumps(body),
            content_type="application/json",
            HTTP_APIKEY="0000000000",
            REMOTE_ADDR=ip,
        ).status_code
        for _ in range(3)
    ]
    assert statuses == [202, 202, 429]
    other = client.post(
        "/api/v2/generate/async",
        data=json.dumps(body),
        content_type="application/json",
        HTTP_APIKEY="0000000000",
        REMOTE_ADDR=ip + "1",
    )
    assert other.status_code == 202


def test_transfers_are_limited_and_a_refused_one_moves_nothing(client, alice, bob, limits):
    limits(**{"api-kudos-transfer": "POST 2/60"})
    for _ in range(2):
        assert post(client, "/api/v2/kudos/transfer", {"username": "bob", "amount": 1}, alice[1]).status_code == 200
    before = Transaction.objects.count()
    assert post(client, "/api/v2/kudos/transfer", {"username": "bob", "amount": 1}, alice[1]).status_code == 429
    assert Transaction.objects.count() == before


def test_new_shared_keys_are_limited_and_a_refused_one_makes_nothing(client, alice, limits):
    from accounts.models import SharedKey

    limits(**{"api-sharedkeys": "PUT 2/60"})

    def put():
        return client.put("/api/v2/sharedkeys", data="{}", content_type="application/json", HTTP_APIKEY=alice[1])

    assert [put().status_code for _ in range(2)] == [200, 200]
    refused = put()
    assert refused.status_code == 429 and refused.json()["rc"] == "TooManyRequests"
    assert SharedKey.objects.filter(user=alice[0]).count() == 2


def test_other_routes_and_methods_are_not_counted(client, demo_models, alice, limits):
    limits(**{"generate-async": "POST 1/60"})
    for _ in range(5):
        assert client.get("/api/v2/status/heartbeat").status_code == 200


def test_concurrent_calls_share_one_counter():
    """Threads standing in for web processes: the cache's atomic increment counts every call."""
    rule = Rule(route=f"test-{uuid.uuid4().hex}", method="POST", limit=20, window=60)
    barrier = threading.Barrier(8)
    results: list = []

    def call():
        barrier.wait()
        for _ in range(5):
            results.append(limit_hit(rule=rule, client="k:shared", now=1_000_000.0))

    threads = [threading.Thread(target=call) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(None) == 20  # exactly the limit passed, not one more


def test_a_new_window_starts_a_new_count():
    rule = Rule(route=f"test-{uuid.uuid4().hex}", method="POST", limit=1, window=60)
    assert limit_hit(rule=rule, client="k:a", now=120.0) is None
    assert limit_hit(rule=rule, client="k:a", now=150.0) == 30
    assert limit_hit(rule=rule, client="k:a", now=180.0) is None


def test_the_client_is_the_hashed_key_never_the_key_itself(rf):
    request = rf.get("/api/v2/find_user", HTTP_APIKEY="my-secret-key")
    assert "my-secret-key" not in client_id(request)
    assert client_id(rf.get("/", HTTP_APIKEY="0000000000", REMOTE_ADDR="1.2.3.4")) == "ip:1.2.3.4"


def test_a_user_may_have_only_so_many_requests_waiting(demo_models, alice, settings):
    settings.HORDE_MAX_WAITING_REQUESTS = 2
    settings.HORDE_CELERY_DISPATCH = False
    for _ in range(2):
        request_submit(user=alice[0], body={"prompt": "a cat", "models": [SD]})
    with pytest.raises(RequestRefused) as refused:
        request_submit(user=alice[0], body={"prompt": "a cat", "models": [SD]})
    assert (refused.value.status_code, refused.value.rc) == (429, "TooManyPrompts")
    assert GenerationRequest.objects.count() == 2
    assert Transaction.objects.filter(event_key__startswith="job-charge:").count() == 2  # the third was not charged


@pytest.mark.django_db(transaction=True)
def test_concurrent_submits_cannot_slip_past_the_waiting_cap(demo_models, alice, settings):
    settings.HORDE_MAX_WAITING_REQUESTS = 3
    settings.HORDE_CELERY_DISPATCH = False
    barrier = threading.Barrier(6)
    outcomes: list = []

    def submit():
        from django.db import connection

        barrier.wait()
        try:
            request_submit(user=alice[0], body={"prompt": "a cat", "models": [SD]})
            outcomes.append("ok")
        except RequestRefused as refused:
            outcomes.append(refused.rc)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["TooManyPrompts"] * 3 + ["ok"] * 3
    assert GenerationRequest.objects.filter(user=alice[0]).count() == 3


def test_sign_up_is_limited_per_ip_address(client, db, settings):
    settings.ACCOUNT_RATE_LIMITS = {"signup": "2/h/ip"}
    ip = f"10.9.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    statuses = []
    for index in range(3):
        response = client.post(
            "/accounts/signup/",
            {
                "username": f"newcomer{index}{uuid.uuid4().hex[:6]}",
                "email": f"n{index}{uuid.uuid4().hex[:6]}@example.com",
                "password1": "a-long-enough-pass-123",
                "password2": "a-long-enough-pass-123",
            },
            REMOTE_ADDR=ip,
        )
        statuses.append(response.status_code)
        client.logout()
    assert statuses[:2] == [302, 302]
    assert statuses[2] == 429


def test_worker_changes_are_limited_as_on_the_ai_horde_and_a_refused_one_changes_nothing(
    client, demo_models, alice, limits
):
    from generation.models import Worker

    worker = Worker.objects.create(name="alices-box", owner=alice[0])
    limits(worker="PUT 2/60")
    url = f"/api/v2/workers/{worker.pk}"

    def put(info):
        return client.put(url, data=json.dumps({"info": info}), content_type="application/json", HTTP_APIKEY=alice[1])

    assert [put(info).status_code for info in ("one", "two")] == [200, 200]
    refused = put("three")
    assert (refused.status_code, refused.json()["rc"]) == (429, "TooManyRequests")
    worker.refresh_from_db()
    assert worker.note == "two"
