"""Response serializers of the moderation API, for the OpenAPI document (AI Horde model names)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers


class ImageReportedSerializer(serializers.Serializer):
    """201: the report was received; 200: this user had already reported this image (nothing added)."""

    id = serializers.IntegerField(help_text="The report's id.")
    created = serializers.BooleanField(help_text="False when you had already reported this image.")
    message = serializers.CharField()


@extend_schema_serializer(component_name="FilterDetails")
class FilterDetailsSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="The filter's id.")
    regex = serializers.CharField()
    filter_type = serializers.IntegerField(min_value=10, max_value=29)
    description = serializers.CharField(allow_blank=True)
    replacement = serializers.CharField(allow_blank=True)
    user = serializers.CharField(help_text="The moderator who added or last changed it (name#id).")


@extend_schema_serializer(component_name="FilterPromptSuspicion")
class FilterPromptSuspicionSerializer(serializers.Serializer):
    suspicion = serializers.IntegerField(help_text="2 or more: the prompt would be refused (CorruptPrompt).")
    matches = serializers.ListField(child=serializers.CharField(), help_text="What matched, one per type.")


class FilterDeletedSerializer(serializers.Serializer):
    message = serializers.CharField()
