"""Who may moderate: staff, and members of the Moderators group."""

from __future__ import annotations

from accounts.models import User

MODERATORS_GROUP = "Moderators"


def is_moderator(user: User) -> bool:
    """Staff (or superusers) and members of the Moderators group; never the anonymous user."""
    if not user.is_active or user.is_anonymous_horde_user:
        return False
    return user.is_staff or user.is_superuser or user.groups.filter(name=MODERATORS_GROUP).exists()
