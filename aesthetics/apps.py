from __future__ import annotations

from django.apps import AppConfig


class AestheticsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "aesthetics"
    verbose_name = "Image sets and single-image ratings"

    def ready(self) -> None:
        # Single-image control answers and divergence feed the arena's rater trust. The
        # ratings app cannot import this app (imports point down), so this app registers
        # its figures with ratings.services.trust instead.
        from ratings.services.trust import trust_sources
        from ratings.services.trust_batch import trust_batch_sources, trust_changed_sources
        from ratings.services.trust_runs import trust_check_digests, trust_parts_lost_checks

        from .trust import (
            CHANGED,
            single_image_checks,
            single_image_checks_all,
            single_image_digest,
            single_image_parts_lost,
        )

        if single_image_checks not in trust_sources:
            trust_sources.append(single_image_checks)
        if single_image_checks_all not in trust_batch_sources:
            trust_batch_sources.append(single_image_checks_all)
        if CHANGED not in trust_changed_sources:
            trust_changed_sources.append(CHANGED)
        if single_image_digest not in trust_check_digests:
            trust_check_digests.append(single_image_digest)
        if single_image_parts_lost not in trust_parts_lost_checks:
            trust_parts_lost_checks.append(single_image_parts_lost)
        # A pair whose images still wait for single-image ratings is not shown unblinded.
        from ratings.selectors import retired_conditions

        from .selectors import not_waiting_for_ratings

        if not_waiting_for_ratings not in retired_conditions:
            retired_conditions.append(not_waiting_for_ratings)
