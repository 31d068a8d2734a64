"""DRF authentication by the AI Horde `apikey` header.

No header: the request is unauthenticated (views that need a user say so).
A header that matches no user: 401 `InvalidAPIKey`, whatever the view.
"""

from __future__ import annotations

from typing import Any

from rest_framework import authentication, exceptions
from rest_framework.request import Request

from .models import User
from .selectors import user_by_apikey


class ApiKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[User, str] | None:
        key = request.headers.get("apikey")
        if key is None or key == "":
            return None
        user = user_by_apikey(key=key)
        if user is None or not user.is_active:
            raise exceptions.AuthenticationFailed("No user matching sent API Key. Have you remembered to register?")
        return user, key

    def authenticate_header(self, request: Request) -> str:
        # Makes DRF answer 401 (not 403) when a key is missing or wrong.
        return "apikey"


def require_user(request: Any, *, allow_anonymous: bool = True, anonymous_rc: str = "AnonForbidden") -> User:
    """The user behind the request's apikey; 401 when there is none; 403 `anonymous_rc`
    for the anonymous key where it is not allowed (the AI Horde names it per endpoint)."""
    from horde_site.api_errors import HordeError

    user = request.user
    if user is None:
        raise HordeError(401, "InvalidAPIKey", "This endpoint needs an apikey header (use 0000000000 for anonymous).")
    if not allow_anonymous and user.is_anonymous_horde_user:
        raise HordeError(403, anonymous_rc, "Anonymous user is forbidden from performing this operation.")
    return user
