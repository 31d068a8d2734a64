"""django-allauth hooks: a new user gets an API key at sign-up, shown once, and the
sign-up grant (HORDE_SIGNUP_KUDOS, through the ledger, once per user)."""

from __future__ import annotations

import contextlib
from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.http import HttpRequest

from horde_site.limits import client_ip
from kudos.services import DuplicateEvent, kudos_adjust

from .services import apikey_rotate

# The session key that carries a freshly issued plain API key to the next page
# (the profile), which pops it: the key is shown once and never stored in clear.
NEW_APIKEY_SESSION_KEY = "horde_new_apikey"


def apikey_remember_once(request: HttpRequest, key: str) -> None:
    request.session[NEW_APIKEY_SESSION_KEY] = key


def apikey_pop_once(request: HttpRequest) -> str | None:
    return request.session.pop(NEW_APIKEY_SESSION_KEY, None)


class AccountAdapter(DefaultAccountAdapter):
    def get_client_ip(self, request: HttpRequest) -> str:
        # allauth's sign-up and log-in limits count per IP: the same address the API's limits
        # use, so a client cannot dodge them with an X-Forwarded-For of its own.
        return client_ip(request) or super().get_client_ip(request)

    def save_user(self, request: HttpRequest, user: Any, form: Any, commit: bool = True) -> Any:
        user = super().save_user(request, user, form, commit=commit)
        if commit:
            # Django's login() keeps session data when it cycles the session key,
            # so the key survives the automatic log-in that follows sign-up.
            apikey_remember_once(request, apikey_rotate(user=user))
            signup_grant(user=user)
        return user


def signup_grant(*, user: Any) -> None:
    """The welcome kudos, if the site gives any: keyed by user, so a repeated save pays once."""
    amount = settings.HORDE_SIGNUP_KUDOS
    if amount <= 0:
        return
    # Already paid (a retried hook): the unique event key decided, and nothing more is posted.
    with contextlib.suppress(DuplicateEvent):
        kudos_adjust(
            user=user,
            amount=amount,
            reason="Welcome grant for a new account",
            staff_user=None,
            event_key=f"signup-grant:{user.pk}",
        )
