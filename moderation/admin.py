"""Admin for moderation: the queue of reported images (with its actions), the reports and the
read-only audit trail, and the prompt filters. Every queue action asks for a reason and goes through a service that
records it (moderation.hiding, moderation.reports, moderation.services)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.defaultfilters import truncatechars
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from generation.models import Image

from .admin_actions import ReasonForm
from .hiding import image_file_delete, image_hide, image_unhide, private_storage
from .models import AuditEntry, PromptFilter, Report, ReportedImage
from .reports import reports_dismiss
from .selectors import moderation_queue
from .services import (
    FILTER_FIELDS,
    ModerationError,
    prompt_filter_add,
    prompt_filter_delete,
    prompt_filter_update,
    user_suspend,
    worker_flag,
)


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """The audit trail: read-only for everyone, staff included."""

    list_display = ("created_at", "actor", "action", "target_type", "target_label", "reason")
    list_filter = ("action", "target_type")
    search_fields = ("target_id", "target_label", "reason", "actor__username")
    date_hierarchy = "created_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnly:
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Report)
class ReportAdmin(ReadOnly, admin.ModelAdmin):
    """Every report as it was made; they are answered from the queue (reported images)."""

    list_display = ("created_at", "image", "reason", "reporter", "status", "resolved_by", "resolved_at")
    list_filter = ("status", "reason")
    search_fields = ("image__id", "reporter__username", "note")
    list_select_related = ("reporter", "resolved_by")


class ReportInline(ReadOnly, admin.TabularInline):
    model = Report
    fields = ("created_at", "reporter", "reason", "note", "status", "resolved_by", "resolved_at")
    readonly_fields = fields
    extra = 0
    can_delete = False


class QueueFilter(admin.SimpleListFilter):
    title = "queue"
    parameter_name = "queue"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("all", "All reported"), ("hidden", "Hidden")]

    def choices(self, changelist: Any):
        # The default (no parameter) is the open queue, so it is named here.
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": "Open reports",
        }
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "hidden":
            return queryset.filter(hidden_at__isnull=False)
        if self.value() == "all":
            return queryset
        return queryset.filter(open_reports__gt=0)


@admin.register(ReportedImage)
class ReportedImageAdmin(ReadOnly, admin.ModelAdmin):
    """The moderation queue: reported images, the most reported first."""

    list_display = (
        "thumbnail",
        "prompt",
        "requester",
        "worker_name",
        "open_reports_count",
        "all_reports_count",
        "reasons",
        "state",
        "last_reported",
    )
    list_display_links = ("prompt",)
    list_filter = (QueueFilter,)
    search_fields = ("id", "request__prompt", "request__user__username", "worker__name")
    fields = ("large", "prompt", "requester", "worker_name", "request_link", "state")
    readonly_fields = fields
    inlines = (ReportInline,)
    actions = ("hide", "delete_file", "dismiss", "suspend_requester", "flag_worker", "unhide")
    list_per_page = 50

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return moderation_queue(open_only=False).prefetch_related("reports")

    def get_ordering(self, request: HttpRequest) -> list[str]:
        return ["-open_reports", "-last_reported_at", "-id"]

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("moderation.view_reportedimage")

    def has_hide_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("moderation.hide_image")

    def has_dismiss_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("moderation.change_report")

    def has_suspend_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("moderation.suspend_user")

    def has_flag_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("moderation.flag_worker")

    # --- what the queue shows ---------------------------------------------------------------
    def _file_url(self, obj: Image) -> str:
        return reverse("admin:moderation_reportedimage_file", args=[obj.pk])

    @admin.display(description="image")
    def thumbnail(self, obj: Image) -> str:
        if obj.file_deleted_at:
            return "file deleted"
        return format_html('<img src="{}" alt="" style="max-height:72px;border-radius:4px">', self._file_url(obj))

    @admin.display(description="image")
    def large(self, obj: Image) -> str:
        if obj.file_deleted_at:
            return "file deleted"
        return format_html('<img src="{}" alt="" style="max-width:512px;width:100%">', self._file_url(obj))

    @admin.display(description="prompt")
    def prompt(self, obj: Image) -> str:
        return truncatechars(obj.request.prompt, 120)

    @admin.display(description="requester", ordering="request__user__username")
    def requester(self, obj: Image) -> str:
        return obj.request.user.username

    @admin.display(description="worker")
    def worker_name(self, obj: Image) -> str:
        return obj.worker.name if obj.worker else "–"

    @admin.display(description="request")
    def request_link(self, obj: Image) -> str:
        return format_html('<a href="{}">{}</a>', reverse("generation:request", args=[obj.request_id]), obj.request_id)

    @admin.display(description="open reports", ordering="open_reports")
    def open_reports_count(self, obj: Any) -> int:
        return obj.open_reports

    @admin.display(description="all reports", ordering="all_reports")
    def all_reports_count(self, obj: Any) -> int:
        return obj.all_reports

    @admin.display(description="reasons")
    def reasons(self, obj: Image) -> str:
        labels = dict(Report.Reason.choices)
        counts: dict[str, int] = {}
        for report in obj.reports.all():
            if report.status == Report.Status.OPEN:
                counts[report.reason] = counts.get(report.reason, 0) + 1
        return ", ".join(f"{labels[reason]} ×{n}" for reason, n in sorted(counts.items())) or "–"

    @admin.display(description="state")
    def state(self, obj: Image) -> str:
        if obj.file_deleted_at:
            return "file deleted"
        return "hidden" if obj.hidden_at else "visible"

    @admin.display(description="last reported", ordering="last_reported_at")
    def last_reported(self, obj: Any):
        return obj.last_reported_at

    # --- the staff-only file ------------------------------------------------------------------
    def get_urls(self) -> list:
        extra = [
            path(
                "<uuid:image_id>/file",
                self.admin_site.admin_view(self.file_view),
                name="moderation_reportedimage_file",
            )
        ]
        return extra + super().get_urls()

    def file_view(self, request: HttpRequest, image_id: Any) -> HttpResponse:
        """The image's file for staff, wherever it lies now (public, or private once hidden)."""
        if not request.user.is_staff:
            raise PermissionDenied
        image = get_object_or_404(Image, pk=image_id)
        storage = private_storage() if image.hidden_at else default_storage
        if image.file_deleted_at or not image.file.name or not storage.exists(image.file.name):
            raise Http404("No file.")
        response = FileResponse(storage.open(image.file.name, "rb"), content_type="image/webp")
        response["Cache-Control"] = "private, no-store"
        return response

    # --- the actions: each asks for a reason first ----------------------------------------------
    def _with_reason(
        self, request: HttpRequest, queryset: QuerySet, *, action: str, title: str, act: Callable[[Image, str], None]
    ) -> HttpResponse | None:
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            done, refused = 0, []
            for image in queryset.select_related("request__user", "worker"):
                try:
                    act(image, form.cleaned_data["reason"])
                    done += 1
                except ModerationError as exc:
                    refused.append(f"{image.pk}: {exc.message}")
            if done:
                self.message_user(request, f"{title}: {done} image(s).", messages.SUCCESS)
            for line in refused:
                self.message_user(request, line, messages.WARNING)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model._meta,
            "images": list(queryset.select_related("request__user", "worker")),
            "action": action,
            "form": form,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/moderation/reason.html", context)

    @admin.action(description="Hide the selected images (and their pairs) everywhere…", permissions=["hide"])
    def hide(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        def act(image: Image, reason: str) -> None:
            image_hide(image=image, by=request.user, reason=reason)

        return self._with_reason(request, queryset, action="hide", title="Hide images", act=act)

    @admin.action(description="Delete the selected images' files (records kept)…", permissions=["hide"])
    def delete_file(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        def act(image: Image, reason: str) -> None:
            image_file_delete(image=image, by=request.user, reason=reason)

        return self._with_reason(request, queryset, action="delete_file", title="Delete image files", act=act)

    @admin.action(description="Dismiss the selected images' open reports…", permissions=["dismiss"])
    def dismiss(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        def act(image: Image, reason: str) -> None:
            reports_dismiss(image=image, by=request.user, reason=reason)

        return self._with_reason(request, queryset, action="dismiss", title="Dismiss reports", act=act)

    @admin.action(description="Suspend the selected images' requesters…", permissions=["suspend"])
    def suspend_requester(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        def act(image: Image, reason: str) -> None:
            requester = image.request.user
            requester.refresh_from_db(fields=["suspended_at"])  # two selected images may share one
            if requester.is_suspended:
                raise ModerationError(f"{requester.username} is already suspended.", rc="AlreadySuspended")
            user_suspend(user=requester, by=request.user, reason=reason)

        return self._with_reason(request, queryset, action="suspend_requester", title="Suspend requesters", act=act)

    @admin.action(description="Flag the selected images' workers…", permissions=["flag"])
    def flag_worker(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        flagged: set = set()

        def act(image: Image, reason: str) -> None:
            if image.worker is None:
                raise ModerationError("No worker is known for this image.", rc="NoWorker")
            # One action is one flag per worker, however many of its images were selected:
            # a second flag would take all its work away.
            if image.worker_id in flagged:
                raise ModerationError(f"{image.worker.name} was flagged once for this action.", rc="AlreadyFlagged")
            worker_flag(worker=image.worker, by=request.user, reason=reason)
            flagged.add(image.worker_id)

        return self._with_reason(request, queryset, action="flag_worker", title="Flag workers", act=act)

    @admin.action(description="Unhide the selected images…", permissions=["hide"])
    def unhide(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        def act(image: Image, reason: str) -> None:
            image_unhide(image=image, by=request.user, reason=reason)

        return self._with_reason(request, queryset, action="unhide", title="Unhide images", act=act)


@admin.register(PromptFilter)
class PromptFilterAdmin(admin.ModelAdmin):
    """Prompt filters; every save and delete goes through moderation.services (recorded, and
    every process recompiles the filters)."""

    list_display = ("id", "filter_type", "regex", "replacement", "description", "user", "updated_at")
    list_filter = ("filter_type",)
    search_fields = ("regex", "description")
    fields = ("regex", "filter_type", "replacement", "description")

    def save_model(self, request, obj: PromptFilter, form, change: bool) -> None:
        data = {name: form.cleaned_data[name] for name in FILTER_FIELDS}
        if change:
            prompt_filter_update(prompt_filter=obj, by=request.user, changes=data)
        else:
            saved, _created = prompt_filter_add(by=request.user, **data)
            obj.pk = saved.pk

    def delete_model(self, request, obj: PromptFilter) -> None:
        prompt_filter_delete(prompt_filter=obj, by=request.user)

    def delete_queryset(self, request, queryset) -> None:
        for prompt_filter in queryset:
            prompt_filter_delete(prompt_filter=prompt_filter, by=request.user)
