"""The audit trail of staff and moderator actions, and users' reports of images.

Invariants:
- One report per user and image (a UniqueConstraint): a second report adds nothing.
- A report is open until a moderator resolves it (hide, delete the file, dismiss); resolving
  writes an AuditEntry in the same transaction (moderation.reports).
- Append-only: an entry is written by `audit_record` in the same transaction as the action it
  describes, and never edited or deleted (the admin shows it read-only).
- `target_type`/`target_id` name what was acted on as text, so an entry outlives its target.
- A PromptFilter's regex always compiles (validated on every write path); every change goes
  through moderation.prompt_filters, which records it and bumps the filters' cache version.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.db import models

from generation.models import Image

NOTE_MAX_LENGTH = 1000


class AuditEntry(models.Model):
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="audit_entries"
    )
    action = models.CharField(max_length=50, db_index=True)
    target_type = models.CharField(max_length=50)
    target_id = models.CharField(max_length=64)
    target_label = models.CharField(max_length=200, blank=True)
    reason = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["target_type", "target_id"])]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.action} {self.target_type}:{self.target_label or self.target_id}"


class Report(models.Model):
    class Reason(models.TextChoices):
        ILLEGAL = "illegal", "Illegal content"
        SEXUAL_NOT_NSFW = "sexual_not_nsfw", "Sexual content not marked NSFW"
        ABUSE = "abuse", "Abuse or harassment"
        OTHER = "other", "Other"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ACTIONED = "actioned", "Actioned"
        DISMISSED = "dismissed", "Dismissed"

    image = models.ForeignKey("generation.Image", on_delete=models.CASCADE, related_name="reports")
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reports_made")
    reason = models.CharField(max_length=20, choices=Reason.choices)
    note = models.TextField(blank=True, max_length=NOTE_MAX_LENGTH)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["image", "reporter"], name="report_once_per_user_and_image"),
            models.CheckConstraint(
                name="report_resolved_when_closed",
                condition=models.Q(status="open", resolved_at__isnull=True)
                | (~models.Q(status="open") & models.Q(resolved_at__isnull=False)),
            ),
        ]
        # What moderators may do to reported content and its people (granted to the Moderators group).
        permissions = [
            ("hide_image", "Can hide images and delete their files"),
            ("suspend_user", "Can suspend requesters"),
            ("flag_worker", "Can flag workers"),
        ]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} on {self.image_id}"


class ReportedImage(Image):
    """The moderation queue's view of an image (its admin lists reported images)."""

    class Meta:
        proxy = True
        verbose_name = "reported image"


def validate_filter_regex(value: str) -> None:
    """A filter's regex must compile (as the checker compiles it: case-insensitive) and must not
    match empty text (it would match every prompt)."""
    from django.core.exceptions import ValidationError

    try:
        pattern = re.compile(value, re.IGNORECASE)
    except (re.error, OverflowError, RecursionError) as exc:
        raise ValidationError(f"Invalid regular expression: {exc}", code="invalid_regex") from None
    if pattern.search("") is not None:
        raise ValidationError("The regex matches empty text, so it would match every prompt.", code="matches_all")


class PromptFilter(models.Model):
    """A staff-managed regular expression checked against every prompt (moderation.prompt_filters).

    Types (the AI Horde's numbers, 10-29): 10 and 11 are suspicion types (each type a prompt
    matches adds one; at 2 it is refused with CorruptPrompt), 20 a replacement (its matches are
    rewritten to `replacement` to rescue a suspicious prompt), 21 an NSFW term (a matching request
    is marked nsfw).
    """

    class Type(models.IntegerChoices):
        SUSPICION_A = 10, "Suspicion (10)"
        SUSPICION_B = 11, "Suspicion (11)"
        REPLACEMENT = 20, "Replacement (20)"
        NSFW = 21, "NSFW term (21)"

    regex = models.TextField(validators=[validate_filter_regex])
    filter_type = models.PositiveSmallIntegerField(choices=Type.choices, db_index=True)
    description = models.TextField(blank=True)
    replacement = models.CharField(max_length=255, blank=True)
    # Who added or last changed it (the AI Horde's `user`).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="prompt_filters"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["filter_type", "id"]
        constraints = [
            models.CheckConstraint(
                name="promptfilter_known_type", condition=models.Q(filter_type__in=[10, 11, 20, 21])
            ),
            models.UniqueConstraint(fields=["regex", "filter_type"], name="promptfilter_unique_regex_type"),
        ]

    def __str__(self) -> str:
        return f"{self.filter_type}: {self.regex[:60]}"
