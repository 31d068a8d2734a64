"""Input serializers of the moderation API: the AI Horde's /v2/filters bodies and queries."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from generation import conf
from horde_site.api_schema import StrictCharField, StrictIntegerField

from .models import PromptFilter, validate_filter_regex

MAX_REGEX_CHARS = 1000
FILTER_TYPES = [choice.value for choice in PromptFilter.Type]


class FilterTypeField(StrictIntegerField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            min_value=10,
            max_value=29,
            help_text="10, 11: suspicion; 20: replacement; 21: NSFW term.",
            error_messages={
                "invalid": "filter_type must be a whole number.",
                "min_value": f"filter_type must be one of {FILTER_TYPES}.",
                "max_value": f"filter_type must be one of {FILTER_TYPES}.",
            },
            **kwargs,
        )

    def to_internal_value(self, data: Any) -> int:
        value = super().to_internal_value(data)
        if value not in FILTER_TYPES:
            raise serializers.ValidationError(f"filter_type must be one of {FILTER_TYPES}.")
        return value


class RegexField(StrictCharField):
    """A regular expression that compiles and matches no empty text (which would be every prompt)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=MAX_REGEX_CHARS, trim_whitespace=False, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        try:
            validate_filter_regex(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages[0]) from None
        return value


def _text(max_length: int) -> StrictCharField:
    return StrictCharField(max_length=max_length, required=False, allow_blank=True, allow_null=True)


class FilterPutSerializer(serializers.Serializer):
    """PutNewFilter."""

    regex = RegexField()
    filter_type = FilterTypeField()
    description = _text(1000)
    replacement = _text(255)


class FilterPatchSerializer(serializers.Serializer):
    """PatchExistingFilter: at least one field (else NoFilterModSelected)."""

    regex = RegexField(required=False)
    filter_type = FilterTypeField(required=False, allow_null=True)
    description = _text(1000)
    replacement = _text(255)


class FilterCheckSerializer(serializers.Serializer):
    """The prompt check body."""

    prompt = StrictCharField(trim_whitespace=False, help_text="At most HORDE_MAX_PROMPT_CHARS.")
    filter_type = FilterTypeField(required=False, allow_null=True)

    def validate_prompt(self, value: str) -> str:
        if len(value) > conf.max_prompt_chars():
            raise serializers.ValidationError(f"The prompt may be at most {conf.max_prompt_chars()} characters.")
        return value


class FilterListQuerySerializer(serializers.Serializer):
    filter_type = serializers.ChoiceField(choices=FILTER_TYPES, required=False, help_text="Only this type.")
    contains = serializers.CharField(
        max_length=100, required=False, help_text="Only filters whose regex or description contains this."
    )
