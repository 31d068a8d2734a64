from __future__ import annotations

from django.apps import AppConfig


class KudosConfig(AppConfig):
    name = "kudos"
    default_auto_field = "django.db.models.BigAutoField"
