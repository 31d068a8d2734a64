"""Users and their API keys.

Invariants:
- An API key is never stored: only its SHA-256 hash, unique across users.
  Keys are 22 random url-safe characters (128 bits), so an unsalted hash is
  safe to look up by index; the anonymous key `0000000000` is public.
- The anonymous user has id 0 (as on the AI Horde) and is created by a
  migration; it can never log in.
"""

from __future__ import annotations

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
    # Prompts refused by the prompt filters (moderation.prompt_filters): staff look at the high ones.
    prompt_suspicion = models.PositiveIntegerField(default=0, editable=False)
    # Opted in (on the profile) to see images marked NSFW in the gallery and the arena.
    show_nsfw = models.BooleanField(default=False, help_text="Shows images marked NSFW in the gallery and arena.")

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
