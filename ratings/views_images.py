"""Pages of images by request: "My images" (pairs together, the ones waiting for your verdict
first) and the public gallery of shared images.

They live in ratings because "waiting for your verdict" is a question about votes. Both keep
judging blind: a comparison pair is shown only once both images are done (the one done first
came from the faster pipeline), its images in the stored shown order, and the pages list
requests, never images by the time each was made.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Case, Count, Exists, IntegerField, OuterRef, Prefetch, Q, QuerySet, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import urlencode

from generation.models import GenerationRequest, Image, ImageModel, Job

from .forms import JUDGED_FILTERS, MyImagesFilterForm
from .models import Vote

PAGE_SIZE = 12


def _with_images(requests: QuerySet[GenerationRequest]) -> QuerySet[GenerationRequest]:
    """Requests that have something to show: a plain request with an image, or a pair with both.
    Hidden images (moderation) are not shown, so a pair with one hidden is not shown at all."""
    shown_image = Q(images__job__status=Job.Status.DONE, images__hidden_at__isnull=True)
    done = Count("images", filter=shown_image, distinct=True)
    requests = requests.annotate(done_images=done, job_count=Count("jobs", distinct=True))
    shown = Q(model__compare_pipelines=False, done_images__gt=0) | Q(
        model__compare_pipelines=True, done_images=2, job_count=2
    )
    images = Image.objects.filter(job__status=Job.Status.DONE, hidden_at__isnull=True).order_by("job__position")
    return requests.filter(shown).select_related("model").prefetch_related(Prefetch("images", queryset=images))


def _page(request: HttpRequest, requests: QuerySet[GenerationRequest]):
    return Paginator(requests, PAGE_SIZE).get_page(request.GET.get("page"))


@login_required
def my_images(request: HttpRequest) -> HttpResponse:
    """The user's requests with their images, pairs together; pairs waiting for a verdict first."""
    mine = GenerationRequest.objects.filter(user_id=request.user.pk)
    live_vote = Vote.objects.filter(request=OuterRef("pk"), rater_id=request.user.pk, retracted_at__isnull=True)
    requests = _with_images(mine).annotate(
        judged=Exists(live_vote),
        waiting=Case(
            When(Q(model__compare_pipelines=True, status=GenerationRequest.Status.DONE) & ~Exists(live_vote), then=1),
            default=Value(0),
            output_field=IntegerField(),
        ),
    )
    models = ImageModel.objects.filter(requests__in=mine).distinct().order_by("name")
    model, judged = MyImagesFilterForm(request.GET).values()
    if model:
        requests = requests.filter(model__name=model)
    if judged == "waiting":
        requests = requests.filter(waiting=1)
    elif judged == "judged":
        requests = requests.filter(judged=True)
    requests = requests.order_by("-waiting", "-created_at", "-id")
    query = urlencode({name: value for name, value in (("model", model), ("judged", judged)) if value})
    return render(
        request,
        "ratings/my_images.html",
        {
            "page": _page(request, requests),
            "models": [m.name for m in models],
            "model": model,
            "judged": judged,
            "judged_filters": JUDGED_FILTERS,
            "query": query,
            "waiting_count": requests.filter(waiting=1).count() if judged != "judged" else 0,
        },
    )


def gallery(request: HttpRequest) -> HttpResponse:
    """Shared requests of everyone, newest first: public (no log-in needed). NSFW requests only
    for a signed-in viewer who opted in on their profile."""
    shared = GenerationRequest.objects.filter(shared=True, status=GenerationRequest.Status.DONE)
    shows_nsfw = request.user.is_authenticated and request.user.show_nsfw
    if not shows_nsfw:
        shared = shared.filter(nsfw=False)
    requests = _with_images(shared).select_related("user").order_by("-finished_at", "-id")
    return render(request, "ratings/gallery.html", {"page": _page(request, requests), "shows_nsfw": shows_nsfw})
