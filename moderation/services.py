"""Moderation actions on accounts and workers, each recorded in the audit trail.

Every function here changes one thing and writes one AuditEntry in the same transaction, so
no action happens without its record (and no record without its action). What an action
*means* elsewhere (a suspended user's requests refused, a shadow-banned rater's votes left
out, a flagged worker's work narrowed) is enforced where that rule lives: the request
validators, ratings.selectors and the claim's SQL rules read the fields set here.
"""

from __future__ import annotations

from django.db import models, transaction
from django.utils import timezone

from accounts.models import User
from generation.models import Worker

from .models import AuditEntry


class ModerationError(Exception):
    def __init__(self, message: str, rc: str = "BadRequest"):
        super().__init__(message)
        self.message, self.rc = message, rc


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ModerationError("A reason is required.", rc="MissingReason")
    return reason


def audit_record(
    *, actor: User | None, action: str, target: models.Model, reason: str = "", details: dict | None = None
) -> AuditEntry:
    """Record who did what to which object, and why. Call inside the action's transaction."""
    return AuditEntry.objects.create(
        actor=actor,
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        target_label=str(target)[:200],
        reason=reason,
        details=details or {},
    )


@transaction.atomic
def user_suspend(*, user: User, by: User | None, reason: str) -> User:
    """No new requests, votes no longer counted (kept)."""
    reason = _reason(reason)
    User.objects.filter(pk=user.pk).update(suspended_at=timezone.now(), suspension_reason=reason)
    user.refresh_from_db()
    audit_record(actor=by, action="user_suspend", target=user, reason=reason)
    return user


@transaction.atomic
def user_unsuspend(*, user: User, by: User | None, reason: str) -> User:
    reason = _reason(reason)
    User.objects.filter(pk=user.pk).update(suspended_at=None, suspension_reason="")
    user.refresh_from_db()
    audit_record(actor=by, action="user_unsuspend", target=user, reason=reason)
    return user


@transaction.atomic
def rater_shadow_ban(*, user: User, by: User | None, reason: str, banned: bool = True) -> User:
    """Votes kept, never counted; the rater sees nothing different."""
    reason = _reason(reason)
    User.objects.filter(pk=user.pk).update(shadow_banned=banned)
    user.refresh_from_db()
    audit_record(actor=by, action="rater_shadow_ban" if banned else "rater_shadow_unban", target=user, reason=reason)
    return user


@transaction.atomic
def worker_flag(*, worker: Worker, by: User | None, reason: str) -> Worker:
    """One flag: no comparison work; a second: no work at all."""
    reason = _reason(reason)
    Worker.objects.filter(pk=worker.pk).update(flags=models.F("flags") + 1)
    worker.refresh_from_db()
    audit_record(actor=by, action="worker_flag", target=worker, reason=reason, details={"flags": worker.flags})
    return worker


@transaction.atomic
def worker_unflag(*, worker: Worker, by: User | None, reason: str) -> Worker:
    reason = _reason(reason)
    Worker.objects.filter(pk=worker.pk).update(flags=0)
    worker.refresh_from_db()
    audit_record(actor=by, action="worker_unflag", target=worker, reason=reason)
    return worker
