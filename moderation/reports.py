"""Reports of images by users, and the moderation queue's answers to them.

A report is one row per user and image (the database's UniqueConstraint guards it whoever
writes): a second report by the same user changes nothing and says so. Resolving the open
reports of an image (hide, delete the file, dismiss) writes one AuditEntry with them.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from generation.models import Image

from .models import Report
from .services import ModerationError, _reason, audit_record


def report_create(*, image: Image, reporter: User, reason: str, note: str = "") -> tuple[Report, bool]:
    """(the report, True) when this is the user's first report of the image; (their earlier
    report, False) when they already reported it: nothing is added then."""
    if reason not in Report.Reason.values:
        raise ModerationError(f"Unknown reason {reason!r}.", rc="BadRequest")
    try:
        # A savepoint: the unique constraint, not a read-then-write, decides between two
        # concurrent first reports, and the losing insert leaves the outer transaction usable.
        with transaction.atomic():
            report = Report.objects.create(image=image, reporter=reporter, reason=reason, note=note.strip())
    except IntegrityError:
        return Report.objects.get(image=image, reporter=reporter), False
    return report, True


def reports_resolve(*, image: Image, by: User | None, status: str) -> int:
    """Close the image's open reports as `status`; how many. Call inside the action's transaction."""
    return Report.objects.filter(image=image, status=Report.Status.OPEN).update(
        status=status, resolved_at=timezone.now(), resolved_by=by
    )


@transaction.atomic
def reports_dismiss(*, image: Image, by: User | None, reason: str) -> int:
    """Nothing wrong with the image: its open reports are closed, the image stays."""
    reason = _reason(reason)
    closed = reports_resolve(image=image, by=by, status=Report.Status.DISMISSED)
    if not closed:
        raise ModerationError("This image has no open reports.", rc="NoOpenReports")
    audit_record(actor=by, action="reports_dismiss", target=image, reason=reason, details={"reports": closed})
    return closed
