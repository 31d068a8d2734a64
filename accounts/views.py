"""Profile page: who you are, your kudos, your API key (shown once) and your shared keys."""

from __future__ import annotations

import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from kudos.selectors import user_balance

from .adapter import apikey_pop_once, apikey_remember_once
from .models import SharedKey
from .selectors import shared_keys_of
from .serializers import SharedKeyInputSerializer
from .services import (
    SharedKeyRefused,
    apikey_rotate,
    nsfw_preference_set,
    shared_key_create,
    shared_key_delete,
    shared_key_max,
    shared_key_update,
)

# Carries a freshly made shared key to the next page, once (only its hash is stored).
NEW_SHAREDKEY_SESSION_KEY = "horde_new_sharedkey"
FORM_FIELDS = ("name", "kudos", "expiry")
WHOLE_NUMBER = re.compile(r"^-?[0-9]{1,12}$")


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    user = request.user
    context = {
        "profile_user": user,
        "balance": user_balance(user=user),
        # Popped: a reload (or any later visit) no longer shows the key.
        "new_apikey": apikey_pop_once(request),
        "new_sharedkey": request.session.pop(NEW_SHAREDKEY_SESSION_KEY, None),
        "shared_keys": shared_keys_of(user=user),
        "shared_key_max": shared_key_max(user=user),
    }
    response = render(request, "accounts/profile.html", context)
    # The page may carry a secret: keep it out of every cache, the browser's included.
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def apikey_rotate_view(request: HttpRequest) -> HttpResponse:
    apikey_remember_once(request, apikey_rotate(user=request.user))
    messages.success(request, "Your API key was rotated: the old key no longer works.")
    # Post/redirect/get: the profile shows the new key once; a reload shows nothing.
    return redirect("accounts:profile")


def _settings_from(request: HttpRequest) -> dict | None:
    """The form's settings through the API's own serializer (numbers typed as text become
    numbers first), or None with the first problem flashed."""
    data: dict = {}
    for name in FORM_FIELDS:
        text = request.POST.get(name, "").strip()
        if text == "" and name != "name":
            continue
        data[name] = int(text) if name != "name" and WHOLE_NUMBER.match(text) else text
    serializer = SharedKeyInputSerializer(data=data)
    if not serializer.is_valid():
        field, problems = next(iter(serializer.errors.items()))
        messages.error(request, f"{field}: {problems[0]}")
        return None
    return serializer.validated_data


def _own_key(request: HttpRequest, handle: str) -> SharedKey:
    shared_key = SharedKey.objects.filter(handle=handle, user_id=request.user.pk).first()
    if shared_key is None:
        raise Http404("No such shared key of yours.")
    return shared_key


@login_required
@require_POST
def shared_key_create_view(request: HttpRequest) -> HttpResponse:
    settings = _settings_from(request)
    if settings is not None:
        try:
            _, key = shared_key_create(user=request.user, settings=settings)
        except SharedKeyRefused as exc:
            messages.error(request, exc.message)
        else:
            request.session[NEW_SHAREDKEY_SESSION_KEY] = key
            messages.success(request, "Shared key created: copy it now, it is shown only this once.")
    return redirect("accounts:profile")


@login_required
@require_POST
def shared_key_edit_view(request: HttpRequest, handle: str) -> HttpResponse:
    shared_key = _own_key(request, handle)
    settings = _settings_from(request)
    if settings is not None:
        try:
            shared_key_update(shared_key=shared_key, changes=settings)
        except SharedKeyRefused as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Shared key {shared_key.name or '(no name)'} saved.")
    return redirect("accounts:profile")


@login_required
@require_POST
def shared_key_delete_view(request: HttpRequest, handle: str) -> HttpResponse:
    shared_key = _own_key(request, handle)
    shared_key_delete(shared_key=shared_key)
    messages.success(request, f"Shared key {shared_key.name or '(no name)'} deleted: it no longer works.")
    return redirect("accounts:profile")


@login_required
@require_POST
def nsfw_preference_view(request: HttpRequest) -> HttpResponse:
    """Opt in to (or out of) NSFW images in the gallery and the arena."""
    show = request.POST.get("show_nsfw") == "1"
    nsfw_preference_set(user=request.user, show=show)
    messages.success(request, "NSFW images are now shown." if show else "NSFW images are now hidden.")
    return redirect("accounts:profile")
