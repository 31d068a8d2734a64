"""Moderation actions on accounts and workers, each recorded in the audit trail.

Every function here changes one thing and writes one AuditEntry in the same transaction, so
no action happens without its record (and no record without its action). What an action
*means* elsewhere (a suspended user's requests refused, a shadow-banned rater's votes left
out, a flagged worker's work narrowed) is enforced where that rule lives: the request
validators, ratings.selectors and the claim's SQL rules read the fields set here.

Prompt filters change here too (add, update, delete, and a refused prompt counted against
its user), each recorded; after commit the filters' cache version moves, so every process
recompiles them (moderation.prompt_check).
"""

from __future__ import annotations

from django.db import IntegrityError, models, transaction
from django.utils import timezone

from accounts.models import User
from generation.models import Worker

from .models import AuditEntry, PromptFilter
from .prompt_check import filters_changed


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
    """Votes kept, never counted (ratings.selectors.votes_counted, vote_weights); the rater sees
    nothing different: the same pairs, answers and rewards. As the AI Horde's silent bans: any
    difference (no reward, a refusal) would tell a rigger to open a fresh account. The rewards
    they keep earning are bounded by the arena's daily cap and throttle; staff suspend an
    account when the kudos are the abuse."""
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


FILTER_FIELDS = ("regex", "filter_type", "description", "replacement")


def _filter_details(prompt_filter: PromptFilter) -> dict:
    return {name: getattr(prompt_filter, name) for name in FILTER_FIELDS}


@transaction.atomic
def prompt_filter_add(
    *, by: User, regex: str, filter_type: int, description: str = "", replacement: str = ""
) -> tuple[PromptFilter, bool]:
    """Add a filter; the same regex and type again answers the existing one. (filter, created)."""
    prompt_filter, created = PromptFilter.objects.get_or_create(
        regex=regex,
        filter_type=filter_type,
        defaults={"description": description, "replacement": replacement, "user": by},
    )
    if created:
        audit_record(actor=by, action="prompt_filter_add", target=prompt_filter, details=_filter_details(prompt_filter))
        transaction.on_commit(filters_changed)
    return prompt_filter, created


@transaction.atomic
def prompt_filter_update(*, prompt_filter: PromptFilter, by: User, changes: dict) -> PromptFilter:
    """Change some of regex, filter_type, description, replacement; `by` becomes its user."""
    # From the database: the admin's form has already set the new values on `prompt_filter`.
    before = _filter_details(PromptFilter.objects.get(pk=prompt_filter.pk))
    for name, value in changes.items():
        if name not in FILTER_FIELDS:
            raise ModerationError(f"{name} is not a filter field.")
        setattr(prompt_filter, name, value)
    prompt_filter.user = by
    try:
        with transaction.atomic():
            prompt_filter.save()
    except IntegrityError:
        raise ModerationError("A filter with this regex and type exists already.") from None
    audit_record(
        actor=by,
        action="prompt_filter_update",
        target=prompt_filter,
        details={"before": before, "after": _filter_details(prompt_filter)},
    )
    transaction.on_commit(filters_changed)
    return prompt_filter


@transaction.atomic
def prompt_filter_delete(*, prompt_filter: PromptFilter, by: User) -> None:
    audit_record(actor=by, action="prompt_filter_delete", target=prompt_filter, details=_filter_details(prompt_filter))
    prompt_filter.delete()
    transaction.on_commit(filters_changed)


@transaction.atomic
def prompt_refusal_record(*, user: User, prompt: str, matches: list[str]) -> None:
    """A prompt the filters refused: one more suspicion on its user, and an entry for staff
    (no actor: the filters did it)."""
    User.objects.filter(pk=user.pk).update(prompt_suspicion=models.F("prompt_suspicion") + 1)
    audit_record(
        actor=None,
        action="prompt_refused",
        target=user,
        reason="The prompt filters refused a prompt (CorruptPrompt).",
        details={"matches": matches[:10], "prompt": prompt[:1000]},
    )
