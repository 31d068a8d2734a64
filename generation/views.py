"""Pages of the generation app: generate, a request's live page, workers, models
(My images and the gallery are ratings.views_images: they ask which pairs wait for a verdict).

Views stay small: writes go through `generation.services` (request_submit,
request_cancel), prices through `generation.pricing`, queue figures through
`generation.selectors`. The few page-only reads (a gallery page, the worker
table) are plain queries here.

Who sees a request page: its owner always; any logged-in user when the request
is shared (the SDXL beta's are always shared: their images are public to
raters anyway). Anyone else gets a 404, so request ids don't leak. Only the
owner can cancel it or is offered the judge link. Pipeline names never appear
on the page: judging a pair must be blind.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import pricing, selectors, services
from .forms import GenerateForm, GenerateQueryForm, enabled_models, initial_from, model_limits
from .models import GenerationRequest, ImageModel, Worker
from .serializers import PriceQuerySerializer, first_error

FINAL_STATUSES = {
    GenerationRequest.Status.DONE,
    GenerationRequest.Status.FAULTED,
    GenerationRequest.Status.CANCELLED,
}
CANCELLABLE_STATUSES = {GenerationRequest.Status.WAITING, GenerationRequest.Status.PROCESSING}


@require_http_methods(["GET", "POST"])
def generate(request: HttpRequest) -> HttpResponse:
    """The generate form; anonymous visitors see it with a log-in prompt."""
    models = enabled_models()
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect(f"{reverse('account_login')}?next={reverse('generation:generate')}")
        form = GenerateForm(request.POST, models=models)
        if form.is_valid():
            try:
                result = services.request_submit(
                    user=request.user, body=form.horde_body(), client_agent="horde-web:1:/generate"
                )
            except services.GenerationError as error:
                form.add_submit_error(error.field, error.message)
            else:
                for warning in result.warnings:
                    messages.warning(request, _warning_text(warning))
                return redirect("generation:request", request_id=result.request.id)
    else:
        query = GenerateQueryForm(request.GET).values()
        initial = {"model": query["model"]} if query.get("model") else {}
        again = _own_request_or_none(request, query.get("again"))
        if again is not None:
            initial = initial_from(again)  # "same seed again": the earlier request's settings, seed included
        form = GenerateForm(initial=initial, models=models)
    context = {
        "form": form,
        "models": models,
        "limits": {model.name: model_limits(model) for model in models},
        # Someone who has not asked for anything yet sees how kudos work, open.
        "first_run": request.user.is_authenticated
        and not GenerationRequest.objects.filter(user_id=request.user.pk).exists(),
    }
    return render(request, "generation/generate.html", context)


def _own_request_or_none(request: HttpRequest, request_id: uuid.UUID | None) -> GenerationRequest | None:
    """The user's own request of that id, or None (someone else's just fills nothing in)."""
    if not request.user.is_authenticated or request_id is None:
        return None
    return GenerationRequest.objects.select_related("model").filter(pk=request_id, user_id=request.user.pk).first()


def _warning_text(warning: Any) -> str:
    if isinstance(warning, dict):
        return str(warning.get("message") or warning.get("code") or warning)
    return str(warning)


def _json_error(message: str, rc: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"message": message, "rc": rc}, status=status)


@require_GET
def generate_price(request: HttpRequest) -> JsonResponse:
    """The price of a request as the form stands: {kudos, per_image, images}."""
    query = PriceQuerySerializer(data=request.GET)
    if not query.is_valid():
        _field, message, _code = first_error(query.errors)
        return _json_error(message, "BadRequest")
    numbers = query.validated_data
    model = ImageModel.objects.filter(enabled=True, name=numbers["model"]).first()
    if model is None:
        return _json_error("Unknown or disabled model.", "ModelNotFound", 404)
    images = model.images_per_request or numbers["n"]
    size = {"width": numbers["width"], "height": numbers["height"], "steps": numbers["steps"]}
    return JsonResponse(
        {
            "model": model.name,
            "images": images,
            "per_image": pricing.job_kudos(**size),
            "kudos": pricing.request_kudos(**size, images=images),
        }
    )


def _visible_request(request: HttpRequest, request_id: uuid.UUID) -> GenerationRequest:
    """The request if this user may see it (owner, or any logged-in user when shared, and when it
    is NSFW only one who opted in on their profile, as the gallery), else 404."""
    generation = get_object_or_404(GenerationRequest.objects.select_related("model", "user"), pk=request_id)
    hidden = not generation.shared or (generation.nsfw and not request.user.show_nsfw)
    if generation.user_id != request.user.pk and hidden:
        raise Http404("No such request.")
    return generation


def _status_context(request: HttpRequest, generation: GenerationRequest) -> dict[str, Any]:
    progress = selectors.request_progress(request=generation)
    job_ids = list(generation.jobs.values_list("id", flat=True))
    total = len(job_ids)
    money = selectors.request_ledger(request=generation, job_ids=job_ids)
    is_owner = generation.user_id == request.user.pk
    is_pair = generation.model.compare_pipelines and total == 2
    # Images as URLs in the shown order (Job.position), whatever form the API answers in (r2).
    # An image a moderator hid is not shown (its file is no longer public), owner included.
    shown = list(selectors.request_images(request=generation))
    images = [
        {
            "label": ("Left", "Right")[image.job.position] if is_pair else f"Image {image.job.position + 1}",
            "img": selectors.image_url(image=image),
            "seed": image.seed,
            "id": image.id,
        }
        for image in shown
        if image.hidden_at is None
    ]
    if is_pair and len(images) < len(shown):
        images = []  # a pair goes with its hidden image, as in the gallery
    return {
        "generation": generation,
        "progress": progress,
        "done_count": progress["finished"],
        "total": total,
        "images": images,
        "hidden_count": len(shown) - len(images),
        "is_owner": is_owner,
        "final": generation.status in FINAL_STATUSES,
        # Cancelling stops what has not started; jobs already being made still finish.
        "can_cancel": is_owner and generation.status in CANCELLABLE_STATUSES,
        "can_judge": is_owner and is_pair and generation.status == GenerationRequest.Status.DONE and len(images) == 2,
        "kudos_line": kudos_line(generation=generation, money=money),
    }


def kudos_line(*, generation: GenerationRequest, money: selectors.RequestLedger) -> str:
    """What the request was really charged and refunded, from the ledger, in words:
    "Charged 20 kudos, refunded 10 (1 image cancelled)"."""
    if not money.charged:
        return "Nothing has been charged for this request."
    text = f"Charged {money.charged} kudos"
    if money.refunded:
        images = f"{money.refunded_jobs} image" + ("" if money.refunded_jobs == 1 else "s")
        why = "not made" if generation.status == GenerationRequest.Status.FAULTED else "cancelled"
        text += f", refunded {money.refunded} ({images} {why})"
    return text + "."


@login_required
def request_detail(request: HttpRequest, request_id: uuid.UUID) -> HttpResponse:
    generation = _visible_request(request, request_id)
    return render(request, "generation/request_detail.html", _status_context(request, generation))


@login_required
@require_GET
def request_status_fragment(request: HttpRequest, request_id: uuid.UUID) -> HttpResponse:
    """The part of the request page that the page's script polls and swaps in."""
    generation = _visible_request(request, request_id)
    response = render(request, "generation/_request_status.html", _status_context(request, generation))
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def request_cancel(request: HttpRequest, request_id: uuid.UUID) -> HttpResponse:
    generation = get_object_or_404(GenerationRequest, pk=request_id, user_id=request.user.pk)
    try:
        cancellation = services.request_cancel(request=generation, user=request.user)
    except services.GenerationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, cancellation.message)
    return redirect("generation:request", request_id=generation.id)


