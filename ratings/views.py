"""Pages: judging one's own pair (on its own page, or inline on the request page), and the raters' arena.

Both are blind until the vote: the images are random names, shown as "left" and
"right" in the stored (random) order, with nothing naming a pipeline or a worker.
After the vote the pair's pipelines are revealed (`pair_reveal`).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET

from generation.models import GenerationRequest, Image
from horde_site.api_input import form_number
from kudos.selectors import user_balance

from .forms import AESTHETIC_LEVELS, ARTIFACT_LEVELS, JudgeForm
from .selectors import arena_today, live_vote, own_pairs_waiting, pair_reveal
from .serializers import OwnPairRateSerializer
from .services import RatingError, judgement_from_horde, own_pair_vote
from .services.voting import own_pair_for, own_pair_shown_at

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
# The inline verdict on the request page posts here with this marker and comes back there.
FROM_REQUEST_PAGE = "request"


def _own_request(request: HttpRequest, request_id: uuid.UUID) -> GenerationRequest:
    generation_request = get_object_or_404(GenerationRequest.objects.select_related("model"), pk=request_id)
    if generation_request.user_id != request.user.pk:
        raise PermissionDenied("Only the requester may judge this pair.")
    return generation_request


def _judging_context(request: HttpRequest, generation_request: GenerationRequest, form: JudgeForm) -> dict[str, Any]:
    """What the judge page and the request page's inline verdict both show."""
    vote = live_vote(generation_request=generation_request, rater=request.user)
    pair, problem, wait_ms = None, None, 0
    try:
        pair = own_pair_for(rater=request.user, generation_request=generation_request)
    except RatingError as exc:
        problem = exc.message
    if pair and vote is None:
        # What is left of the look-first rule, as the service counts it: the countdown shows it.
        seen = (timezone.now() - own_pair_shown_at(generation_request=generation_request, pair=pair)).total_seconds()
        wait_ms = max(0, int((settings.RATINGS_MIN_SECONDS_TO_VOTE - seen) * 1000))
    next_pair = None
    if vote:
        next_pair = own_pairs_waiting(rater=request.user).exclude(pk=generation_request.pk).first()
    return {
        "generation_request": generation_request,
        "pair": pair,
        "problem": problem,
        "vote": vote,
        "reveal": pair_reveal(vote=vote) if vote else None,
        "next_pair": next_pair,
        "form": form,
        "wait_ms": wait_ms,
        "balance": user_balance(user=request.user),
        "shortcuts": SHORTCUTS,
        "aesthetic_levels": AESTHETIC_LEVELS,
        "artifact_levels": ARTIFACT_LEVELS,
    }


def _score(text: str) -> int | str | None:
    # An unset select is no score; a set one is the JSON value the API would get.
    return form_number(text) if text else None


def judge_body(form: JudgeForm, pair: tuple[Image, Image]) -> tuple[dict[str, Any], list[str]]:
    """The page's verdict as the API's body (images named by their ids, in the shown order),
    and the side each entry of `ratings` scores."""
    ratings, sides = [], []
    for side, image in zip(("left", "right"), pair, strict=True):
        rating, artifacts = (
            _score(form.cleaned_data[f"{side}_aesthetic"]),
            _score(form.cleaned_data[f"{side}_artifacts"]),
        )
        if rating is not None or artifacts is not None:
            ratings.append({"id": str(image.id), "rating": rating, "artifacts": artifacts})
            sides.append(side)
    body: dict[str, Any] = {"ratings": ratings}
    if form.cleaned_data["choice"]:
        body["choice"] = form.cleaned_data["choice"]
    return body, sides


def _put_errors(form: JudgeForm, errors: dict[str, Any], sides: list[str]) -> None:
    """The serializer's errors on the page's fields (ratings[0].rating is left_aesthetic...)."""
    for name, problems in errors.items():
        if name != "ratings" or not isinstance(problems, list) or not all(isinstance(p, dict) for p in problems):
            form.add_error(name if name in form.fields else None, [str(problem) for problem in problems])
            continue
        for side, entry in zip(sides, problems, strict=False):
            for key, entry_problems in entry.items():
                field = {"rating": f"{side}_aesthetic", "artifacts": f"{side}_artifacts"}.get(key)
                form.add_error(field, [str(problem) for problem in entry_problems])


def _vote_from_form(
    request: HttpRequest, generation_request: GenerationRequest, form: JudgeForm, pair: tuple[Image, Image]
) -> bool:
    """The page's verdict through the API's serializer and services; False with errors on the form."""
    body, sides = judge_body(form, pair)
    serializer = OwnPairRateSerializer(data=body)
    if not serializer.is_valid():
        _put_errors(form, serializer.errors, sides)
        return False
    data = serializer.validated_data
    left, right = pair
    try:
        judgement = judgement_from_horde(
            left=left, right=right, best=None, choice=data.get("choice"), ratings=data.get("ratings", [])
        )
        own_pair_vote(rater=request.user, generation_request=generation_request, judgement=judgement)
    except RatingError as exc:
        form.add_error(None, exc.message)
        return False
    return True


@login_required
def judge(request: HttpRequest, request_id: uuid.UUID) -> HttpResponse:
    generation_request = _own_request(request, request_id)
    form = JudgeForm(request.POST if request.method == "POST" else None)
    context = _judging_context(request, generation_request, form)
    if request.method == "POST":
        from_request_page = request.POST.get("from") == FROM_REQUEST_PAGE
        back = reverse("generation:request", kwargs={"request_id": generation_request.id}) + "#verdict"
        ready = context["pair"] and context["vote"] is None and form.is_valid()
        if ready and _vote_from_form(request, generation_request, form, context["pair"]):
            # Post/redirect/get: the page then shows the reward and the new balance.
            return redirect(back if from_request_page else reverse("ratings:judge", args=[generation_request.id]))
        if from_request_page:
            # Back to the request page, which says why above its verdict controls; nothing was stored.
            if context["vote"] is None:
                errors = [str(error) for error in form.non_field_errors()] or [
                    f"{name}: {error}" for name, field_errors in form.errors.items() for error in field_errors
                ]
                messages.error(request, errors[0] if errors else context["problem"] or "That verdict was not sent.")
            return redirect(back)
    return render(
        request,
        "ratings/judge.html",
        context,
        status=400 if request.method == "POST" and context["vote"] is None and form.errors else 200,
    )


@login_required
@require_GET
def judge_panel(request: HttpRequest, request_id: uuid.UUID) -> HttpResponse:
    """The verdict controls (or, once judged, the verdict, reward, reveal and next step) that the
    request page shows under its pair: the same form, keys and service as the judge page."""
    generation_request = _own_request(request, request_id)
    context = _judging_context(request, generation_request, JudgeForm())
    context["from_request_page"] = FROM_REQUEST_PAGE
    response = render(request, "ratings/_judge_panel.html", context)
    response["Cache-Control"] = "no-store"
    return response


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
            "look_ms": int(settings.RATINGS_MIN_SECONDS_TO_VOTE * 1000),
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
