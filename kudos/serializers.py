"""The kudos operations' input serializers: one rule set for each body, shared by the API
(`kudos.api`) and the kudos page (`kudos.views`), and documented in the OpenAPI schema.

The serializers check types and shapes; the ledger (`kudos.services`) refuses what is not a
positive whole number up to MAX_AMOUNT, a transfer to oneself or to the anonymous user, with
the AI Horde's rc names, for the API and the page alike.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from .services import MAX_AMOUNT

# The answer to a transfer to a name no user has (the AI Horde's rc: InvalidTargetUsername).
UNKNOWN_RECIPIENT = "There is no user by that name."


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_AMOUNT})
class KudosAmountField(serializers.JSONField):
    """Any JSON value in; the ledger refuses what is not a positive whole number up to
    MAX_AMOUNT (strings, 1.5, true, huge values) with the AI Horde's rc names, so the
    schema documents what it takes."""


def whole_amount(amount: object) -> object:
    # horde-sdk sends 10.0 for 10: a whole number all the same.
    return int(amount) if isinstance(amount, float) and amount.is_integer() else amount


@extend_schema_serializer(component_name="KudosTransferInput")
class KudosTransferInputSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=200, help_text="The recipient, as `name#id` or a plain username.")
    amount = KudosAmountField(help_text="Whole number of kudos to send.")
    transfer_id = serializers.UUIDField(required=False, allow_null=True)


@extend_schema_serializer(component_name="KudosAwardInput")
class KudosAwardInputSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=200, help_text="The recipient, as `name#id` or a plain username.")
    amount = KudosAmountField(help_text="Whole number of kudos to award.")
    award_id = serializers.UUIDField(required=False, allow_null=True)
