"""What staff's moderation does: a suspended user makes no new requests (API and pages), a
flagged worker gets no comparison work and, flagged twice, no work at all; staff do it all
from the admin, each action asking for a reason and recorded."""

from __future__ import annotations

import pytest

from generation.models import GenerationRequest, Worker
from generation.services import claim, jobs_claim, jobs_skipped, request_submit
from moderation.models import AuditEntry
from moderation.services import user_suspend, worker_flag
from tests.generation.conftest import SD, SDXL, body

pytestmark = pytest.mark.django_db
BIG = 4096 * 4096
PAIR = {"models": [SDXL], "params": {"width": 1024, "height": 1024}}


@pytest.fixture(autouse=True)
def _no_celery(settings):
    settings.HORDE_CELERY_DISPATCH = False


@pytest.fixture(params=["skip-locked", "compare-and-swap"])
def strategy(request, monkeypatch):
    monkeypatch.setattr(claim, "_use_skip_locked", lambda: request.param == "skip-locked")
    return request.param


def test_a_suspended_user_is_refused_new_requests_through_the_api(demo_models, alice, call):
    user_suspend(user=alice[0], by=None, reason="abuse")
    response = call("post", "/api/v2/generate/async", alice[1], body())
    assert response.status_code == 403
    assert response.json()["rc"] == "SourceAccountFlagged"
    assert not GenerationRequest.objects.exists()


def test_a_suspended_user_sees_why_on_the_pages(demo_models, client, make_user):
    user, _key = make_user("dora", kudos=100, password="pw-123456789")
    user_suspend(user=user, by=None, reason="abuse")
    client.force_login(user)
    assert 'data-testid="suspended"' in client.get("/generate").content.decode()
    page = client.post("/generate", {"model": SD, "prompt": "a fox", "width": 512, "height": 512, "steps": 20})
    assert page.status_code == 200
    assert "Your account is suspended" in page.content.decode()
    assert not GenerationRequest.objects.exists()
    assert "Your account is suspended" in client.get("/profile/").content.decode()


def test_a_flagged_worker_gets_plain_work_but_no_comparison(demo_models, alice, bob, make_worker, strategy):
    bob[0].trusted = True
    bob[0].save(update_fields=["trusted"])
    worker = Worker.objects.select_related("owner").get(pk=make_worker(bob[0], name="bob-http").pk)
    request_submit(user=alice[0], body=body(**PAIR))
    plain = request_submit(user=alice[0], body=body()).request
    worker = worker_flag(worker=worker, by=None, reason="flat images")
    assert jobs_skipped(worker=worker, models=[SD, SDXL], max_pixels=BIG) == {"untrusted": 2}
    taken = jobs_claim(worker=worker, models=[SD, SDXL], max_pixels=BIG, amount=5)
    assert [job.request_id for job in taken] == [plain.pk]


def test_a_worker_flagged_twice_gets_no_work_at_all(demo_models, alice, bob, make_worker, strategy):
    worker = make_worker(bob[0], name="bob-http")
    request_submit(user=alice[0], body=body())
    worker_flag(worker=worker, by=None, reason="one")
    worker = Worker.objects.select_related("owner").get(pk=worker_flag(worker=worker, by=None, reason="two").pk)
    assert worker.flags == 2
    assert jobs_claim(worker=worker, models=[SD], max_pixels=BIG, amount=1) == []
    assert jobs_skipped(worker=worker, models=[SD], max_pixels=BIG) == {"untrusted": 1}


def test_a_flag_holds_for_a_worker_object_loaded_before_it(demo_models, alice, bob, make_worker):
    # A Celery GPU worker loads its Worker once at start: the claim reads the flags from the row.
    bob[0].trusted = True
    bob[0].save(update_fields=["trusted"])
    loaded = Worker.objects.select_related("owner").get(pk=make_worker(bob[0], name="bob-http").pk)
    request_submit(user=alice[0], body=body(**PAIR))
    worker_flag(worker=Worker.objects.get(pk=loaded.pk), by=None, reason="flat images")
    assert loaded.flags == 0  # the stale object
    assert jobs_claim(worker=loaded, models=[SDXL], max_pixels=BIG, amount=2) == []
    worker_flag(worker=Worker.objects.get(pk=loaded.pk), by=None, reason="again")
    plain = request_submit(user=alice[0], body=body()).request
    assert jobs_claim(worker=loaded, models=[SD], max_pixels=BIG, amount=1) == []
    assert plain.jobs.filter(status="queued").count() == 1


