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


def fresh_ip() -> str:
    """An address no other test (their counters live in Redis) has used."""
    return f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"


def pop(client, key, name):
    return post(client, "/api/v2/generate/pop", {"name": name, "models": [SD]}, key)


def test_each_worker_of_one_key_has_its_own_pop_count(client, demo_models, alice, limits):
    from generation.models import Worker

    limits(**{"generate-pop.worker": "POST 2/60", "generate-pop": "POST 100/60"})
    box = f"box-{uuid.uuid4().hex[:8]}"
    assert [pop(client, alice[1], f"{box}-a").status_code for _ in range(2)] == [200, 200]
    refused = pop(client, alice[1], f"{box}-a")
    assert (refused.status_code, refused.json()["rc"]) == (429, "TooManyRequests")
    assert 1 <= int(refused["Retry-After"]) <= 60
    # The same key's second worker is not held back by the first one's polling.
    assert [pop(client, alice[1], f"{box}-b").status_code for _ in range(2)] == [200, 200]
    assert set(Worker.objects.filter(owner=alice[0]).values_list("name", flat=True)) == {f"{box}-a", f"{box}-b"}


def test_a_worker_name_counts_per_key_so_another_user_cannot_use_up_its_pops(client, demo_models, alice, bob, limits):
    limits(**{"generate-pop.worker": "POST 1/60", "generate-pop": "POST 100/60"})
    name = f"box-{uuid.uuid4().hex[:8]}"
    assert pop(client, alice[1], name).status_code == 200
    assert pop(client, alice[1], name).status_code == 429
    # Bob's pop under the same name is his own count (and then refused as another's worker, 403).
    assert pop(client, bob[1], name).status_code == 403


def test_a_refused_pop_registers_no_worker(client, demo_models, alice, limits):
    from generation.models import Worker

    limits(**{"generate-pop.worker": "POST 100/60", "generate-pop": "POST 2/60"})
    box = f"box-{uuid.uuid4().hex[:8]}"
    assert [pop(client, alice[1], f"{box}-{index}").status_code for index in range(2)] == [200, 200]
    # The key's ceiling holds over all of its workers: a third worker's first pop is refused.
    refused = pop(client, alice[1], f"{box}-2")
    assert (refused.status_code, refused.json()["rc"]) == (429, "TooManyRequests")
    assert not Worker.objects.filter(name=f"{box}-2").exists()


def test_the_per_worker_rule_is_off_with_the_other_limits(client, demo_models, alice, limits):
    limits()  # what HORDE_RATE_LIMITS_OFF leaves: no rules
    name = f"box-{uuid.uuid4().hex[:8]}"
    assert {pop(client, alice[1], name).status_code for _ in range(5)} == {200}


def anonymous_async(client, **meta):
    return client.post(
        "/api/v2/generate/async",
        data=json.dumps({"prompt": "a cat", "models": [SD]}),
        content_type="application/json",
        HTTP_APIKEY="0000000000",
        **meta,
    )


def test_without_the_proxy_setting_a_forwarded_for_header_is_ignored(client, demo_models, limits, settings):
    settings.HORDE_BEHIND_PROXY = False
    limits(**{"generate-async": "POST 1/60"})
    ip = fresh_ip()
    assert anonymous_async(client, REMOTE_ADDR=ip, HTTP_X_FORWARDED_FOR=fresh_ip()).status_code == 202
    # A new made-up address each time changes nothing: the connection's address counts.
    assert anonymous_async(client, REMOTE_ADDR=ip, HTTP_X_FORWARDED_FOR=fresh_ip()).status_code == 429


def test_behind_the_proxy_a_client_cannot_dodge_its_limit_with_a_forwarded_for_of_its_own(
    client, demo_models, limits, settings
):
    settings.HORDE_BEHIND_PROXY = True
    settings.HORDE_PROXY_HOPS = 1
    limits(**{"generate-async": "POST 1/60"})
    proxy, real = "192.168.0.2", fresh_ip()

    def call(claimed: str):
        # What the proxy passes on: the client's own header, then the address the proxy saw.
        return anonymous_async(client, REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=f"{claimed}, {real}")

    assert call(fresh_ip()).status_code == 202
    assert call(fresh_ip()).status_code == 429
    # Another real client behind the same proxy has its own count.
    assert anonymous_async(client, REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=fresh_ip()).status_code == 202


def test_behind_two_proxies_the_client_is_the_second_hop_from_the_right(rf, settings):
    settings.HORDE_BEHIND_PROXY = True
    settings.HORDE_PROXY_HOPS = 2
    chain = "6.6.6.6, 1.2.3.4, 10.0.0.5"  # claimed by the client, seen by the edge, seen by the inner proxy
    request = rf.get("/", HTTP_APIKEY="0000000000", REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR=chain)
    assert client_id(request) == "ip:1.2.3.4"
    # A header shorter than the chain did not come through it: the connection's address counts.
    short = rf.get("/", REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR="6.6.6.6")
    assert client_id(short) == "ip:10.0.0.9"


def log_in(client, username, password, **meta):
    response = client.post("/accounts/login/", {"login": username, "password": password}, **meta)
    client.logout()
    return response


def test_log_in_is_limited_per_ip_address(client, make_user, settings):
    settings.ACCOUNT_RATE_LIMITS = {"login": "3/m/ip"}
    name = f"carol{uuid.uuid4().hex[:6]}"
    make_user(name, password="a-long-enough-pass-123")
    ip = fresh_ip()
    statuses = [log_in(client, name, "a-long-enough-pass-123", REMOTE_ADDR=ip).status_code for _ in range(4)]
    assert statuses == [302, 302, 302, 429]
    # Another address may still log in.
    assert log_in(client, name, "a-long-enough-pass-123", REMOTE_ADDR=fresh_ip()).status_code == 302


def test_failed_log_ins_lock_the_account_even_for_the_right_password(client, make_user, settings):
    settings.ACCOUNT_RATE_LIMITS = {"login_failed": "3/5m/key"}
    name = f"carol{uuid.uuid4().hex[:6]}"
    make_user(name, password="a-long-enough-pass-123")
    for _ in range(3):  # a guesser from ever new addresses
        response = log_in(client, name, "a-wrong-guess-000", REMOTE_ADDR=fresh_ip())
        assert response.status_code == 200 and "_auth_user_id" not in client.session
    locked = client.post(
        "/accounts/login/", {"login": name, "password": "a-long-enough-pass-123"}, REMOTE_ADDR=fresh_ip()
    )
    assert locked.status_code == 200
    assert "Too many failed login attempts" in locked.content.decode()
    assert "_auth_user_id" not in client.session


def test_behind_the_proxy_the_log_in_limit_counts_the_address_the_proxy_saw(client, make_user, settings):
    settings.HORDE_BEHIND_PROXY = True
    settings.HORDE_PROXY_HOPS = 1
    settings.ACCOUNT_RATE_LIMITS = {"login": "2/m/ip"}
    name = f"carol{uuid.uuid4().hex[:6]}"
    make_user(name, password="a-long-enough-pass-123")
    real = fresh_ip()
    statuses = [
        log_in(
            client,
            name,
            "a-long-enough-pass-123",
            REMOTE_ADDR="192.168.0.2",
            HTTP_X_FORWARDED_FOR=f"{fresh_ip()}, {real}",
        ).status_code
        for _ in range(3)
    ]
    assert statuses == [302, 302, 429]
