"""Admin for users: trust, staff, kudos balance, staff kudos adjustments through the ledger, shared keys."""

from __future__ import annotations

from allauth.account.admin import EmailAddressAdmin
from allauth.account.models import EmailAddress as AllauthEmailAddress
from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse

from horde_site.api_input import is_ascii_number
from kudos.selectors import user_balance
from kudos.services import MAX_AMOUNT, KudosError, kudos_adjust
from moderation.admin_actions import lift_shadow_bans, shadow_ban_raters, suspend_users, unsuspend_users

from .models import EmailAddress, SharedKey, User

# One accounts section: allauth's email addresses move here, under our proxy model, with
# allauth's own admin (allauth.account is installed before this app, so it is registered).
if admin.site.is_registered(AllauthEmailAddress):
    admin.site.unregister(AllauthEmailAddress)
admin.site.register(EmailAddress, EmailAddressAdmin)


class KudosAdjustForm(forms.Form):
    amount = forms.IntegerField(
        min_value=-MAX_AMOUNT, max_value=MAX_AMOUNT, help_text="Positive grants kudos, negative takes it away."
    )
    reason = forms.CharField(max_length=400, widget=forms.Textarea(attrs={"rows": 3}))

    def clean_amount(self) -> int:
        amount = self.cleaned_data["amount"]
        if amount == 0:
            raise forms.ValidationError("An adjustment of zero changes nothing.")
        return amount


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = (
        "username",
        "id",
        "email",
        "trusted",
        "is_staff",
        "kudos_balance",
        "suspended",
        "shadow_banned",
        "prompt_suspicion",
        "date_joined",
    )
    list_editable = ("trusted",)
    list_filter = ("trusted", "is_staff", "is_superuser", "is_active", "shadow_banned")
    list_select_related = ("kudos_account",)
    readonly_fields = (
        "apikey_created_at",
        "last_login",
        "date_joined",
        "suspended_at",
        "suspension_reason",
        "shadow_banned",
        "prompt_suspicion",
    )
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        ("Horde", {"fields": ("trusted", "apikey_created_at", "show_nsfw")}),
        (
            "Moderation (change with the actions: each asks for a reason and is recorded)",
            {"fields": ("suspended_at", "suspension_reason", "shadow_banned", "prompt_suspicion")},
        ),
    )
    actions = ("adjust_kudos", suspend_users, unsuspend_users, shadow_ban_raters, lift_shadow_bans)

    @admin.display(description="Suspended", boolean=True, ordering="suspended_at")
    def suspended(self, obj: User) -> bool:
        return obj.is_suspended

    @admin.display(description="Kudos")
    def kudos_balance(self, obj: User) -> int:
        account = getattr(obj, "kudos_account", None)
        if account is None:
            return 0
        # Hot accounts (the anonymous user) keep no cached balance: the selector sums them.
        return user_balance(user=obj) if account.hot else account.balance

    @admin.action(description="Adjust kudos of the selected users…", permissions=["change"])
    def adjust_kudos(self, request: HttpRequest, queryset: QuerySet[User]) -> HttpResponse:
        ids = ",".join(str(pk) for pk in queryset.values_list("pk", flat=True))
        return HttpResponseRedirect(f"{reverse('admin:accounts_user_adjust_kudos')}?ids={ids}")

    def get_urls(self) -> list:
        extra = [
            path(
                "adjust-kudos/",
                self.admin_site.admin_view(self.adjust_kudos_view),
                name="accounts_user_adjust_kudos",
            )
        ]
        return extra + super().get_urls()

    def adjust_kudos_view(self, request: HttpRequest) -> HttpResponse:
        """The intermediate page of the action: one amount and one reason for the chosen users."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        raw_ids = request.POST.get("ids") or request.GET.get("ids", "")
        ids = [int(part) for part in raw_ids.split(",") if is_ascii_number(part.strip())]
        users = list(User.objects.filter(pk__in=ids).order_by("pk"))
        form = KudosAdjustForm(request.POST or None)
        if request.method == "POST" and users and form.is_valid():
            amount, reason = form.cleaned_data["amount"], form.cleaned_data["reason"]
            try:
                # All or none: a refusal for one user leaves every balance as it was.
                with transaction.atomic():
                    for user in users:
                        kudos_adjust(user=user, amount=amount, reason=reason, staff_user=request.user)
            except KudosError as exc:
                form.add_error(None, exc.message)
            else:
                names = ", ".join(user.horde_name for user in users)
                self.message_user(request, f"Adjusted {names} by {amount:+d} kudos.", messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:accounts_user_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": "Adjust kudos",
            "opts": self.model._meta,
            "users": users,
            "ids": ",".join(str(user.pk) for user in users),
            "form": form,
        }
        return render(request, "admin/accounts/user/adjust_kudos.html", context)


@admin.register(SharedKey)
class SharedKeyAdmin(admin.ModelAdmin):
    """Staff see users' shared keys and may delete one (abuse); the key itself is nowhere to see,
    and what it spent moves only through the spend service."""

    list_display = ("name", "user", "kudos", "utilized", "expiry", "created_at")
    list_select_related = ("user",)
    search_fields = ("name", "user__username")
    readonly_fields = (
        "user",
        "name",
        "kudos",
        "utilized",
        "expiry",
        "max_image_pixels",
        "max_image_steps",
        "max_text_tokens",
        "created_at",
    )
    exclude = ("key_hash",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: SharedKey | None = None) -> bool:
        return False
