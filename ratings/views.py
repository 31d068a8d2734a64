"""Pages: judging one's own pair, and the raters' arena.

Both are blind until the vote: the images are random names, shown as "left" and
"right" in the stored (random) order, with nothing naming a pipeline or a worker.
After the vote the pair's pipelines are revealed (`pair_reveal`).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.csrf import ensure_csrf_cookie

from generation.models import GenerationRequest
from kudos.selectors import user_balance

from .forms import AESTHETIC_LEVELS, ARTIFACT_LEVELS, JudgeForm
from .selectors import arena_today, live_vote, pair_reveal
from .services import Judgement, RatingError, own_pair_vote
from .services.voting import own_pair_for

SHORTCUTS = [
    ("1 or ←", "left is better"),
    ("2 or →", "right is better"),
    ("T", "tie"),
    ("B", "both bad"),
    ("A then 1…9, 0", "aesthetic of the left image (0 = 10)"),
    ("D then 1…9, 0", "aesthetic of the right image (0 = 10)"),
    ("Z then 0…5", "artifacts of the left image"),
    ("C then 0…5", "artifacts of the right image"),
    ("Esc", "cancel a half-typed score; in a score menu, leave it"),
    ("a digit in a score menu", "sets that score (aesthetic: 0 = 10), never a verdict"),
]


@login_required
def judge(request: HttpRequest, request_id: uuid.UUID) -> HttpResponse:
    generation_request = get_object_or_404(GenerationRequest.objects.select_related("model"), pk=request_id)
    if generation_request.user_id != request.user.pk:
        raise PermissionDenied("Only the requester may judge this pair.")
    vote = live_vote(generation_request=generation_request, rater=request.user)
    pair, problem = None, None
    try:
        pair = own_pair_for(rater=request.user, generation_request=generation_request)
    except RatingError as exc:
        problem = exc.message
    form = JudgeForm(request.POST or None)
    if request.method == "POST" and pair and vote is None and form.is_valid():
        try:
            own_pair_vote(
                rater=request.user, generation_request=generation_request, judgement=Judgement(**form.cleaned_data)
            )
        except RatingError as exc:
            form.add_error(None, exc.message)
        else:
            # Post/redirect/get: the page then shows the reward and the new balance.
            return redirect("ratings:judge", request_id=generation_request.id)
    return render(
        request,
        "ratings/judge.html",
        {
            "generation_request": generation_request,
            "pair": pair,
            "problem": problem,
            "vote": vote,
            "reveal": pair_reveal(vote=vote) if vote else None,
            "form": form,
            "balance": user_balance(user=request.user),
            "shortcuts": SHORTCUTS,
            "aesthetic_levels": AESTHETIC_LEVELS,
            "artifact_levels": ARTIFACT_LEVELS,
        },
        status=400 if request.method == "POST" and vote is None and form.errors else 200,
    )


@login_required
@ensure_csrf_cookie
def arena(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "ratings/arena.html",
        {
            "today": arena_today(rater=request.user),
            "balance": user_balance(user=request.user),
            "reward": settings.RATINGS_ARENA_REWARD,
            "undo_seconds": settings.RATINGS_UNDO_SECONDS,
            "shortcuts": [
                *SHORTCUTS[:4],
                ("S", "skip this pair"),
                ("U", f"undo your last vote (within {settings.RATINGS_UNDO_SECONDS} s)"),
                *SHORTCUTS[4:],
            ],
            "aesthetic_levels": AESTHETIC_LEVELS,
            "artifact_levels": ARTIFACT_LEVELS,
        },
    )
