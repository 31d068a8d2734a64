from __future__ import annotations

from django.apps import AppConfig


class GenerationConfig(AppConfig):
    name = "generation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from horde_site.ops import metrics_register

        from .metrics import queue_metrics

        metrics_register(queue_metrics)
