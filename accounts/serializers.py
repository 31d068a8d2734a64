"""Input serializers of the accounts API (shared keys): one rule set for the API, the
profile page's forms and the OpenAPI schema."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from horde_site.api_schema import StrictCharField, StrictIntegerField

# Bounds that keep every value a sane number of its column (BIGINT kudos, INTEGER limits).
MAX_SHARED_KEY_KUDOS = 1_000_000_000
MAX_LIMIT = 2**31 - 1
MAX_EXPIRY_DAYS = 36500


@extend_schema_serializer(component_name="SharedKeyInput")
class SharedKeyInputSerializer(serializers.Serializer):
    """The AI Horde's SharedKeyInput. On create, what is left out takes the AI Horde's
    default; on edit, only what is sent changes."""

    kudos = StrictIntegerField(
        min_value=-1,
        max_value=MAX_SHARED_KEY_KUDOS,
        required=False,
        help_text="The kudos this key may spend (what is left of it, once it spends); -1: unlimited. Default 5000.",
    )
    expiry = StrictIntegerField(
        min_value=-1,
        max_value=MAX_EXPIRY_DAYS,
        required=False,
        help_text="Days from now until the key stops working; -1: never (the default).",
    )
    name = StrictCharField(max_length=255, allow_blank=True, required=False, help_text="A name for the key.")
    max_image_pixels = StrictIntegerField(
        min_value=-1, max_value=MAX_LIMIT, required=False, help_text="Most pixels per image; -1: unlimited."
    )
    max_image_steps = StrictIntegerField(
        min_value=-1, max_value=MAX_LIMIT, required=False, help_text="Most steps per image; -1: unlimited."
    )
    max_text_tokens = StrictIntegerField(
        min_value=-1,
        max_value=MAX_LIMIT,
        required=False,
        help_text="Most text tokens per job; -1: unlimited (Horde makes no text).",
    )
