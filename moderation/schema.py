"""OpenAPI description (drf-spectacular) of what the moderation API answers."""

from __future__ import annotations

from rest_framework import serializers


class ImageReportedSerializer(serializers.Serializer):
    """201: the report was received; 200: this user had already reported this image (nothing added)."""

    id = serializers.IntegerField(help_text="The report's id.")
    created = serializers.BooleanField(help_text="False when you had already reported this image.")
    message = serializers.CharField()
