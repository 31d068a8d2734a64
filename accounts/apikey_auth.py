"""DRF authentication by the AI Horde `apikey` header: the one place keys are resolved.

No header: the request is unauthenticated (views that need a user say so).
A user's key: that user, `request.auth` the key. A shared key (a UUID): its owner,
`request.auth` the SharedKey; only views that take one say so (`require_user(...,
allow_shared_key=True)`: generating and find_user, as on the AI Horde), every other
one answers 401 `InvalidAPIKey` as if no user had that key, which is what the AI Horde
answers there. A header that matches nothing: 401 `InvalidAPIKey`, whatever the view.
"""

from __future__ import annotations

from typing import Any

from rest_framework import authentication, exceptions
from rest_framework.request import Request

from .models import SharedKey, User
from .selectors import shared_key_by_key, user_by_apikey

NO_USER = "No user matching sent API Key. Have you remembered to register?"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[User, str | SharedKey] | None:
        key = request.headers.get("apikey")
        if key is None or key == "":
            return None
        user = user_by_apikey(key=key)
        if user is not None and user.is_active:
            return user, key
        shared_key = shared_key_by_key(key=key) if user is None else None
        if shared_key is not None and shared_key.user.is_active:
            return shared_key.user, shared_key
        raise exceptions.AuthenticationFailed(NO_USER)

    def authenticate_header(self, request: Request) -> str:
        # Makes DRF answer 401 (not 403) when a key is missing or wrong.
        return "apikey"


def shared_key_of(request: Any) -> SharedKey | None:
    """The shared key the request came with, if it came with one."""
    auth = getattr(request, "auth", None)
    return auth if isinstance(auth, SharedKey) else None


def require_user(
    request: Any,
    *,
    allow_anonymous: bool = True,
    anonymous_rc: str = "AnonForbidden",
    allow_shared_key: bool = False,
) -> User:
    """The user behind the request's apikey; 401 when there is none; 403 `anonymous_rc`
    for the anonymous key where it is not allowed (the AI Horde names it per endpoint).
    A shared key stands for its owner only where `allow_shared_key` says so."""
    from horde_site.api_errors import HordeError

    user = request.user
    if user is None:
        raise HordeError(401, "InvalidAPIKey", "This endpoint needs an apikey header (use 0000000000 for anonymous).")
    if not allow_shared_key and shared_key_of(request) is not None:
        raise HordeError(401, "InvalidAPIKey", f"{NO_USER} (A shared key cannot do this: use your own API key.)")
    if not allow_anonymous and user.is_anonymous_horde_user:
        raise HordeError(403, anonymous_rc, "Anonymous user is forbidden from performing this operation.")
    return user
