"""Page URLs of the aesthetics app (/rate/...)."""

from __future__ import annotations

from django.urls import path

from . import views

app_name = "aesthetics"

urlpatterns = [
    path("images", views.rate_images, name="rate-images"),
]
