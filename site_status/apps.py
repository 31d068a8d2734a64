from __future__ import annotations

from django.apps import AppConfig


class SiteStatusConfig(AppConfig):
    name = "site_status"
    verbose_name = "Site status: modes and news"
    default_auto_field = "django.db.models.BigAutoField"
