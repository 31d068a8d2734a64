"""The balance shown in every page's header."""

from __future__ import annotations

from django.http import HttpRequest

from .selectors import user_balance


def header_balance(request: HttpRequest) -> dict[str, int]:
    """The logged-in user's balance (one query on the usual, cold account); nothing for visitors."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"header_balance": user_balance(user=user)}
