"""Admin of image sets: import an uploaded set, export the per-image dataset, read ratings.

Both long runs go to Celery after the transaction commits (aesthetics.tasks), running
the same code as the `import_rating_set` and `export_image_ratings` commands. Staff
never name a server path: uploads and exports get folders chosen by the server.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone

from ratings.export import export_root

from .models import ImageRating, RatingSet, SetImage


def uploads_root() -> Path:
    return Path(settings.VAR_DIR) / "rating-set-uploads"


class ImportForm(forms.Form):
    name = forms.SlugField(max_length=100, help_text="The set to create, or to add to (a re-run resumes).")
    description = forms.CharField(required=False)
    file = forms.FileField(
        help_text="A .zip of images (with an optional prompts CSV/Parquet) or a .parquet of image bytes."
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if Path(upload.name).suffix.lower() not in (".zip", ".parquet"):
            raise forms.ValidationError("Upload a .zip of images or a .parquet file.")
        return upload


@admin.register(RatingSet)
class RatingSetAdmin(admin.ModelAdmin):
    list_display = ["name", "active", "image_count", "created_at"]
    list_editable = ["active"]
    actions = ["export_parquet", "export_jsonl"]
    change_list_template = "aesthetics/admin_ratingset_changelist.html"

    @admin.display(description="images")
    def image_count(self, obj: RatingSet) -> int:
        return obj.images.count()

    def get_urls(self) -> list:
        return [
            path("import/", self.admin_site.admin_view(self.import_view), name="aesthetics_ratingset_import"),
            *super().get_urls(),
        ]

    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            folder = uploads_root() / uuid.uuid4().hex
            folder.mkdir(parents=True)
            target = folder / f"upload{Path(upload.name).suffix.lower()}"
            with open(target, "wb") as out:
                for chunk in upload.chunks():
                    out.write(chunk)
            from .tasks import rating_set_import_upload

            args = (form.cleaned_data["name"], str(target), form.cleaned_data["description"])
            transaction.on_commit(lambda: rating_set_import_upload.delay(*args))
            self.message_user(
                request, f"Import of {upload.name} into {args[0]} queued: the set fills as it runs.", messages.SUCCESS
            )
            return HttpResponseRedirect(reverse("admin:aesthetics_ratingset_changelist"))
        context = {**self.admin_site.each_context(request), "form": form, "title": "Import an image set"}
        return render(request, "aesthetics/admin_import.html", context)

    def _export(self, request: HttpRequest, queryset: QuerySet[RatingSet], format: str) -> None:
        from .tasks import image_ratings_export

        for rating_set in queryset:
            out = (
                export_root() / f"image-ratings-{rating_set.name}-{timezone.now():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:6]}"
            )
            args = (format, str(out), rating_set.name)
            transaction.on_commit(lambda args=args: image_ratings_export.delay(*args))
            self.message_user(request, f"Export of {rating_set.name} queued into {out}.", messages.SUCCESS)

    @admin.action(description="Export the per-image dataset (Parquet)")
    def export_parquet(self, request: HttpRequest, queryset: QuerySet[RatingSet]) -> None:
        self._export(request, queryset, "parquet")

    @admin.action(description="Export the per-image dataset (JSON lines)")
    def export_jsonl(self, request: HttpRequest, queryset: QuerySet[RatingSet]) -> None:
        self._export(request, queryset, "jsonl")


@admin.register(SetImage)
class SetImageAdmin(admin.ModelAdmin):
    list_display = ["id", "rating_set", "rating_count", "control_rating", "created_at"]
    list_filter = ["rating_set"]
    readonly_fields = ["file", "content_hash", "source", "rating_count", "rating_sum", "generated", "width", "height"]
    search_fields = ["prompt", "source"]


@admin.register(ImageRating)
class ImageRatingAdmin(admin.ModelAdmin):
    # Ratings are data: staff read them, never edit them (counters and rewards depend on them).
    list_display = ["image", "rater", "rating", "artifacts", "is_check", "kudos_paid", "created_at"]
    list_filter = ["is_check"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
