"""Kudos API: POST /api/v2/kudos/transfer and /api/v2/kudos/award (AI Horde compatible)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.apikey_auth import require_user
from accounts.selectors import user_by_horde_name
from horde_site.api_errors import bad_request, forbidden
from horde_site.api_schema import error_responses

from .serializers import UNKNOWN_RECIPIENT, KudosAwardInputSerializer, KudosTransferInputSerializer, whole_amount
from .services import KudosError, kudos_award, kudos_transfer


class KudosTransferApi(APIView):
    """Send kudos to another user. `transfer_id` (a uuid) makes a retried request pay once."""

    InputSerializer = KudosTransferInputSerializer

    @extend_schema(
        operation_id="kudos_transfer",
        request=InputSerializer,
        responses={
            200: inline_serializer("KudosTransferred", {"transferred": serializers.IntegerField()}),
            **error_responses(
                400,
                401,
                415,
                429,
                e400="Invalid body, unknown recipient (InvalidTargetUsername), or refused by the ledger "
                "(KudosTransferToSelf, KudosTransferNotEnough, KudosTransferFromAnon...)",
                e429="Too many calls from this client (TooManyRequests, with Retry-After)",
            ),
        },
        tags=["kudos"],
    )
    def post(self, request: Request) -> Response:
        # The anonymous key authenticates; the ledger refuses it as a sender (KudosTransferFromAnon).
        sender = require_user(request, allow_anonymous=True)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        amount = whole_amount(data["amount"])
        recipient = user_by_horde_name(name=data["username"])
        if recipient is None:
            # The AI Horde's rc for a transfer to a user it cannot find.
            raise bad_request(UNKNOWN_RECIPIENT, rc="InvalidTargetUsername")
        try:
            kudos_transfer(sender=sender, recipient=recipient, amount=amount, transfer_id=data.get("transfer_id"))
        except KudosError as exc:  # DuplicateEvent included: a retried transfer_id pays nothing more
            raise bad_request(exc.message, rc=exc.rc) from exc
        return Response({"transferred": amount})


class KudosAwardApi(APIView):
    """Staff award kudos to a user. `award_id` (a uuid, Horde's extension) makes a retry pay once."""

    InputSerializer = KudosAwardInputSerializer

    @extend_schema(
        operation_id="kudos_award",
        request=InputSerializer,
        responses={
            200: inline_serializer("KudosAwarded", {"awarded": serializers.FloatField()}),
            **error_responses(
                400,
                401,
                403,
                415,
                e400="Invalid body, unknown recipient (InvalidAwardUsername), the anonymous user (KudosAwardToAnon), "
                "a bad amount (KudosValidationError, NegativeKudosTransfer) or an award_id already paid "
                "(DuplicateEvent)",
                e403="The key's user is not staff (NotAllowedAwards)",
            ),
        },
        tags=["kudos"],
    )
    def post(self, request: Request) -> Response:
        staff_user = require_user(request, allow_anonymous=True)
        if not staff_user.is_staff:
            raise forbidden("Only staff can award kudos.", rc="NotAllowedAwards")
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        amount = whole_amount(data["amount"])
        recipient = user_by_horde_name(name=data["username"])
        if recipient is None:
            raise bad_request("Invalid target username.", rc="InvalidAwardUsername")
        try:
            kudos_award(staff_user=staff_user, user=recipient, amount=amount, award_id=data.get("award_id"))
        except KudosError as exc:
            raise bad_request(exc.message, rc=exc.rc) from exc
        return Response({"awarded": float(amount)})
