"""Users and their API keys.

Invariants:
- An API key is never stored: only its SHA-256 hash, unique across users.
  Keys are 22 random url-safe characters (128 bits), so an unsalted hash is
  safe to look up by index; the anonymous key `0000000000` is public.
- The anonymous user has id 0 (as on the AI Horde) and is created by a
  migration; it can never log in.
"""

from __future__ import annotations

from allauth.account.models import EmailAddress as AllauthEmailAddress
from django.contrib.auth.models import AbstractUser
from django.db import models

ANONYMOUS_USER_ID = 0
ANONYMOUS_APIKEY = "0000000000"


class User(AbstractUser):
    apikey_hash = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    apikey_created_at = models.DateTimeField(null=True, blank=True, editable=False)
    trusted = models.BooleanField(default=False, help_text="Trusted users' workers and votes count fully.")
    # Moderation (set only through moderation.services, which records each change).
    suspended_at = models.DateTimeField(null=True, blank=True, editable=False)
    suspension_reason = models.TextField(blank=True, editable=False)
    shadow_banned = models.BooleanField(default=False, editable=False)

    class Meta:
        db_table = "accounts_user"

    @property
    def is_anonymous_horde_user(self) -> bool:
        return self.pk == ANONYMOUS_USER_ID

    @property
    def is_suspended(self) -> bool:
        return self.suspended_at is not None

    @property
    def horde_name(self) -> str:
        """The AI Horde's `name#id` form."""
        return f"{self.username}#{self.pk}"


class EmailAddress(AllauthEmailAddress):
    """django-allauth's email addresses, shown in this app's admin section: staff find a
    user's log-in and email in one "accounts" place (allauth's own section is unregistered)."""

    class Meta:
        proxy = True
        verbose_name = "email address"
        verbose_name_plural = "email addresses"
