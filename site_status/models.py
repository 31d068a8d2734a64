"""What staff say about the whole site: its modes (maintenance, worker invite-only) and news.

Invariants:
- One HordeModes row at most (pk 1, a CheckConstraint); no row reads as every mode off.
  Modes change through services.modes_set (the admin's save); every process reads the row
  itself (no cached copy), so a switch holds everywhere at once.
- Maintenance mode refuses new image requests (400 MaintenanceMode, as on the AI Horde);
  invite-only mode refuses a user's new worker past the workers staff invited them to run
  (403 WorkerInviteOnly). In maintenance, housekeeping cancels and refunds the images not
  started (generation.services.maintenance); images being made finish.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class HordeModes(models.Model):
    maintenance = models.BooleanField(
        default=False, help_text="Maintenance mode: new image requests are refused (MaintenanceMode)."
    )
    invite_only = models.BooleanField(
        default=False,
        help_text="Worker invite-only mode: a user may add a new worker only within the workers staff invited.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "site modes"
        verbose_name_plural = "site modes"
        constraints = [models.CheckConstraint(name="hordemodes_single_row", condition=Q(pk=1))]

    def __str__(self) -> str:
        on = [name for name, value in (("maintenance", self.maintenance), ("invite-only", self.invite_only)) if value]
        return "Modes: " + (", ".join(on) if on else "none on")


class WorkerInvite(models.Model):
    """How many workers a user may run while invite-only mode is on (the AI Horde's worker_invited)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="worker_invite")
    workers = models.PositiveSmallIntegerField(default=1, help_text="Workers this user may have in invite-only mode.")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.user} may run {self.workers} worker(s)"


class NewsItem(models.Model):
    class Importance(models.TextChoices):
        INFORMATION = "Information", "Information"
        WORKERS = "Workers", "Workers"
        CRISIS = "Crisis", "Crisis"

    title = models.CharField(max_length=200)
    newspiece = models.TextField(help_text="The news itself (plain text or Markdown, as clients show it).")
    importance = models.CharField(max_length=20, choices=Importance.choices, default=Importance.INFORMATION)
    tags = models.JSONField(default=list, blank=True, help_text='A list of words, e.g. ["workers", "sdxl"].')
    more_info_urls = models.JSONField(default=list, blank=True, help_text="A list of URLs.")
    date_published = models.DateField()
    published = models.BooleanField(default=True, help_text="Unpublished news is kept but not served.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date_published", "-id"]
        verbose_name_plural = "news"

    def __str__(self) -> str:
        return self.title
