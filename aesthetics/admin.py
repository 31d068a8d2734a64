from __future__ import annotations

from django.contrib import admin

from .models import ImageRating, RatingSet, SetImage


@admin.register(RatingSet)
class RatingSetAdmin(admin.ModelAdmin):
    list_display = ["name", "active", "created_at"]
    list_editable = ["active"]


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

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
