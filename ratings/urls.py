"""Page URLs of the ratings app."""

from __future__ import annotations

app_name = "ratings"

urlpatterns: list = []
