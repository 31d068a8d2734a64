from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    # allauth's own app is "Accounts" (e-mail addresses) in the admin: ours must not read the same.
    verbose_name = "Users and API keys"
    default_auto_field = "django.db.models.BigAutoField"
