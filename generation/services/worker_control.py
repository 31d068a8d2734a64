"""Owners and staff control workers: maintenance, pause, info, name, team; retiring; messages.

The AI Horde's rules (PUT/DELETE /v2/workers/{id}, /v2/workers/messages):
- maintenance, info, name and team: the worker's owner or staff; paused: staff only.
- Every permission is checked before anything changes, so a refused PUT changes nothing.
- A worker in maintenance, paused or retired gets no jobs: the claim reads its row
  (generation.services.claim `_SQL_RULES["worker_state"]`), and `gpu_worker` stops
  consuming its queues while it is so.
- Retiring keeps the row (its images stay attributed) and requeues its claims at once,
  without counting a fault: nothing it held is lost, and nobody waits for a time-to-live.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from generation.models import Job, Team, Worker, WorkerMessage

from .errors import ControlRefused
from .fail import job_release

# The AI Horde's longest message life: 30 days, in hours.
MESSAGE_MAX_HOURS = 30 * 24


def _may_control(*, user: User, owner_id: Any) -> bool:
    return user.is_staff or user.pk == owner_id


def _refuse_anonymous(user: User) -> None:
    if user.is_anonymous_horde_user:
        raise ControlRefused(403, "AnonForbiddenWorker", "Anonymous user is forbidden from performing this operation.")


@dataclass(frozen=True)
class WorkerChange:
    """What a PUT asked for: None leaves a field as it is; team "" leaves the team."""

    maintenance: bool | None = None
    maintenance_msg: str | None = None
    paused: bool | None = None
    info: str | None = None
    name: str | None = None
    team: str | None = None


def worker_modify(*, worker: Worker, user: User, change: WorkerChange) -> dict[str, Any]:
    """Apply a PUT /v2/workers/{id}; returns the AI Horde's ModifyWorker answer (the fields set)."""
    owner_or_staff = _may_control(user=user, owner_id=worker.owner_id)
    asked = [field for field in ("maintenance", "info", "paused", "name", "team") if getattr(change, field) is not None]
    if not asked:
        raise ControlRefused(400, "NoWorkerModSelected", "No worker modification selected!")
    if (change.maintenance is not None or change.info is not None) and not owner_or_staff:
        raise ControlRefused(403, "NotOwner", f"Only the owner of {worker.name!r} or staff may change it.")
    if change.paused is not None and not user.is_staff:
        raise ControlRefused(403, "NotModerator", "Only staff may pause a worker.")
    if (change.name is not None or change.team is not None) and not owner_or_staff:
        raise ControlRefused(403, "NotModerator", f"Only the owner of {worker.name!r} or staff may change it.")
    if change.info is not None or change.name is not None or change.team is not None:
        _refuse_anonymous(user)
    team = None
    if change.team:
        team = team_by_id(team_id=change.team)
        if team is None:
            raise ControlRefused(404, "TeamNotFound", f"Team {change.team[:64]!r} not found.")
    fields: dict[str, Any] = {}
    answer: dict[str, Any] = {}
    if change.maintenance is not None:
        fields["maintenance"] = change.maintenance
        # A message is for this stretch of maintenance only: switching it off clears it.
        fields["maintenance_msg"] = (change.maintenance_msg or "") if change.maintenance else ""
        answer["maintenance"] = change.maintenance
    if change.info is not None:
        fields["note"] = change.info
        answer["info"] = change.info
    if change.paused is not None:
        fields["paused"] = change.paused
        answer["paused"] = change.paused
    if change.name is not None:
        fields["name"] = change.name
        answer["name"] = change.name
    if change.team is not None:
        fields["team"] = team
        answer["team"] = team.name if team else "None"
    try:
        with transaction.atomic():
            updated = Worker.objects.filter(pk=worker.pk, retired_at__isnull=True).update(**fields)
    except IntegrityError:  # the live-name constraint: another worker has it
        raise ControlRefused(
            400, "WorkerNameAlreadyExists", f"A worker named {change.name!r} already exists."
        ) from None
    if updated != 1:
        raise ControlRefused(404, "WorkerNotFound", "Worker not found.")
    for key, value in fields.items():
        setattr(worker, key, value)
    return answer


