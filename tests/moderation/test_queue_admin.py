"""The moderation queue in the admin, through the Django test client: what it lists, each action
(with its reason, recorded once), and what a moderator may and may not do."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from accounts.models import User
from kudos.models import Entry
from moderation.models import AuditEntry, Report
from moderation.roles import GROUP_NAME, MODERATOR_PERMISSIONS
from tests.ratings.conftest import shown_pair

pytestmark = pytest.mark.django_db

QUEUE = "/admin/moderation/reportedimage/"


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def reports(image, *reporters, reason="abuse"):
    for reporter in reporters:
        Report.objects.create(image=image, reporter=reporter, reason=reason, note="see this")


def act(client, action, image, reason):
    """The admin action's two steps: the reason page, then the form posted back."""
    asked = client.post(QUEUE, {"action": action, "_selected_action": [str(image.pk)]})
    assert asked.status_code == 200 and b'name="reason"' in asked.content, asked.content[:500]
    return client.post(QUEUE, {"action": action, "_selected_action": [str(image.pk)], "apply": "1", "reason": reason})


@pytest.fixture
def reported(shared_pair, bob, charlie, make_user, alice, make_pair):
    """Two reported images: the right one of Alice's pair (two reports), one of another pair (one)."""
    right = shown_pair(shared_pair)[1]
    reports(right, bob[0], charlie[0])
    other = shown_pair(make_pair(alice[0]))[0]
    other.request.prompt = "a quiet harbour"
    other.request.save()
    reports(other, bob[0], reason="other")
    return right, other


def test_the_queue_lists_reported_images_most_reported_first_with_prompt_requester_worker(moderator, reported):
    most = reported[0]
    page = logged_in(moderator[0]).get(QUEUE)
    assert page.status_code == 200
    html = page.content.decode()
    assert html.index("a lighthouse at dusk") < html.index("a quiet harbour")
    assert "alice" in html and "gpu-box" in html
    assert "Abuse or harassment ×2" in html
    assert f"/admin/moderation/reportedimage/{most.pk}/file" in html  # the thumbnail, staff-only
    # Not reported: not in the queue.
    unreported = shown_pair(most.request)[0]
    assert f"/admin/moderation/reportedimage/{unreported.pk}/file" not in html


def test_the_queue_is_read_in_a_bounded_number_of_queries(moderator, reported, django_assert_max_num_queries):
    client = logged_in(moderator[0])
    with django_assert_max_num_queries(14):
        assert client.get(QUEUE).status_code == 200


def test_hide_through_the_admin_asks_a_reason_and_records_it(moderator, reported, bob):
    image, _ = reported
    client = logged_in(moderator[0])
    refused = act(client, "hide", image, "   ")
    assert refused.status_code == 200 and b"required" in refused.content
    image.refresh_from_db()
    assert image.hidden_at is None and not AuditEntry.objects.exists()
    done = act(client, "hide", image, "targets a real person")
    assert done.status_code == 302
    image.refresh_from_db()
    assert image.hidden_at is not None
    entry = AuditEntry.objects.get()
    assert (entry.actor, entry.action, entry.reason) == (moderator[0], "image_hide", "targets a real person")
    assert set(Report.objects.filter(image=image).values_list("status", flat=True)) == {"actioned"}
    # Gone from the open queue, still under "Hidden".
    assert f"{image.pk}/file" not in client.get(QUEUE).content.decode()
    assert f"{image.pk}/file" in client.get(QUEUE + "?queue=hidden").content.decode()
    assert logged_in(bob[0]).get(image.file.url).status_code == 404


def test_delete_file_through_the_admin_keeps_the_record(moderator, reported):
    image, _ = reported
    assert act(logged_in(moderator[0]), "delete_file", image, "illegal content").status_code == 302
    image.refresh_from_db()
    assert image.file_deleted_at is not None and image.hidden_at is not None and image.file.name
    assert AuditEntry.objects.get().action == "image_file_delete"


def test_dismiss_through_the_admin_closes_the_reports_and_keeps_the_image(moderator, reported):
    image, other = reported
    assert act(logged_in(moderator[0]), "dismiss", image, "nothing wrong").status_code == 302
    image.refresh_from_db()
    assert image.hidden_at is None
    assert set(Report.objects.filter(image=image).values_list("status", flat=True)) == {"dismissed"}
    assert Report.objects.get(image=other).status == "open"
    assert AuditEntry.objects.get().details == {"reports": 2}


def test_suspend_the_requester_through_the_admin(moderator, reported, alice):
    image, _ = reported
    assert act(logged_in(moderator[0]), "suspend_requester", image, "repeated abuse").status_code == 302
    alice[0].refresh_from_db()
    assert alice[0].is_suspended and alice[0].suspension_reason == "repeated abuse"
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.target_id, entry.actor) == ("user_suspend", str(alice[0].pk), moderator[0])


