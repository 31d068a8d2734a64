"""The balance shown in every page's header."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from .selectors import user_balance


def header_balance(request: HttpRequest) -> dict[str, object]:
    """The logged-in user's balance, read (one query on the usual, cold account) only when a
    template shows it: fragments without the header, such as a polled status, pay nothing."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"header_balance": SimpleLazyObject(lambda: user_balance(user=user))}
