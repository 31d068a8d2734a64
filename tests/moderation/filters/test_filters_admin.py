"""Prompt filters in the admin: every add, change and delete goes through the services (recorded,
the checker recompiles), and a regex that does not compile or matches everything is refused."""

from __future__ import annotations

import pytest

from moderation import prompt_check
from moderation.models import AuditEntry, PromptFilter

pytestmark = pytest.mark.django_db(transaction=True)  # the checker hears of changes after commit


@pytest.fixture
def staff_client(client, make_user):
    staff, _ = make_user("sam", is_staff=True)
    staff.is_superuser = True
    staff.save(update_fields=["is_superuser"])
    client.force_login(staff)
    return client, staff


def form(**values) -> dict:
    return {"regex": "", "filter_type": "10", "replacement": "", "description": "", **values}


def test_staff_add_change_and_delete_a_filter_in_the_admin(staff_client):
    client, staff = staff_client
    added = client.post("/admin/moderation/promptfilter/add/", form(regex=r"\bghost\b", filter_type="10"))
    assert added.status_code == 302, added.content[:2000]
    saved = PromptFilter.objects.get()
    assert saved.user == staff
    client.post("/admin/moderation/promptfilter/add/", form(regex=r"\bnude\b", filter_type="11"))
    assert prompt_check.prompt_suspicion("nude ghost")[0] == 2
    changed = client.post(f"/admin/moderation/promptfilter/{saved.pk}/change/", form(regex=r"\bspirit\b"))
    assert changed.status_code == 302
    assert prompt_check.prompt_suspicion("nude ghost")[0] == 1
    assert prompt_check.prompt_suspicion("nude spirit")[0] == 2
    deleted = client.post(f"/admin/moderation/promptfilter/{saved.pk}/delete/", {"post": "yes"})
    assert deleted.status_code == 302
    assert prompt_check.prompt_suspicion("nude spirit")[0] == 1
    actions = list(AuditEntry.objects.order_by("id").values_list("action", "actor__username"))
    assert actions == [
        ("prompt_filter_add", "sam"),
        ("prompt_filter_add", "sam"),
        ("prompt_filter_update", "sam"),
        ("prompt_filter_delete", "sam"),
    ]
    entry = AuditEntry.objects.get(action="prompt_filter_update")
    assert entry.details["before"]["regex"] == r"\bghost\b"


@pytest.mark.parametrize("regex", ["(broken", "x*", ""])
def test_the_admin_refuses_a_bad_regex(staff_client, regex):
    client, _staff = staff_client
    page = client.post("/admin/moderation/promptfilter/add/", form(regex=regex))
    assert page.status_code == 200 and b"errorlist" in page.content
    assert not PromptFilter.objects.exists()
    assert not AuditEntry.objects.exists()


def test_the_admin_refuses_a_duplicate(staff_client):
    client, _staff = staff_client
    client.post("/admin/moderation/promptfilter/add/", form(regex="twin"))
    page = client.post("/admin/moderation/promptfilter/add/", form(regex="twin"))
    assert page.status_code == 200 and b"errorlist" in page.content
    assert PromptFilter.objects.count() == 1
