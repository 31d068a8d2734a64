"""OpenAPI descriptions (drf-spectacular) of the apikey header and the user shapes."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import serializers

from horde_site.api_schema import ErrorSerializer

__all__ = ["ApiKeyScheme", "ErrorSerializer", "UserDetailsSerializer"]


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.apikey_auth.ApiKeyAuthentication"
    name = "apikey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "apikey",
            "description": "Your 22-character API key (0000000000 for the anonymous user).",
        }


class UserKudosDetailsSerializer(serializers.Serializer):
    accumulated = serializers.IntegerField(help_text="Earned by workers minus spent on generations.")
    gifted = serializers.IntegerField(help_text="Sent to other users (negative).")
    donated = serializers.IntegerField()
    admin = serializers.IntegerField(help_text="Staff adjustments.")
    received = serializers.IntegerField(help_text="Received from other users.")
    recurring = serializers.IntegerField()
    awarded = serializers.IntegerField(help_text="Rating rebates and staff awards.")
    styled = serializers.IntegerField()


class UserThingRecordsSerializer(serializers.Serializer):
    megapixelsteps = serializers.FloatField()
    tokens = serializers.IntegerField()


class UserAmountRecordsSerializer(serializers.Serializer):
    image = serializers.IntegerField()
    text = serializers.IntegerField()
    interrogation = serializers.IntegerField()


class UserRecordsSerializer(serializers.Serializer):
    usage = UserThingRecordsSerializer()
    contribution = UserThingRecordsSerializer()
    fulfillment = UserAmountRecordsSerializer()
    request = UserAmountRecordsSerializer()


class UsageDetailsSerializer(serializers.Serializer):
    megapixelsteps = serializers.FloatField()
    requests = serializers.IntegerField()


class ContributionsDetailsSerializer(serializers.Serializer):
    megapixelsteps = serializers.FloatField()
    fulfillments = serializers.IntegerField()


class UserDetailsSerializer(serializers.Serializer):
    """The AI Horde's UserDetails, as far as it applies to Horde."""

    username = serializers.CharField(help_text="name#id")
    id = serializers.IntegerField()
    kudos = serializers.IntegerField()
    kudos_details = UserKudosDetailsSerializer()
    worker_count = serializers.IntegerField()
    worker_ids = serializers.ListField(child=serializers.CharField())
    trusted = serializers.BooleanField()
    moderator = serializers.BooleanField()
    pseudonymous = serializers.BooleanField()
    account_age = serializers.IntegerField(help_text="Seconds since the account was created.")
    records = UserRecordsSerializer()
    usage = UsageDetailsSerializer()
    contributions = ContributionsDetailsSerializer()


class SharedKeyDetailsSerializer(serializers.Serializer):
    """The AI Horde's SharedKeyDetails."""

    id = serializers.UUIDField(help_text="The shared key itself: send it as `apikey`.")
    username = serializers.CharField(help_text="The owner, name#id.")
    name = serializers.CharField(allow_blank=True)
    kudos = serializers.IntegerField(help_text="Kudos this key may still spend; -1: unlimited.")
    expiry = serializers.DateTimeField(allow_null=True, help_text="When it stops working; null: never.")
    utilized = serializers.IntegerField(help_text="Kudos spent through this key.")
    max_image_pixels = serializers.IntegerField()
    max_image_steps = serializers.IntegerField()
    max_text_tokens = serializers.IntegerField()


class SimpleResponseSerializer(serializers.Serializer):
    message = serializers.CharField(help_text="OK")
