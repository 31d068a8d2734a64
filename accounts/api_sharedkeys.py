"""AI Horde shared keys: PUT /api/v2/sharedkeys, GET/PATCH/DELETE /api/v2/sharedkeys/{id}.

The key is its own id, as on the AI Horde and in horde-sdk (a UUID sent as `apikey`).
Only its hash is stored, so the key is in the PUT answer once and every later call names
it: whoever reads or edits a key holds it. Reading needs nothing more (as on the AI
Horde); editing and deleting also need the owner's own API key. A key that opens nothing
is 401 `InvalidAPIKey`, as the AI Horde answers.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from horde_site.api_errors import HordeError, forbidden
from horde_site.api_schema import error_responses

from .apikey_auth import require_user
from .models import SharedKey
from .schema import SharedKeyDetailsSerializer, SimpleResponseSerializer
from .selectors import shared_key_by_key, shared_key_details
from .serializers import SharedKeyInputSerializer
from .services import SharedKeyRefused, shared_key_create, shared_key_delete, shared_key_update

KEY_PARAMETER = OpenApiParameter(
    "sharedkey_id", str, OpenApiParameter.PATH, description="The shared key (a UUID), as PUT answered it."
)
E401 = "The apikey header matches no user (InvalidAPIKey); for {id}: no such shared key (InvalidAPIKey)"


def _refused(exc: SharedKeyRefused) -> HordeError:
    return HordeError(exc.status_code, exc.rc, exc.message)


def _key_or_401(sharedkey_id: str) -> SharedKey:
    shared_key = shared_key_by_key(key=sharedkey_id)
    if shared_key is None:
        raise HordeError(401, "InvalidAPIKey", "No user matching sent Shared Key.")
    return shared_key


def _owned(request: Request, sharedkey_id: str) -> SharedKey:
    shared_key = _key_or_401(sharedkey_id)
    # The owner's own key, never a shared one (the AI Horde finds no user for a shared key here).
    user = require_user(request, allow_anonymous=True)
    if shared_key.user_id != user.pk:
        raise forbidden(f"Shared Key belongs to {shared_key.user.horde_name} and not to {user.horde_name}.")
    return shared_key


class SharedKeyCreateApi(APIView):
    """Create a shared key: it spends your kudos, up to its own allowance, for whoever holds it."""

    @extend_schema(
        operation_id="sharedkey_create",
        request=SharedKeyInputSerializer,
        responses={
            200: SharedKeyDetailsSerializer,
            **error_responses(
                400,
                401,
                403,
                415,
                429,
                e401="The apikey header is missing or is no user's own key (InvalidAPIKey)",
                e429="Too many new keys from this client (TooManyRequests, with Retry-After)",
                e403="The anonymous user (AnonForbidden), or you have as many shared keys as you may (Forbidden)",
            ),
        },
        tags=["sharedkeys"],
    )
    def put(self, request: Request) -> Response:
        user = require_user(request, allow_anonymous=True)
        serializer = SharedKeyInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            shared_key, key = shared_key_create(user=user, settings=serializer.validated_data)
        except SharedKeyRefused as exc:
            raise _refused(exc) from None
        return Response(shared_key_details(shared_key=shared_key, key=key))


class SharedKeySingleApi(APIView):
    """One shared key, named by the key itself."""

    @extend_schema(
        operation_id="sharedkey_details",
        parameters=[KEY_PARAMETER],
        responses={200: SharedKeyDetailsSerializer, **error_responses(401, e401=E401)},
        tags=["sharedkeys"],
    )
    def get(self, request: Request, sharedkey_id: str) -> Response:
        shared_key = _key_or_401(sharedkey_id)
        return Response(shared_key_details(shared_key=shared_key, key=sharedkey_id))

    @extend_schema(
        operation_id="sharedkey_modify",
        parameters=[KEY_PARAMETER],
        request=SharedKeyInputSerializer,
        responses={
            200: SharedKeyDetailsSerializer,
            **error_responses(
                400,
                401,
                403,
                415,
                e400="Invalid body, or nothing to change (NoSharedKeyModSelected)",
                e401=E401,
                e403="The key is another user's (Forbidden)",
            ),
        },
        tags=["sharedkeys"],
    )
    def patch(self, request: Request, sharedkey_id: str) -> Response:
        shared_key = _owned(request, sharedkey_id)
        serializer = SharedKeyInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            shared_key = shared_key_update(shared_key=shared_key, changes=serializer.validated_data)
        except SharedKeyRefused as exc:
            raise _refused(exc) from None
        return Response(shared_key_details(shared_key=shared_key, key=sharedkey_id))

    @extend_schema(
        operation_id="sharedkey_delete",
        parameters=[KEY_PARAMETER],
        responses={
            200: SimpleResponseSerializer,
            **error_responses(401, 403, e401=E401, e403="The key is another user's (Forbidden)"),
        },
        tags=["sharedkeys"],
    )
    def delete(self, request: Request, sharedkey_id: str) -> Response:
        shared_key_delete(shared_key=_owned(request, sharedkey_id))
        return Response({"message": "OK"})
