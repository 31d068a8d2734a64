"""Staff views of ratings: the rater trust table (trust / block), gold pairs, control images, votes (read-only)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest

from generation.models import Image

from .models import ControlImage, GoldPair, PairAssignment, RaterTrust, Vote
from .services import rater_trust_recompute, rater_trust_set_override


@admin.register(RaterTrust)
class RaterTrustAdmin(admin.ModelAdmin):
    """The trust table: calibration, weight, and the side-taking figures of flagged raters."""

    list_display = [
        "user",
        "score",
        "is_calibrated",
        "weight",
        "excluded",
        "flagged",
        "side_taking",
        "override",
        "gold_votes",
        "gold_agreement",
        "consensus_votes",
        "consensus_agreement",
        "arena_votes",
        "votes_per_minute",
        "account_age_days",
        "updated_at",
    ]
    list_filter = ["flagged", "excluded", "override"]
    list_select_related = ["user", "bias_pipeline"]
    search_fields = ["user__username"]
    ordering = ["-flagged", "score"]
    readonly_fields = [
        "user",
        "score",
        "is_calibrated",
        "weight",
        "excluded",
        "flagged",
        "bias_pipeline",
        "bias_opportunities",
        "bias_sided",
        "bias_expected_rate",
        "bias_p_value",
        "gold_votes",
        "gold_agreement",
        "consensus_votes",
        "consensus_agreement",
        "arena_votes",
        "votes_per_minute",
        "account_age_days",
        "updated_at",
    ]
    fields = ["user", "override", *readonly_fields[1:]]
    actions = ["trust", "block", "automatic", "recompute"]

    @admin.display(boolean=True, description="calibrated")
    def is_calibrated(self, obj: RaterTrust) -> bool:
        return obj.calibrated

    @admin.display(description="vote weight")
    def weight(self, obj: RaterTrust) -> str:
        # The per-model influence cap comes on top (ratings.selectors.vote_weights).
        return f"{obj.base_weight:.2f}"

    @admin.display(description="side-taking (picked / pairs, crowd rate, p)")
    def side_taking(self, obj: RaterTrust) -> str:
        if obj.bias_p_value is None:
            return "–"
        pipeline = str(obj.bias_pipeline) if obj.bias_pipeline else "?"
        rate = obj.bias_sided / obj.bias_opportunities if obj.bias_opportunities else 0.0
        return (
            f"{pipeline}: {obj.bias_sided}/{obj.bias_opportunities} = {rate:.0%} "
            f"vs {obj.bias_expected_rate or 0:.0%}, p = {obj.bias_p_value:.2g}"
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # rows are made by the trust service

    def save_model(self, request: HttpRequest, obj: RaterTrust, form, change: bool) -> None:
        # Through the service, so `excluded` follows the override at once.
        rater_trust_set_override(user=obj.user, override=obj.override)

    def _override(self, request: HttpRequest, queryset: QuerySet[RaterTrust], override: str, label: str) -> None:
        for trust in queryset.select_related("user"):
            rater_trust_set_override(user=trust.user, override=override)
        self.message_user(request, f"{queryset.count()} rater(s) {label}.", messages.SUCCESS)

    @admin.action(description="Trust the selected raters (always counted, always earn)")
    def trust(self, request: HttpRequest, queryset: QuerySet[RaterTrust]) -> None:
        self._override(request, queryset, RaterTrust.Override.TRUSTED, "trusted")

    @admin.action(description="Block the selected raters (excluded, earn nothing)")
    def block(self, request: HttpRequest, queryset: QuerySet[RaterTrust]) -> None:
        self._override(request, queryset, RaterTrust.Override.BLOCKED, "blocked")

    @admin.action(description="Back to the automatic score")
    def automatic(self, request: HttpRequest, queryset: QuerySet[RaterTrust]) -> None:
        self._override(request, queryset, RaterTrust.Override.NONE, "back on the automatic score")
        for trust in queryset.select_related("user"):
            rater_trust_recompute(user=trust.user)

    @admin.action(description="Recompute the figures now")
    def recompute(self, request: HttpRequest, queryset: QuerySet[RaterTrust]) -> None:
        for trust in queryset.select_related("user"):
            rater_trust_recompute(user=trust.user)
        self.message_user(request, f"{queryset.count()} rater(s) recomputed.", messages.SUCCESS)


@admin.register(GoldPair)
class GoldPairAdmin(admin.ModelAdmin):
    list_display = ["request", "expected_choice", "active", "note", "created_at"]
    list_filter = ["active", "expected_choice"]
    raw_id_fields = ["request"]
    search_fields = ["request__id", "note"]


@admin.register(ControlImage)
class ControlImageAdmin(admin.ModelAdmin):
    list_display = ["image", "expected_aesthetic", "active", "note", "created_at"]
    list_filter = ["active"]
    raw_id_fields = ["image"]


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # votes are kept: retracted or excluded, never deleted


class PairHiddenFilter(admin.SimpleListFilter):
    """Votes on pairs a moderator hid: kept, and marked here, but never counted."""

    title = "pair hidden by moderators"
    parameter_name = "pair_hidden"

    def lookups(self, request: Any, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Yes (not counted)"), ("no", "No")]

    def queryset(self, request: Any, queryset: Any) -> Any:
        if self.value() == "yes":
            return queryset.filter(pair_hidden=True)
        if self.value() == "no":
            return queryset.filter(pair_hidden=False)
        return queryset


@admin.register(Vote)
class VoteAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "request",
        "rater",
        "source",
        "choice",
        "kudos_paid",
        "created_at",
        "retracted_at",
        "pair_hidden",
    ]
    list_filter = ["source", "choice", PairHiddenFilter, "created_at"]
    search_fields = ["rater__username", "request__id"]
    list_select_related = ["rater", "request"]

    def get_queryset(self, request: Any) -> Any:
        hidden = Image.objects.filter(request_id=OuterRef("request_id"), hidden_at__isnull=False)
        return super().get_queryset(request).annotate(pair_hidden=Exists(hidden))

    @admin.display(boolean=True, description="pair hidden", ordering="pair_hidden")
    def pair_hidden(self, obj: Vote) -> bool:
        return obj.pair_hidden


@admin.register(PairAssignment)
class PairAssignmentAdmin(ReadOnlyAdmin):
    list_display = ["id", "rater", "request", "is_gold", "issued_at", "answered_at"]
    list_filter = ["is_gold"]
    list_select_related = ["rater", "request"]


from .admin_export import DatasetExportAdmin  # noqa: E402,F401 - registers the export admin
