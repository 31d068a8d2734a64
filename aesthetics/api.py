"""The ratings service's v1 API (/api/v1/...), in the shapes the AI Horde ratings
service and horde-sdk's ratings client use.

- `GET rating/new` -> {id, url, dataset_id}: an image the rater has not rated.
- `POST rating/{id}` {rating 1-10, artifacts 0-5} -> {reward}.
- `GET image/ratings/{image_id}`, `GET user/ratings/`, `GET user/check/{user_id}`,
  `GET user/validate/{user_id}`: the read endpoints of horde-sdk's ratings models.

Nobody reads other raters' opinions before giving their own: an image's ratings are
shown to staff, or to a rater who has already rated it; a user's check and
validate figures to that user and staff. Raters are named by their Horde name
only to staff; others see "rater".
The rating page calls these with its session (CSRF checked); clients with the apikey header.
"""

from __future__ import annotations

import uuid
from typing import Any

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.apikey_auth import ApiKeyAuthentication, require_user
from accounts.models import User
from horde_site.api_errors import HordeError, bad_request, forbidden, not_found
from horde_site.api_schema import error_responses

from .errors import RatingRefused
from .models import ImageRating, SetImage
from .selectors import RatingFilter, image_ratings, rating_next, user_check, user_ratings
from .services import image_rate


