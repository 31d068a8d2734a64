"""Profile page: who you are, your kudos, and your API key (shown once)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from kudos.selectors import user_balance

from .adapter import apikey_pop_once, apikey_remember_once
from .services import apikey_rotate, nsfw_preference_set


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    user = request.user
    context = {
        "profile_user": user,
        "balance": user_balance(user=user),
        # Popped: a reload (or any later visit) no longer shows the key.
        "new_apikey": apikey_pop_once(request),
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


@login_required
@require_POST
def nsfw_preference_view(request: HttpRequest) -> HttpResponse:
    """Opt in to (or out of) NSFW images in the gallery and the arena."""
    show = request.POST.get("show_nsfw") == "1"
    nsfw_preference_set(user=request.user, show=show)
    messages.success(request, "NSFW images are now shown." if show else "NSFW images are now hidden.")
    return redirect("accounts:profile")
