"""/api/v1/...: the ratings service's routes (no trailing slash, except where horde-sdk sends one)."""

from __future__ import annotations

from django.urls import path, re_path

from . import api

urlpatterns = [
    path("rating/new", api.RatingNewApi.as_view(), name="api-v1-rating-new"),
    path("rating/<str:image_id>", api.RatingSubmitApi.as_view(), name="api-v1-rating"),
    path("image/ratings/<uuid:image_id>", api.ImageRatingsApi.as_view(), name="api-v1-image-ratings"),
    re_path(r"^user/ratings/?$", api.UserRatingsApi.as_view(), name="api-v1-user-ratings"),
    re_path(r"^user/check/(?P<user_id>[^/]+)/?$", api.UserCheckApi.as_view(), name="api-v1-user-check"),
    re_path(r"^user/validate/(?P<user_id>[^/]+)/?$", api.UserValidateApi.as_view(), name="api-v1-user-validate"),
]
