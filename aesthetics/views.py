"""The single-image rating page: one image, a digit for its rating, a key per artifacts level."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie

from ratings.forms import AESTHETIC_LEVELS, ARTIFACT_LEVELS

# One key per artifacts level, on the row above the home row: digits are the rating.
ARTIFACT_KEYS = ["q", "w", "e", "r", "t", "y"]


@login_required
@ensure_csrf_cookie
def rate_images(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "aesthetics/rate.html",
        {
            "reward": settings.AESTHETICS_RATING_REWARD,
            "aesthetic_levels": AESTHETIC_LEVELS,
            "artifact_levels": [
                (value, meaning, key) for (value, meaning), key in zip(ARTIFACT_LEVELS, ARTIFACT_KEYS, strict=True)
            ],
        },
    )
