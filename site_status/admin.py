from __future__ import annotations

from django import forms
from django.contrib import admin

from .models import HordeModes, NewsItem, WorkerInvite
from .services import modes_set


@admin.register(HordeModes)
class HordeModesAdmin(admin.ModelAdmin):
    """One row: staff switch maintenance and invite-only mode here (through modes_set)."""

    list_display = ("__str__", "maintenance", "invite_only", "updated_at")
    fields = ("maintenance", "invite_only")

    def has_add_permission(self, request) -> bool:
        return not HordeModes.objects.exists()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        modes_set(maintenance=obj.maintenance, invite_only=obj.invite_only)
        obj.pk = 1
        obj.refresh_from_db()


@admin.register(WorkerInvite)
class WorkerInviteAdmin(admin.ModelAdmin):
    list_display = ("user", "workers", "created_at")
    search_fields = ("user__username",)
    raw_id_fields = ("user",)


class NewsItemForm(forms.ModelForm):
    class Meta:
        model = NewsItem
        fields = ("title", "newspiece", "importance", "tags", "more_info_urls", "date_published", "published")

    def _strings(self, name: str, max_length: int) -> list[str]:
        value = self.cleaned_data.get(name)
        if value in (None, ""):
            return []
        if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
            raise forms.ValidationError('A list of non-empty strings, e.g. ["one", "two"].')
        if any(len(item) > max_length for item in value):
            raise forms.ValidationError(f"Each item may be at most {max_length} characters.")
        return value

    def clean_tags(self) -> list[str]:
        return self._strings("tags", 50)

    def clean_more_info_urls(self) -> list[str]:
        urls = self._strings("more_info_urls", 500)
        for url in urls:
            if not url.startswith(("https://", "http://")):
                raise forms.ValidationError(f"Not a web address: {url[:80]}")
        return urls


@admin.register(NewsItem)
class NewsItemAdmin(admin.ModelAdmin):
    form = NewsItemForm
    list_display = ("title", "importance", "date_published", "published")
    list_filter = ("importance", "published")
    search_fields = ("title", "newspiece")
    date_hierarchy = "date_published"
