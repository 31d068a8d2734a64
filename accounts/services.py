"""Writes of users: creation, API key rotation, the NSFW preference."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from .apikeys import apikey_generate, apikey_hash
from .models import User


def apikey_rotate(*, user: User) -> str:
    """Give the user a fresh API key and return it; the old one stops working at once.

    The plain key is returned exactly once: only its hash is stored.
    """
    if user.is_anonymous_horde_user:
        raise ValueError("The anonymous user's key cannot be rotated.")
    key = apikey_generate()
    User.objects.filter(pk=user.pk).update(apikey_hash=apikey_hash(key), apikey_created_at=timezone.now())
    user.apikey_hash = apikey_hash(key)
    return key


@transaction.atomic
def user_create(
    *, username: str, email: str = "", password: str | None = None, is_staff: bool = False, trusted: bool = False
) -> User:
    user = User(username=username, email=email, is_staff=is_staff, trusted=trusted)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    return user


def nsfw_preference_set(*, user: User, show: bool) -> None:
    """The viewer's choice: images marked NSFW shown in the gallery and the arena, or not."""
    User.objects.filter(pk=user.pk).update(show_nsfw=show)
    user.show_nsfw = show
