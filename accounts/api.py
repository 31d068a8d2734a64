"""AI Horde user endpoints: GET /api/v2/find_user, GET /api/v2/users (paged) and GET /api/v2/users/{id}."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from horde_site.api_errors import not_found
from horde_site.api_input import is_ascii_number
from horde_site.api_schema import error_responses

from .apikey_auth import require_user, shared_key_of
from .models import User
from .schema import UserDetailsSerializer
from .selectors import user_details, users_page


class FindUserApi(APIView):
    """The user behind the `apikey` header (the anonymous key answers as the anonymous user)."""

    @extend_schema(
        operation_id="find_user", responses={200: UserDetailsSerializer, **error_responses(401)}, tags=["users"]
    )
    def get(self, request: Request) -> Response:
        user = require_user(request, allow_anonymous=True, allow_shared_key=True)
        details = user_details(user=user)
        shared_key = shared_key_of(request)
        if shared_key is not None:
            # As on the AI Horde: the owner's details, the name saying it is a shared key.
            details["username"] += f" (Shared Key: {shared_key.name})" if shared_key.name else " (Shared Key)"
        return Response(details)


MAX_PAGE = 1_000_000


class UsersListApi(APIView):
    """Registered users, 25 a page, with their details (the AI Horde's UserDetails list)."""

    authentication_classes: list = []

    class InputSerializer(serializers.Serializer):
        page = serializers.CharField(required=False, default="1", max_length=7)
        sort = serializers.ChoiceField(choices=["kudos", "age"], required=False, default="kudos")

        def validate_page(self, value: str) -> int:
            # ASCII digits only: int() would also take "٣" and " 3".
            if not is_ascii_number(value) or not 1 <= int(value) <= MAX_PAGE:
                raise serializers.ValidationError(f"A page is a whole number from 1 to {MAX_PAGE}.")
            return int(value)

    @extend_schema(
        operation_id="users_list",
        parameters=[
            OpenApiParameter(
                "page", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE}, description="Page number, from 1."
            ),
            OpenApiParameter("sort", str, enum=["kudos", "age"], description="kudos: richest first; age: oldest."),
        ],
        responses={200: UserDetailsSerializer(many=True), **error_responses(400)},
        tags=["users"],
    )
    def get(self, request: Request) -> Response:
        query = self.InputSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        users = users_page(sort=query.validated_data["sort"], page=query.validated_data["page"])
        return Response([user_details(user=user) for user in users])


class UserDetailApi(APIView):
    """Any user's public details, by id."""

    @extend_schema(
        operation_id="user_details",
        responses={200: UserDetailsSerializer, **error_responses(401, 404, e404="No such user (UserNotFound)")},
        tags=["users"],
    )
    def get(self, request: Request, user_id: str) -> Response:
        user = User.objects.filter(pk=int(user_id)).first() if is_ascii_number(user_id) and len(user_id) < 19 else None
        if user is None:
            raise not_found(f"User with ID '{user_id}' not found.", rc="UserNotFound")
        return Response(user_details(user=user))
