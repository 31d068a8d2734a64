from __future__ import annotations

from django.contrib import admin

from .models import AuditEntry, PromptFilter
from .services import FILTER_FIELDS, prompt_filter_add, prompt_filter_delete, prompt_filter_update


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