def test_the_pop_of_a_flagged_worker_says_untrusted(demo_models, alice, bob, call):
    request_submit(user=alice[0], body=body())
    pop = {"name": "bob-http", "models": [SD], "max_pixels": BIG}
    assert call("post", "/api/v2/generate/pop", bob[1], pop).json()["id"] is not None
    request_submit(user=alice[0], body=body())
    worker = Worker.objects.get(name="bob-http")
    worker_flag(worker=worker, by=None, reason="one")
    worker_flag(worker=worker, by=None, reason="two")
    answer = call("post", "/api/v2/generate/pop", bob[1], pop).json()
    assert answer["id"] is None and answer["skipped"] == {"untrusted": 1}


# --- the admin -----------------------------------------------------------------------------


@pytest.fixture
def staff_client(client, make_user):
    staff, _ = make_user("sam", is_staff=True, password="pw-123456789")
    staff.is_superuser = True
    staff.save(update_fields=["is_superuser"])
    client.force_login(staff)
    return client, staff


def run_action(client, url: str, action: str, ids: list, reason: str | None):
    first = client.post(url, {"action": action, "_selected_action": [str(pk) for pk in ids]})
    assert first.status_code == 200 and b'name="reason"' in first.content  # the intermediate page
    if reason is None:
        return first
    data = {"action": action, "_selected_action": [str(pk) for pk in ids], "apply": "1", "reason": reason}
    return client.post(url, data)


def test_staff_suspend_and_shadow_ban_users_from_the_admin_with_a_reason(staff_client, alice, bob):
    client, staff = staff_client
    url = "/admin/accounts/user/"
    done = run_action(client, url, "suspend_users", [alice[0].pk, bob[0].pk], "spam")
    assert done.status_code == 302
    alice[0].refresh_from_db()
    bob[0].refresh_from_db()
    assert alice[0].is_suspended and bob[0].is_suspended and alice[0].suspension_reason == "spam"
    assert AuditEntry.objects.filter(action="user_suspend", actor=staff, reason="spam").count() == 2
    run_action(client, url, "shadow_ban_raters", [alice[0].pk], "rigging")
    run_action(client, url, "unsuspend_users", [alice[0].pk], "appeal")
    alice[0].refresh_from_db()
    assert alice[0].shadow_banned and not alice[0].is_suspended
    run_action(client, url, "lift_shadow_bans", [alice[0].pk], "cleared")
    alice[0].refresh_from_db()
    assert not alice[0].shadow_banned
    assert list(
        AuditEntry.objects.filter(target_id=str(alice[0].pk)).order_by("id").values_list("action", flat=True)
    ) == [
        "user_suspend",
        "rater_shadow_ban",
        "user_unsuspend",
        "rater_shadow_unban",
    ]


def test_an_admin_action_without_a_reason_changes_nothing(staff_client, alice):
    client, _staff = staff_client
    page = run_action(client, "/admin/accounts/user/", "suspend_users", [alice[0].pk], "   ")
    assert page.status_code == 200 and b"errorlist" in page.content
    alice[0].refresh_from_db()
    assert not alice[0].is_suspended
    assert not AuditEntry.objects.exists()


def test_staff_flag_and_unflag_workers_from_the_admin(staff_client, bob, make_worker):
    client, staff = staff_client
    worker = make_worker(bob[0], name="bob-http")
    url = "/admin/generation/worker/"
    run_action(client, url, "flag_workers", [worker.pk], "flat images")
    run_action(client, url, "flag_workers", [worker.pk], "again")
    worker.refresh_from_db()
    assert worker.flags == 2
    run_action(client, url, "unflag_workers", [worker.pk], "fixed")
    worker.refresh_from_db()
    assert worker.flags == 0
    assert AuditEntry.objects.filter(actor=staff, target_id=str(worker.pk)).count() == 3
