"""Each moderation action changes its field and writes one audit entry, or does neither."""

from __future__ import annotations

import pytest

from generation.models import Worker
from moderation.models import AuditEntry
from moderation.services import ModerationError, rater_shadow_ban, user_suspend, user_unsuspend, worker_flag

pytestmark = pytest.mark.django_db


def test_suspend_and_unsuspend_are_recorded_with_who_and_why(make_user):
    staff, target = make_user("mod", is_staff=True)[0], make_user("target")[0]
    user_suspend(user=target, by=staff, reason="spam prompts")
    target.refresh_from_db()
    assert target.is_suspended and target.suspension_reason == "spam prompts"
    user_unsuspend(user=target, by=staff, reason="appeal accepted")
    target.refresh_from_db()
    assert not target.is_suspended
    entries = list(AuditEntry.objects.order_by("id").values_list("actor__username", "action", "target_id", "reason"))
    assert entries == [
        ("mod", "user_suspend", str(target.pk), "spam prompts"),
        ("mod", "user_unsuspend", str(target.pk), "appeal accepted"),
    ]


def test_an_action_without_a_reason_changes_nothing(make_user):
    target = make_user("target")[0]
    with pytest.raises(ModerationError):
        rater_shadow_ban(user=target, by=None, reason="   ")
    target.refresh_from_db()
    assert not target.shadow_banned
    assert not AuditEntry.objects.exists()


def test_worker_flags_count_up(make_user):
    worker = Worker.objects.create(name="w", owner=make_user("owner")[0])
    worker_flag(worker=worker, by=None, reason="flat images")
    worker_flag(worker=worker, by=None, reason="again")
    worker.refresh_from_db()
    assert worker.flags == 2
    assert list(AuditEntry.objects.order_by("id").values_list("details", flat=True)) == [{"flags": 1}, {"flags": 2}]
