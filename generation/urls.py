"""Page URLs of the generation app."""

from __future__ import annotations

app_name = "generation"

urlpatterns: list = []
