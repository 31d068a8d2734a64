"""Users and their API keys.

Invariants:
- An API key is never stored: only its SHA-256 hash, unique across users.
  Keys are 22 random url-safe characters (128 bits), so an unsalted hash is
  safe to look up by index; the anonymous key `0000000000` is public.
- The anonymous user has id 0 (as on the AI Horde) and is created by a
  migration; it can never log in.
- A shared key is never stored either: it is a random UUID (the form the AI Horde
  and horde-sdk give a shared key), shown once to its owner; only its SHA-256 hash
  is kept. Its `kudos` is the allowance left (-1: unlimited), never below -1, and
  `utilized` what it spent, never below 0; both move only by compare-and-swap in
  accounts.services, so concurrent requests cannot overspend it.
"""

from __future__ import annotations

import uuid

from allauth.account.models import EmailAddress as AllauthEmailAddress
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q

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


class SharedKey(models.Model):
    """A key its owner hands out: it spends the owner's kudos, up to its own allowance."""

    UNLIMITED = -1

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="shared_keys")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    # Names the key on the owner's profile page (its forms): not the key, and useless as one.
    handle = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=255, blank=True)
    kudos = models.BigIntegerField(default=5000, help_text="Allowance left; -1 is unlimited.")
    utilized = models.BigIntegerField(default=0, help_text="Kudos spent through this key.")
    expiry = models.DateTimeField(null=True, blank=True, help_text="Refused from then on; empty: never.")
    max_image_pixels = models.IntegerField(default=UNLIMITED)
    max_image_steps = models.IntegerField(default=UNLIMITED)
    max_text_tokens = models.IntegerField(default=UNLIMITED)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(name="accounts_sharedkey_kudos_at_least_unlimited", condition=Q(kudos__gte=-1)),
            models.CheckConstraint(name="accounts_sharedkey_utilized_not_negative", condition=Q(utilized__gte=0)),
            models.CheckConstraint(
                name="accounts_sharedkey_limits_at_least_unlimited",
                condition=Q(max_image_pixels__gte=-1, max_image_steps__gte=-1, max_text_tokens__gte=-1),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name or 'shared key'} of {self.user.username}"


class EmailAddress(AllauthEmailAddress):
    """django-allauth's email addresses, shown in this app's admin section: staff find a
    user's log-in and email in one "accounts" place (allauth's own section is unregistered)."""

    class Meta:
        proxy = True
        verbose_name = "email address"
        verbose_name_plural = "email addresses"
