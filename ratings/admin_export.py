"""Admin for dataset exports: staff start a run (the add view) or re-run one (an action).

Either way a DatasetExport row is created queued and the Celery task
`ratings.dataset_export_run` is sent after the transaction commits; the task
runs ratings.export.export_ratings, the same code as the `export_ratings` command.
Staff pick the format and `since`; the folder is chosen by the server.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from .export import FORMATS, dataset_export_start
from .models import DatasetExport


def enqueue_export(export: DatasetExport) -> None:
    from .tasks import dataset_export_run

    # After commit: the worker must find the row it is told about.
    transaction.on_commit(lambda: dataset_export_run.delay(export.pk))


class DatasetExportForm(forms.ModelForm):
    class Meta:
        model = DatasetExport
        fields = ["format", "since"]


@admin.register(DatasetExport)
class DatasetExportAdmin(admin.ModelAdmin):
    form = DatasetExportForm
    list_display = [
        "id",
        "format",
        "since",
        "status",
        "rows",
        "images",
        "created_at",
        "finished_at",
        "requested_by",
        "download",
    ]
    list_filter = ["status", "format"]
    readonly_fields = [
        "status",
        "out_dir",
        "rows",
        "images",
        "requested_by",
        "created_at",
        "started_at",
        "finished_at",
        "error",
    ]
    actions = ["start_again"]

    @admin.display(description="Files")
    def download(self, obj: DatasetExport) -> str:
        if obj.status != DatasetExport.Status.DONE:
            return "–"
        url = reverse("ratings:export_download", args=[obj.pk])
        return format_html('<a href="{}">Download zip</a>', url)

    def get_fields(self, request: HttpRequest, obj: DatasetExport | None = None) -> list[str]:
        if obj is None:
            return ["format", "since"]
        return ["format", "since", *self.readonly_fields]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a run is a record: start a new one instead of editing

    def save_model(self, request: HttpRequest, obj: DatasetExport, form: Any, change: bool) -> None:
        # Same service as the action: the row gets its server-chosen folder, then the task goes out.
        created = dataset_export_start(format=obj.format, since=obj.since, requested_by=request.user)
        obj.pk = created.pk
        obj.out_dir = created.out_dir
        obj.requested_by = created.requested_by
        obj.created_at = created.created_at
        enqueue_export(created)

    def response_add(self, request: HttpRequest, obj: DatasetExport, post_url_continue: str | None = None) -> Any:
        self.message_user(request, f"Export {obj.pk} queued; it writes to {obj.out_dir}.", messages.SUCCESS)
        return super().response_post_save_add(request, obj)

    @admin.action(description="Start export (a new run with the same format and since)")
    def start_again(self, request: HttpRequest, queryset: QuerySet[DatasetExport]) -> None:
        started = []
        for old in queryset.order_by("pk"):
            if old.format not in FORMATS:
                continue
            export = dataset_export_start(format=old.format, since=old.since, requested_by=request.user)
            enqueue_export(export)
            started.append(str(export.pk))
        self.message_user(request, f"Queued export(s) {', '.join(started)}.", messages.SUCCESS)
