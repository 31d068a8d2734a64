"""Reads of users."""

from __future__ import annotations

from .apikeys import apikey_hash
from .models import ANONYMOUS_USER_ID, User


def user_by_apikey(*, key: str) -> User | None:
    if len(key) > 100:
        return None
    return User.objects.filter(apikey_hash=apikey_hash(key)).first()


def user_anonymous() -> User:
    return User.objects.get(pk=ANONYMOUS_USER_ID)


def user_by_horde_name(*, name: str) -> User | None:
    """Find a user by `name#id` (the AI Horde form), by `#id`, or by plain username."""
    name = name.strip()
    if "#" in name:
        _, _, raw_id = name.rpartition("#")
        if not raw_id.isdigit():
            return None
        user = User.objects.filter(pk=int(raw_id)).first()
        username = name.rpartition("#")[0]
        if user is not None and username and user.username != username:
            return None
        return user
    return User.objects.filter(username=name).first()
