from __future__ import annotations

from django.apps import AppConfig


class RatingsConfig(AppConfig):
    name = "ratings"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from horde_site.ops import metrics_register

        from .metrics import vote_metrics

        metrics_register(vote_metrics)
