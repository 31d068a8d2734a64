from __future__ import annotations

from django.apps import AppConfig


class KudosConfig(AppConfig):
    name = "kudos"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from horde_site.ops import metrics_register

        from .metrics import ledger_metrics

        metrics_register(ledger_metrics)
