from __future__ import annotations

from django.apps import AppConfig


class RatingsConfig(AppConfig):
    name = "ratings"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from horde_site.ops import metrics_register

        from .metrics import vote_metrics

        metrics_register(vote_metrics)
        # The status API (generation, below this app) names a comparison pair's workers to its
        # requester only after their verdict, which lives here.
        from generation.selectors import judged_conditions

        from .selectors import owner_judged

        if owner_judged not in judged_conditions:
            judged_conditions.append(owner_judged)
