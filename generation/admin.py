"""Staff tools for the generation queue: models and pipelines, workers, requests, jobs, images.

Requests, jobs and images are records of what happened (and of kudos paid):
staff can look and filter but not edit them here; state changes go through
generation.services.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from moderation.admin_actions import flag_workers, unflag_workers

from . import admin_styles  # noqa: F401  (registers the Style admin)
from .backends.recipes import RecipeError, recipe_validate
from .models import GenerationRequest, Image, ImageModel, Job, Pipeline, Team, Worker, WorkerMessage
from .selectors import staff_image_url


class StaffCanView:
    """Every staff member may look at the queue (requests, jobs, workers, images) without
    being granted model permissions one by one; changing things still needs them."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_active and request.user.is_staff


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class PipelineForm(forms.ModelForm):
    """A recipe is checked when staff save it, so a typo is a form error, not a worker that fails."""

    class Meta:
        model = Pipeline
        fields = ["model", "name", "version", "active", "description", "recipe"]

    def clean_recipe(self) -> Any:
        recipe = self.cleaned_data["recipe"]
        if recipe:  # empty: a pipeline for a backend that needs no recipe (procedural)
            try:
                recipe_validate(recipe)
            except RecipeError as exc:
                raise forms.ValidationError(str(exc)) from None
        return recipe


class PipelineInline(admin.TabularInline):
    model = Pipeline
    form = PipelineForm
    extra = 0
    fields = ["name", "version", "active", "description", "recipe"]


@admin.register(ImageModel)
class ImageModelAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "enabled",
        "queue",
        "queued_jobs",
        "active_pipelines",
        "anonymous_allowed",
        "always_shared",
        "images_per_request",
        "compare_pipelines",
    ]
    list_filter = ["enabled", "anonymous_allowed", "compare_pipelines"]
    search_fields = ["name", "queue"]
    inlines = [PipelineInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ImageModel]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                _queued=Count("requests__jobs", filter=Q(requests__jobs__status=Job.Status.QUEUED), distinct=True),
                _active=Count("pipelines", filter=Q(pipelines__active=True), distinct=True),
            )
        )

    @admin.display(description="queued jobs", ordering="_queued")
    def queued_jobs(self, obj: ImageModel) -> int:
        return obj._queued

    @admin.display(description="active pipelines", ordering="_active")
    def active_pipelines(self, obj: ImageModel) -> int:
        return obj._active


@admin.register(Pipeline)
class PipelineAdmin(admin.ModelAdmin):
    form = PipelineForm
    list_display = ["name", "version", "model", "active", "created_at"]
    list_editable = ["active"]
    list_filter = ["model", "active"]
    search_fields = ["name", "description"]
    actions = ["activate", "deactivate"]

    # A pipeline switched on joins the comparison from the next request on: nothing else to do.
    @admin.action(description="Activate the selected pipelines")
    def activate(self, request: HttpRequest, queryset: QuerySet[Pipeline]) -> None:
        count = queryset.update(active=True)
        self.message_user(request, f"{count} pipeline(s) activated.", messages.SUCCESS)

    @admin.action(description="Deactivate the selected pipelines")
    def deactivate(self, request: HttpRequest, queryset: QuerySet[Pipeline]) -> None:
        count = queryset.update(active=False)
        self.message_user(request, f"{count} pipeline(s) deactivated.", messages.SUCCESS)


@admin.register(Worker)
class WorkerAdmin(StaffCanView, admin.ModelAdmin):
    list_display = [
        "name",
        "owner",
        "kind",
        "backend",
        "last_seen",
        "jobs_done",
        "kudos_earned",
        "maintenance",
        "paused",
        "flags",
    ]
    list_editable = ["maintenance", "paused"]
    list_filter = ["kind", "maintenance", "paused", "backend", "flags", "team"]
    search_fields = ["name", "owner__username"]
    list_select_related = ["owner"]
    # Flags change only through the actions (a reason, recorded): 1 = no comparison work, 2+ = none.
    actions = [flag_workers, unflag_workers]
    readonly_fields = [
        "id",
        "flags",
        "info",
        "retired_at",
        "last_seen",
        "jobs_done",
        "kudos_earned",
        "mps_done",
        "seconds_busy",
        "created_at",
    ]
    raw_id_fields = ["owner"]


@admin.register(Team)
class TeamAdmin(StaffCanView, admin.ModelAdmin):
    list_display = ["name", "owner", "requests_fulfilled", "kudos", "created_at"]
    search_fields = ["name", "owner__username"]
    raw_id_fields = ["owner"]
    readonly_fields = ["id", "requests_fulfilled", "kudos", "uptime_seconds", "mps_done", "seconds_busy", "created_at"]


@admin.register(WorkerMessage)
class WorkerMessageAdmin(StaffCanView, admin.ModelAdmin):
    """Staff's messages to workers' owners (also POST /api/v2/workers/messages)."""

    list_display = ["worker", "origin", "created_at", "expires_at"]
    search_fields = ["worker__name", "message"]
    raw_id_fields = ["worker", "author"]
    readonly_fields = ["id", "created_at"]


class JobInline(StaffCanView, ReadOnlyInline):
    model = Job
    fields = ["index", "position", "pipeline", "status", "worker", "attempts", "kudos", "claimed_at", "finished_at"]
    readonly_fields = fields
    ordering = ["index"]


@admin.register(GenerationRequest)
class GenerationRequestAdmin(StaffCanView, admin.ModelAdmin):
    list_display = [
        "id",
        "user",
        "short_prompt",
        "model",
        "status",
        "n",
        "width",
        "height",
        "steps",
        "kudos",
        "created_at",
    ]
    list_filter = ["status", "model", "shared"]
    search_fields = ["id", "user__username", "prompt"]
    list_select_related = ["user", "model"]
    date_hierarchy = "created_at"
    inlines = [JobInline]

    @admin.display(description="Prompt", ordering="prompt")
    def short_prompt(self, obj: GenerationRequest) -> str:
        return obj.prompt if len(obj.prompt) <= 80 else obj.prompt[:79] + "…"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Job)
class JobAdmin(StaffCanView, admin.ModelAdmin):
    list_display = ["id", "request", "index", "model", "pipeline", "status", "worker", "attempts", "created_at"]
    list_filter = ["status", "model", "pipeline", "worker"]
    search_fields = ["id", "request__id", "worker__name"]
    list_select_related = ["request", "model", "pipeline", "worker"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _staff_url(image: Image) -> str:
    # A hidden image's file left public storage: staff read it through the moderation view.
    return staff_image_url(image=image) if image.hidden_at else image.file.url


@admin.register(Image)
class ImageAdmin(StaffCanView, admin.ModelAdmin):
    list_display = [
        "id",
        "preview",
        "request",
        "width",
        "height",
        "seed",
        "worker",
        "censored",
        "hidden_at",
        "created_at",
    ]
    list_filter = ["censored", ("hidden_at", admin.EmptyFieldListFilter), "request__model", "worker"]
    search_fields = ["id", "request__id", "request__prompt", "request__user__username"]
    list_select_related = ["request", "worker"]
    readonly_fields = ["preview_large"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="preview")
    def preview(self, obj: Image) -> str:
        if not obj.file:
            return "–"
        return format_html('<img src="{}" alt="" style="max-height:64px;border-radius:4px">', _staff_url(obj))

    @admin.display(description="image")
    def preview_large(self, obj: Image) -> str:
        if not obj.file:
            return "–"
        return format_html('<img src="{}" alt="" style="max-width:512px">', _staff_url(obj))
