"""Taking an image down: hide it (everywhere public at once), or delete its file.

A hidden image's file is moved from the public storage (what /media/ or the public bucket
serves) to the private one, so its old URL stops working for everyone, whatever serves it;
staff still see it through the admin. The pages and the API leave hidden images out through
`Image.hidden_at`, and a hidden image takes its whole pair out of comparisons
(generation.models.hidden_pair_requests): the arena, the leaderboard, the export.

The file moves inside the action's transaction on purpose: were the move to fail after the
commit, a record saying "hidden" would leave its file public, the worse failure. A move that
fails rolls the action back; an action that fails after the move moves the file back.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.files.storage import Storage, default_storage, storages
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from generation.models import Image

from .models import Report
from .reports import reports_resolve
from .services import ModerationError, _reason, audit_record


def private_storage() -> Storage:
    return storages["private"]


def _move(name: str, *, source: Storage, target: Storage) -> bool:
    """Move one file between storages under the same name; False when the source has none."""
    if not name or not source.exists(name):
        return False
    if target.exists(name):
        target.delete(name)
    with source.open(name, "rb") as handle:
        saved = target.save(name, handle)
    if saved != name:  # a storage that renamed it would break the record's name
        target.delete(saved)
        raise ModerationError("The storage renamed the file; nothing was changed.", rc="StorageError")
    source.delete(name)
    return True


def _with_file_move(image: Image, *, source: Storage, target: Storage, act: Callable[[Image], None]) -> Image:
    """Run `act(locked image)` and move the file in one transaction; undo the move on failure.
    Call outside a transaction (a caller's later rollback could not move the file back)."""
    moved_name = ""
    try:
        with transaction.atomic():
            locked = Image.objects.select_for_update().get(pk=image.pk)
            act(locked)
            if _move(locked.file.name, source=source, target=target):
                moved_name = locked.file.name
    except BaseException:
        if moved_name:
            _move(moved_name, source=target, target=source)
        raise
    image.refresh_from_db()
    return image


def image_hide(*, image: Image, by: User | None, reason: str) -> Image:
    """Gone from the gallery, the arena, the pages and the API at once; its pair's votes leave
    the leaderboard and the export (kept); its open reports are closed as actioned."""
    reason = _reason(reason)

    def act(locked: Image) -> None:
        if locked.hidden_at is not None:
            raise ModerationError("This image is already hidden.", rc="AlreadyHidden")
        closed = reports_resolve(image=locked, by=by, status=Report.Status.ACTIONED)
        Image.objects.filter(pk=locked.pk).update(hidden_at=timezone.now())
        details = {"request": str(locked.request_id), "reports": closed}
        audit_record(actor=by, action="image_hide", target=locked, reason=reason, details=details)

    return _with_file_move(image, source=default_storage, target=private_storage(), act=act)


def image_unhide(*, image: Image, by: User | None, reason: str) -> Image:
    """Undo a hide: the file goes back to public storage (unless it was deleted)."""
    reason = _reason(reason)

    def act(locked: Image) -> None:
        if locked.hidden_at is None:
            raise ModerationError("This image is not hidden.", rc="NotHidden")
        if locked.file_deleted_at is not None:
            raise ModerationError("This image's file was deleted; it stays hidden.", rc="FileDeleted")
        Image.objects.filter(pk=locked.pk).update(hidden_at=None)
        audit_record(actor=by, action="image_unhide", target=locked, reason=reason)

    return _with_file_move(image, source=private_storage(), target=default_storage, act=act)


def image_file_delete(*, image: Image, by: User | None, reason: str) -> Image:
    """Delete the file for good and keep the record (hidden, marked `file_deleted_at`).

    The file first leaves public storage with the transaction; the private copy is deleted
    after the commit, so a failed action never loses a file its record still names."""
    reason = _reason(reason)

    def act(locked: Image) -> None:
        if locked.file_deleted_at is not None:
            raise ModerationError("This image's file is already deleted.", rc="FileDeleted")
        now = timezone.now()
        closed = reports_resolve(image=locked, by=by, status=Report.Status.ACTIONED)
        Image.objects.filter(pk=locked.pk).update(hidden_at=locked.hidden_at or now, file_deleted_at=now)
        details = {"request": str(locked.request_id), "reports": closed, "file": locked.file.name}
        audit_record(actor=by, action="image_file_delete", target=locked, reason=reason, details=details)
        name = locked.file.name
        transaction.on_commit(lambda: private_storage().delete(name) if name else None)

    return _with_file_move(image, source=default_storage, target=private_storage(), act=act)