def worker_retire(*, worker: Worker, user: User) -> dict[str, str]:
    """DELETE /v2/workers/{id}: out of every list and claim; its claims requeued at once.

    Returns the AI Horde's DeletedWorker answer."""
    if not _may_control(user=user, owner_id=worker.owner_id):
        raise ControlRefused(403, "NotModerator", f"Only the owner of {worker.name!r} or staff may delete it.")
    _refuse_anonymous(user)
    # Compare-and-swap: of two deletes at once, one retires it (the other finds it gone).
    if not Worker.objects.filter(pk=worker.pk, retired_at__isnull=True).update(retired_at=timezone.now()):
        raise ControlRefused(404, "WorkerNotFound", "Worker not found.")
    # Once the retirement is committed the worker can claim nothing more, and every claim it
    # made is visible: the claim holds its worker row FOR SHARE, which the UPDATE above waited for.
    for job in Job.objects.filter(worker=worker, status=Job.Status.CLAIMED):
        job_release(job=job, worker=worker)
    return {"deleted_id": str(worker.pk), "deleted_name": worker.name}


# --- Teams ---------------------------------------------------------------------------------
def team_by_id(*, team_id: Any) -> Team | None:
    try:
        pk = uuid.UUID(str(team_id))
    except (ValueError, TypeError):
        return None
    return Team.objects.select_related("owner").filter(pk=pk).first()


def _team_name_taken(name: str, *, other_than: Team | None = None) -> bool:
    found = Team.objects.filter(name__iexact=name)
    if other_than is not None:
        found = found.exclude(pk=other_than.pk)
    return found.exists()


def team_create(*, user: User, name: str, info: str | None) -> Team:
    """POST /v2/teams: trusted users only, as on the AI Horde; names unique in any case."""
    if user.is_anonymous_horde_user:
        raise ControlRefused(403, "AnonForbidden", "Anonymous user is forbidden from performing this operation.")
    if not (user.trusted or user.is_staff):
        raise ControlRefused(403, "UntrustedTeamCreation", "Only trusted users may create teams.")
    if _team_name_taken(name):
        raise ControlRefused(400, "TeamNameAlreadyExists", f"A team named {name!r} already exists.")
    try:
        with transaction.atomic():
            return Team.objects.create(name=name, info=info or "", owner=user)
    except IntegrityError:  # created by a concurrent call
        raise ControlRefused(400, "TeamNameAlreadyExists", f"A team named {name!r} already exists.") from None


def team_modify(*, team: Team, user: User, name: str | None, info: str | None) -> Team:
    """PATCH /v2/teams/{id}: its creator or staff."""
    if name is None and info is None:
        raise ControlRefused(400, "NoTeamModSelected", "No team modification selected!")
    if not _may_control(user=user, owner_id=team.owner_id):
        rc = "NotOwner" if name is None else "NotModerator"
        raise ControlRefused(403, rc, f"Only the creator of {team.name!r} or staff may change it.")
    if name is not None and _team_name_taken(name, other_than=team):
        raise ControlRefused(400, "TeamNameAlreadyExists", f"A team named {name!r} already exists.")
    fields = {key: value for key, value in (("name", name), ("info", info)) if value is not None}
    try:
        with transaction.atomic():
            Team.objects.filter(pk=team.pk).update(**fields)
    except IntegrityError:
        raise ControlRefused(400, "TeamNameAlreadyExists", f"A team named {name!r} already exists.") from None
    for key, value in fields.items():
        setattr(team, key, value)
    return team


def team_delete(*, team: Team, user: User) -> dict[str, str]:
    """DELETE /v2/teams/{id}: its creator or staff; its workers stay, teamless."""
    if not _may_control(user=user, owner_id=team.owner_id):
        raise ControlRefused(403, "NotModerator", f"Only the creator of {team.name!r} or staff may delete it.")
    answer = {"deleted_id": str(team.pk), "deleted_name": team.name}
    team.delete()
    return answer


# --- Worker messages -------------------------------------------------------------------------
def worker_message_create(
    *, user: User, worker: Worker, message: str, expiry_hours: int, origin: str | None
) -> WorkerMessage:
    """POST /v2/workers/messages: staff tell a worker's owner something, for `expiry_hours`."""
    if user.is_anonymous_horde_user:
        raise ControlRefused(403, "AnonForbidden", "Anonymous user is forbidden from performing this operation.")
    if not user.is_staff:
        raise ControlRefused(403, "NotModerator", "Only staff may send worker messages.")
    return WorkerMessage.objects.create(
        worker=worker,
        author=user,
        message=message,
        origin=origin if origin is not None else "moderator",
        expires_at=timezone.now() + timedelta(hours=expiry_hours),
    )


def worker_message_delete(*, message: WorkerMessage, user: User) -> None:
    """DELETE /v2/workers/messages/{id}: its author or staff."""
    if not (user.is_staff or message.author_id == user.pk):
        raise ControlRefused(403, "Forbidden", "You can only delete your own messages.")
    WorkerMessage.objects.filter(pk=message.pk).delete()
