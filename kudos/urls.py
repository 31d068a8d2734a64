"""Page URLs of the kudos app (mounted at /kudos/)."""

from __future__ import annotations

from django.urls import path

from . import views

app_name = "kudos"

urlpatterns = [
    path("", views.kudos_page, name="page"),
]
