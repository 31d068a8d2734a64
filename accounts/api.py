"""AI Horde user endpoints: GET /api/v2/find_user and GET /api/v2/users/{id}."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from horde_site.api_errors import not_found
from horde_site.api_input import is_ascii_number
from horde_site.api_schema import error_responses

from .apikey_auth import require_user
from .models import User
from .schema import UserDetailsSerializer
from .selectors import user_details


class FindUserApi(APIView):
    """The user behind the `apikey` header (the anonymous key answers as the anonymous user)."""

    @extend_schema(
        operation_id="find_user", responses={200: UserDetailsSerializer, **error_responses(401)}, tags=["users"]
    )
    def get(self, request: Request) -> Response:
        user = require_user(request, allow_anonymous=True)
        return Response(user_details(user=user))


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
