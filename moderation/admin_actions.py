"""Admin actions that moderate users and workers: each asks for a reason on an intermediate
page, then calls moderation.services once per selected row (each call recorded in the audit
trail). Used by the User admin (accounts) and the Worker admin (generation)."""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

from .services import (
    ModerationError,
    rater_shadow_ban,
    user_suspend,
    user_unsuspend,
    worker_flag,
    worker_unflag,
)


class ReasonForm(forms.Form):
    """Why a moderation action is taken: required, recorded in the audit trail. (Django's
    CharField already refuses NUL characters and strips the text.)"""

    reason = forms.CharField(
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "A reason is required."},
    )


def _reason_action(name: str, title: str, apply: Callable) -> Callable:
    """An admin action that asks for a reason, then applies `apply(obj, by=..., reason=...)`
    to every selected row, all or none."""

    def action(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet):
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            reason = form.cleaned_data["reason"]
            try:
                with transaction.atomic():
                    for obj in queryset.order_by("pk"):
                        apply(obj, by=request.user, reason=reason)
            except ModerationError as exc:
                form.add_error("reason", exc.message)
            else:
                modeladmin.message_user(request, f"{title}: {queryset.count()} done.", messages.SUCCESS)
                return None
        context = {
            **modeladmin.admin_site.each_context(request),
            "title": title,
            "opts": modeladmin.model._meta,
            "objects": list(queryset),
            "form": form,
            "action": name,
            "checkbox_name": ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/moderation/reason_action.html", context)

    action.__name__ = name
    return admin.action(description=f"{title}…", permissions=["change"])(action)


suspend_users = _reason_action(
    "suspend_users", "Suspend (no new requests, votes not counted)", lambda user, **kw: user_suspend(user=user, **kw)
)
unsuspend_users = _reason_action(
    "unsuspend_users", "Lift the suspension", lambda user, **kw: user_unsuspend(user=user, **kw)
)
shadow_ban_raters = _reason_action(
    "shadow_ban_raters",
    "Shadow-ban as a rater (votes kept, never counted)",
    lambda user, **kw: rater_shadow_ban(user=user, **kw),
)
lift_shadow_bans = _reason_action(
    "lift_shadow_bans", "Lift the rater shadow-ban", lambda user, **kw: rater_shadow_ban(user=user, banned=False, **kw)
)
flag_workers = _reason_action(
    "flag_workers",
    "Flag (once: no comparison work; twice: no work)",
    lambda worker, **kw: worker_flag(worker=worker, **kw),
)
unflag_workers = _reason_action(
    "unflag_workers", "Clear the flags", lambda worker, **kw: worker_unflag(worker=worker, **kw)
)

USER_ACTIONS = ("suspend_users", "unsuspend_users", "shadow_ban_raters", "lift_shadow_bans")
WORKER_ACTIONS = ("flag_workers", "unflag_workers")
