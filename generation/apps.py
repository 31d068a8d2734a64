from __future__ import annotations

from django.apps import AppConfig


class GenerationConfig(AppConfig):
    name = "generation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from horde_site.ops import metrics_register

        from .metrics import queue_metrics

        metrics_register(queue_metrics)
        # Waiting jobs' priority follows their requester's balance; the ledger (below this app)
        # says when one moved.
        from kudos.signals import balance_changed

        from .services.priority import on_balance_changed

        balance_changed.connect(on_balance_changed, dispatch_uid="generation.job-priority")