def _worker_row(worker: Worker) -> dict[str, Any]:
    info = worker.info or {}
    return {
        "worker": worker,
        "online": selectors.worker_is_online(worker=worker),
        # Megapixel-steps per second over its finished jobs: what wait estimates use.
        "speed": worker.mps_done / worker.seconds_busy if worker.seconds_busy else None,
        "device": info.get("device") or info.get("gpu") or "",
        "memory": _memory_text(info),
    }


def _memory_text(info: dict[str, Any]) -> str:
    """Memory in use as the worker's backend reports it (the procedural one says memory_used_mb)."""
    for key in ("memory", "gpu_memory", "vram"):
        if info.get(key):
            return str(info[key])
    for key in ("gpu_memory_used_mb", "memory_used_mb"):
        if isinstance(info.get(key), (int, float)):
            return f"{info[key]:,.0f} MB"
    return ""


def workers(request: HttpRequest) -> HttpResponse:
    rows = [_worker_row(worker) for worker in selectors.workers_list()]
    return render(request, "generation/workers.html", {"rows": rows})


def models_page(request: HttpRequest) -> HttpResponse:
    stats = {row["name"]: row for row in selectors.model_stats()}
    models = ImageModel.objects.filter(enabled=True).annotate(
        active_pipelines=Count("pipelines", filter=Q(pipelines__active=True))
    )
    rows = []
    for model in models:
        row = stats.get(model.name, {})
        rows.append(
            {
                "model": model,
                "queued_jobs": row.get("jobs", 0),
                "queued_mps": row.get("queued", 0),
                "workers": row.get("count", 0),
                "eta": row.get("eta"),
            }
        )
    return render(request, "generation/models.html", {"rows": rows})
