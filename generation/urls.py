"""Page URLs of the generation app (the nav's /generate, /models, /workers; /images is the ratings app's)."""

from __future__ import annotations

from django.urls import path

from . import views

app_name = "generation"

urlpatterns = [
    path("generate", views.generate, name="generate"),
    path("generate/price", views.generate_price, name="price"),
    path("requests/<uuid:request_id>", views.request_detail, name="request"),
    path("requests/<uuid:request_id>/status", views.request_status_fragment, name="request_status"),
    path("requests/<uuid:request_id>/cancel", views.request_cancel, name="request_cancel"),
    path("workers", views.workers, name="workers"),
    path("models", views.models_page, name="models"),
]
