"""Worker registration and heartbeats (HTTP volunteers and Celery GPU workers)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from accounts.models import User
from generation.models import Worker, WorkerMessage
from site_status.selectors import modes_current, worker_invites

from .errors import WorkerActionRefused

# A pop refreshes last_seen at most this often: one UPDATE per pop would be the
# hottest write of the whole API for no gain.
SEEN_EVERY = timedelta(seconds=10)


def worker_register_http(
    *,
    owner: User,
    name: str,
    models: list[str],
    max_pixels: int,
    nsfw: bool,
    bridge_agent: str = "",
    threads: int = 1,
) -> Worker:
    """The worker behind a pop: created on first pop, owned by the apikey's user.

    A name belongs to its first owner: someone else's pop under that name is 403.
    """
    name = name.strip()
    now = timezone.now()
    models = sorted(set(models))
    # Whether staff left it a message still running, in the same query (the pop shows them).
    unread = WorkerMessage.objects.filter(worker=OuterRef("pk"), expires_at__gt=now)
    worker = Worker.objects.filter(name=name, retired_at__isnull=True).annotate(has_messages=Exists(unread)).first()
    if worker is None:
        _invite_only_check(owner=owner)
        try:
            with transaction.atomic():
                return Worker.objects.create(
                    name=name,
                    owner=owner,
                    kind=Worker.Kind.HTTP,
                    model_names=models,
                    max_pixels=max_pixels,
                    nsfw=nsfw,
                    info={"bridge_agent": bridge_agent[:200], "threads": threads},
                    last_seen=now,
                )
        except IntegrityError:  # registered by a concurrent pop
            worker = Worker.objects.get(name=name, retired_at__isnull=True)
    if worker.owner_id != owner.pk:
        raise WorkerActionRefused(403, "WrongCredentials", f"The worker name {name!r} belongs to another user.", "name")
    worker.owner = owner  # the apikey's user, already loaded: no join needed
    changes: dict[str, Any] = {}
    if worker.model_names != models:
        changes["model_names"] = models
    if worker.max_pixels != max_pixels:
        changes["max_pixels"] = max_pixels
    if worker.nsfw != nsfw:
        changes["nsfw"] = nsfw
    info = {**(worker.info or {}), "bridge_agent": bridge_agent[:200], "threads": threads}
    if info != worker.info:
        changes["info"] = info
    if changes or worker.last_seen is None or now - worker.last_seen > SEEN_EVERY:
        changes["last_seen"] = now
        Worker.objects.filter(pk=worker.pk).update(**changes)
        for key, value in changes.items():
            setattr(worker, key, value)
    return worker


def _invite_only_check(*, owner: User) -> None:
    """In worker invite-only mode a user adds a new worker only within the workers staff
    invited them to run (the AI Horde's WorkerInviteOnly). Two first pops of different new
    names at once may both pass: the mode slows new workers down, it is no hard quota."""
    if not modes_current().invite_only:
        return
    count = Worker.objects.filter(owner=owner).count()
    if count >= worker_invites(user=owner):
        already = f" and you already have {count} worker(s)" if count else ""
        raise WorkerActionRefused(
            403,
            "WorkerInviteOnly",
            f"Horde is in worker invite-only mode{already}: ask staff to invite your new worker.",
            "name",
        )


def worker_register_celery(
    *, owner: User, name: str, models: list[str], backend: str, max_pixels: int, info: dict[str, Any]
) -> Worker:
    """A `gpu_worker` process registers (or re-registers, after a restart) under its name."""
    with transaction.atomic():
        worker = Worker.objects.select_for_update().filter(name=name, retired_at__isnull=True).first()
        if worker is not None and worker.owner_id != owner.pk:
            raise WorkerActionRefused(
                403, "WrongCredentials", f"The worker name {name!r} belongs to another user.", "name"
            )
        values = {
            "owner": owner,
            "kind": Worker.Kind.CELERY,
            "model_names": sorted(set(models)),
            "backend": backend,
            "max_pixels": max_pixels,
            "info": info,
            "last_seen": timezone.now(),
            # Not "paused": a staff pause (or an owner's maintenance) outlives a restart.
        }
        if worker is None:
            return Worker.objects.create(name=name, **values)
        for key, value in values.items():
            setattr(worker, key, value)
        worker.save()
        return worker


def worker_models_set(*, worker: Worker, models: list[str]) -> Worker:
    """A demand-following worker switched models: claims and capacity figures follow at once."""
    models = sorted(set(models))
    Worker.objects.filter(pk=worker.pk).update(model_names=models, last_seen=timezone.now())
    # The running GPU tasks read this object's list (generation.tasks.job_run): one assignment.
    worker.model_names = models
    return worker


def worker_heartbeat(*, worker: Worker, info: dict[str, Any] | None = None) -> None:
    changes: dict[str, Any] = {"last_seen": timezone.now()}
    if info is not None:
        changes["info"] = {**(worker.info or {}), **info}
    Worker.objects.filter(pk=worker.pk).update(**changes)