class StrictIntegerField(serializers.IntegerField):
    """A JSON number that is a whole number: refuses "5", 5.5 and true."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


COMPARISONS = ["ge", "le", "eq"]


class RatingsApi(APIView):
    authentication_classes = [ApiKeyAuthentication, SessionAuthentication]

    def rater(self, request: Request) -> User:
        return require_user(request, allow_anonymous=False)


def _url(request: Request, image: SetImage) -> str:
    return request.build_absolute_uri(image.file.url)


def _name(viewer: User, rater: User) -> str:
    return rater.horde_name if viewer.is_staff or viewer.pk == rater.pk else "rater"


def _target_user(viewer: User, user_id: str) -> User:
    try:
        target = User.objects.filter(pk=int(user_id)).first()
    except ValueError:
        target = None
    if target is None:
        raise not_found(f"User with ID '{user_id}' not found.", rc="UserNotFound")
    if not (viewer.is_staff or viewer.pk == target.pk):
        raise forbidden("Only staff may see another rater's figures.")
    return target


class FilterSerializer(serializers.Serializer):
    format = serializers.ChoiceField(choices=["json"], required=False, default="json")
    rating = serializers.IntegerField(min_value=1, max_value=10, required=False)
    rating_comparison = serializers.ChoiceField(choices=COMPARISONS, required=False)
    artifacts = serializers.IntegerField(min_value=0, max_value=5, required=False)
    artifacts_comparison = serializers.ChoiceField(choices=COMPARISONS, required=False)
    min_ratings = serializers.IntegerField(min_value=0, required=False)

    def filters(self, diverge: float | None = None) -> RatingFilter:
        data = self.validated_data
        return RatingFilter(
            rating=data.get("rating"),
            rating_comparison=data.get("rating_comparison"),
            artifacts=data.get("artifacts"),
            artifacts_comparison=data.get("artifacts_comparison"),
            min_ratings=data.get("min_ratings"),
            diverge=diverge,
        )


def _record(viewer: User, rating: ImageRating, request: Request) -> dict[str, Any]:
    return {
        "image": _url(request, rating.image),
        "image_id": str(rating.image_id),
        "rating": rating.rating,
        "artifacts": rating.artifacts,
        "average": round(rating.image.average, 4),
        "times_rated": rating.image.rating_count,
        "username": _name(viewer, rating.rater),
    }


RECORD_FIELDS = {
    "image": serializers.URLField(),
    "image_id": serializers.UUIDField(),
    "rating": serializers.IntegerField(),
    "artifacts": serializers.IntegerField(allow_null=True),
    "average": serializers.FloatField(),
    "times_rated": serializers.IntegerField(),
    "username": serializers.CharField(),
}
RECORDS = inline_serializer(
    "ImageRatingRecords",
    {"total": serializers.IntegerField(), "ratings": inline_serializer("ImageRatingRecord", RECORD_FIELDS, many=True)},
)


class RatingNewApi(RatingsApi):
    class InputSerializer(serializers.Serializer):
        dataset_id = serializers.UUIDField(required=False)

    @extend_schema(
        operation_id="v1_rating_new",
        tags=["aesthetics"],
        parameters=[InputSerializer],
        responses={
            **error_responses(400, 401, 403, 404, e404="No image left for you to rate (NoImageToRate)"),
            200: inline_serializer(
                "NewRating",
                {"id": serializers.UUIDField(), "url": serializers.URLField(), "dataset_id": serializers.UUIDField()},
            ),
        },
        summary="An image to rate: one you have not rated, fewest ratings first",
    )
    def get(self, request: Request) -> Response:
        rater = self.rater(request)
        query = self.InputSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        image = rating_next(rater=rater, dataset_id=query.validated_data.get("dataset_id"))
        if image is None:
            raise not_found("No image left for you to rate.", rc="NoImageToRate")
        return Response({"id": str(image.id), "url": _url(request, image), "dataset_id": str(image.rating_set_id)})


class RatingSubmitApi(RatingsApi):
    class InputSerializer(serializers.Serializer):
        rating = StrictIntegerField(min_value=1, max_value=10)
        artifacts = StrictIntegerField(min_value=0, max_value=5, required=False, allow_null=True)

    @extend_schema(
        operation_id="v1_rating_submit",
        tags=["aesthetics"],
        request=InputSerializer,
        responses={
            200: inline_serializer("ImageRatingReward", {"reward": serializers.IntegerField()}),
            **error_responses(
                400,
                401,
                403,
                404,
                415,
                429,
                e400="Out of range, or already rated by you (RatingAlreadySubmitted)",
                e403="Anonymous, or your own generation (NotOwner)",
                e404="No such image (ImageNotFound)",
                e429="Sooner than the minimum interval after your last rating, or past the per-minute cap "
                "(TooManyRatings)",
            ),
        },
        summary="Rate one image: aesthetics 1-10, artifacts 0-5 (0 = none)",
    )
    def post(self, request: Request, image_id: str) -> Response:
        rater = self.rater(request)
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            row = image_rate(
                rater=rater,
                image_id=image_id,
                rating=body.validated_data["rating"],
                artifacts=body.validated_data.get("artifacts"),
            )
        except RatingRefused as exc:
            raise HordeError(exc.status, exc.rc, exc.message) from exc
        return Response({"reward": row.kudos_paid})


class ImageRatingsApi(RatingsApi):
    @extend_schema(
        operation_id="v1_image_ratings",
        tags=["aesthetics"],
        parameters=[FilterSerializer],
        responses={
            **error_responses(401, 403, 404, e403="Not staff and not yet rated by you", e404="No such image"),
            200: inline_serializer(
                "ImageRatings",
                {
                    "total": serializers.IntegerField(),
                    "image": serializers.URLField(),
                    "image_id": serializers.UUIDField(),
                    "average": serializers.FloatField(),
                    "times_rated": serializers.IntegerField(),
                    "ratings": inline_serializer(
                        "ImageRatingsRow",
                        {
                            "username": serializers.CharField(),
                            "rating": serializers.IntegerField(),
                            "artifacts": serializers.IntegerField(allow_null=True),
                        },
                        many=True,
                    ),
                },
            ),
        },
        summary="An image's ratings (staff, or a rater who has rated it)",
    )
    def get(self, request: Request, image_id: uuid.UUID) -> Response:
        viewer = self.rater(request)
        image = SetImage.objects.filter(pk=image_id).first()
        if image is None:
            raise not_found(f"Image with ID '{image_id}' not found.", rc="ImageNotFound")
        if not viewer.is_staff and not ImageRating.objects.filter(image=image, rater=viewer).exists():
            raise forbidden("Rate this image first: nobody sees the others' ratings before giving their own.")
        rows = list(image_ratings(image=image))
        return Response(
            {
                "total": len(rows),
                "image": _url(request, image),
                "image_id": str(image.id),
                "average": round(image.average, 4),
                "times_rated": image.rating_count,
                "ratings": [
                    {"username": _name(viewer, row.rater), "rating": row.rating, "artifacts": row.artifacts}
                    for row in rows
                ],
            }
        )


class UserRatingsApi(RatingsApi):
    class InputSerializer(FilterSerializer):
        limit = serializers.IntegerField(min_value=1, max_value=1000, required=False, default=100)
        offset = serializers.IntegerField(min_value=0, required=False, default=0)
        diverge = serializers.FloatField(min_value=0, max_value=9, required=False)

    @extend_schema(
        operation_id="v1_user_ratings",
        tags=["aesthetics"],
        parameters=[InputSerializer],
        responses={200: RECORDS, **error_responses(400, 401, 403, 404, e404="An unknown `format`")},
        summary="Your own ratings",
    )
    def get(self, request: Request) -> Response:
        viewer = self.rater(request)
        query = self.InputSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        rows = user_ratings(user=viewer, filters=query.filters(diverge=data.get("diverge")))
        page = list(rows[data["offset"] : data["offset"] + data["limit"]])
        return Response({"total": rows.count(), "ratings": [_record(viewer, row, request) for row in page]})


class UserValidateApi(RatingsApi):
    @extend_schema(
        operation_id="v1_user_validate",
        tags=["aesthetics"],
        parameters=[FilterSerializer],
        responses={200: RECORDS, **error_responses(400, 401, 403, 404, e403="Only staff see another rater's")},
        summary="A rater's ratings, to validate",
    )
    def get(self, request: Request, user_id: str) -> Response:
        viewer = self.rater(request)
        target = _target_user(viewer, user_id)
        query = FilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows = list(user_ratings(user=target, filters=query.filters())[:1000])
        return Response({"total": len(rows), "ratings": [_record(viewer, row, request) for row in rows]})


class UserCheckApi(RatingsApi):
    class InputSerializer(serializers.Serializer):
        minutes = serializers.IntegerField(min_value=1, max_value=60 * 24 * 30, required=False, default=60)
        divergence = serializers.IntegerField(min_value=0, max_value=9, required=False, default=3)

    @extend_schema(
        operation_id="v1_user_check",
        tags=["aesthetics"],
        parameters=[InputSerializer],
        responses={
            **error_responses(400, 401, 403, 404, e403="Only staff see another rater's"),
            200: inline_serializer(
                "UserCheck",
                {
                    "ratings_in_timeframe": serializers.IntegerField(),
                    "ratings_per_minute_in_timeframe": serializers.FloatField(),
                    "ratings_past_three_hours": serializers.IntegerField(),
                    "ratings_per_minute_for_past_three_hours": serializers.FloatField(),
                    "suspect_divergences": serializers.IntegerField(),
                    "captchas_failed": serializers.IntegerField(),
                },
            ),
        },
        summary="A rater's pace, divergences from consensus and failed control images",
    )
    def get(self, request: Request, user_id: str) -> Response:
        viewer = self.rater(request)
        target = _target_user(viewer, user_id)
        query = self.InputSerializer(data=request.query_params)
        if not query.is_valid():
            raise bad_request("minutes must be 1 or more and divergence 0-9.", errors=query.errors)
        return Response(user_check(user=target, **query.validated_data))
