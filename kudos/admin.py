"""The ledger in the admin: read-only. Kudos move only through kudos.services
(staff adjust kudos from the user admin's "Adjust kudos" action)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import Account, Entry, Transaction


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class EntryInline(admin.TabularInline):
    model = Entry
    extra = 0
    can_delete = False
    fields = ("account", "amount", "balance_after", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ("id", "__str__", "user", "code", "hot", "balance")
    list_filter = ("hot",)
    search_fields = ("user__username", "code")
    list_select_related = ("user",)


@admin.register(Transaction)
class TransactionAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "event_key", "memo", "created_by", "created_at")
    list_filter = ("kind",)
    search_fields = ("event_key", "memo")
    date_hierarchy = "created_at"
    list_select_related = ("created_by",)
    inlines = (EntryInline,)


@admin.register(Entry)
class EntryAdmin(ReadOnlyAdmin):
    list_display = ("id", "transaction", "account", "amount", "balance_after", "created_at")
    list_filter = ("transaction__kind",)
    search_fields = ("account__user__username", "account__code", "transaction__event_key")
    list_select_related = ("transaction", "account")
