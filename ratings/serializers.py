"""The own-pair verdict's input serializer: one rule set for `POST /api/v2/generate/rate/{id}`
and the judge page (`ratings.views`), documented in the OpenAPI schema.

The body is the AI Horde's (`best`, `ratings` by image id) plus Horde's `choice`; the page
sends its form in that shape. What depends on the pair (which ids are its images, whether a
winner is named) is `services.judgement_from_horde`'s, for both.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from horde_site.api_schema import StrictIntegerField

CHOICE_FIELD_KW: dict[str, Any] = {"choices": ["left", "right", "tie", "both_bad"]}


class HordeRatingSerializer(serializers.Serializer):
    id = serializers.CharField(max_length=64)
    # The AI Horde always sends `rating`; Horde also takes an artifacts score alone (the
    # judge page lets a rater score the flaws without the looks).
    rating = StrictIntegerField(min_value=1, max_value=10, required=False, allow_null=True)
    artifacts = StrictIntegerField(min_value=0, max_value=5, required=False, allow_null=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("rating") is None and attrs.get("artifacts") is None:
            raise serializers.ValidationError("A rating gives an aesthetic rating (1-10), artifacts (0-5) or both.")
        return attrs


@extend_schema_serializer(component_name="AestheticsPayload")
class OwnPairRateSerializer(serializers.Serializer):
    best = serializers.CharField(max_length=64, required=False, allow_null=True, allow_blank=True)
    ratings = HordeRatingSerializer(many=True, required=False, max_length=2)
    choice = serializers.ChoiceField(required=False, allow_null=True, **CHOICE_FIELD_KW)