def test_flag_the_worker_through_the_admin(moderator, reported, worker):
    image, _ = reported
    assert act(logged_in(moderator[0]), "flag_worker", image, "made it knowingly").status_code == 302
    worker.refresh_from_db()
    assert worker.flags == 1
    assert AuditEntry.objects.get().action == "worker_flag"


def test_an_image_without_a_worker_cannot_be_flagged_and_nothing_is_recorded(moderator, reported, worker):
    _, other = reported  # made with no worker
    response = act(logged_in(moderator[0]), "flag_worker", other, "why not")
    assert response.status_code == 302
    worker.refresh_from_db()
    assert worker.flags == 0 and not AuditEntry.objects.exists()


def test_the_moderators_group_holds_exactly_its_permissions():
    group = Group.objects.get(name=GROUP_NAME)
    held = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}
    # The prompt filters' permissions included: migration 0004 grants them once their model exists.
    assert held == set(MODERATOR_PERMISSIONS)
    assert {"moderation.change_promptfilter", "moderation.hide_image"} <= held
    assert not any(p.startswith(("accounts.", "kudos.", "generation.", "ratings.")) for p in held)


def test_a_moderator_cannot_adjust_kudos(moderator, alice):
    client = logged_in(moderator[0])
    entries = Entry.objects.count()
    assert client.get(f"/admin/accounts/user/adjust-kudos/?ids={alice[0].pk}").status_code == 403
    posted = client.post("/admin/accounts/user/adjust-kudos/", {"ids": str(alice[0].pk), "amount": 500, "reason": "x"})
    assert posted.status_code == 403
    assert Entry.objects.count() == entries
    assert client.get("/admin/accounts/user/").status_code == 403
    assert client.get("/admin/kudos/transaction/").status_code in (302, 403)


def test_a_moderator_reads_the_audit_trail_but_cannot_change_it(moderator, reported):
    image, _ = reported
    act(logged_in(moderator[0]), "dismiss", image, "fine")
    entry = AuditEntry.objects.get()
    client = logged_in(moderator[0])
    assert client.get("/admin/moderation/auditentry/").status_code == 200
    assert client.post(f"/admin/moderation/auditentry/{entry.pk}/change/", {"reason": "edited"}).status_code == 403
    assert client.post(f"/admin/moderation/auditentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    entry.refresh_from_db()
    assert entry.reason == "fine"


def test_staff_outside_the_group_cannot_work_the_queue(make_user, reported):
    image, _ = reported
    staff = User.objects.get(pk=make_user("helpdesk", is_staff=True)[0].pk)
    client = logged_in(staff)
    assert client.get(QUEUE).status_code == 403
    client.post(QUEUE, {"action": "hide", "_selected_action": [str(image.pk)], "apply": "1", "reason": "x"})
    image.refresh_from_db()
    assert image.hidden_at is None and not AuditEntry.objects.exists()


def test_a_user_who_is_not_staff_gets_no_admin_at_all(bob, reported):
    assert logged_in(bob[0]).get(QUEUE).status_code == 302


def test_an_images_page_in_the_queue_shows_it_with_its_reports_read_only(moderator, reported):
    image, _ = reported
    client = logged_in(moderator[0])
    page = client.get(f"{QUEUE}{image.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "a lighthouse at dusk" in html and "see this" in html and "bob" in html and "charlie" in html
    assert f"/admin/moderation/reportedimage/{image.pk}/file" in html
    assert 'name="_save"' not in html  # nothing to edit
    found = client.get(QUEUE, {"q": "lighthouse"}).content.decode()
    assert f"{image.pk}/file" in found
    assert f"{image.pk}/file" not in client.get(QUEUE, {"q": "harbour"}).content.decode()


def test_one_action_on_two_images_of_one_worker_and_requester_flags_and_suspends_once(
    moderator, shared_pair, bob, worker, alice
):
    left, right = shown_pair(shared_pair)
    reports(left, bob[0])
    reports(right, bob[0])
    client = logged_in(moderator[0])
    for action in ("flag_worker", "suspend_requester"):
        ids = [str(left.pk), str(right.pk)]
        client.post(QUEUE, {"action": action, "_selected_action": ids, "apply": "1", "reason": "both bad"})
    worker.refresh_from_db()
    alice[0].refresh_from_db()
    assert worker.flags == 1 and alice[0].is_suspended
    assert sorted(AuditEntry.objects.values_list("action", flat=True)) == ["user_suspend", "worker_flag"]
