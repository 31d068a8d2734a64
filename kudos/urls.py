"""Page URLs of the kudos app."""

from __future__ import annotations

app_name = "kudos"

urlpatterns: list = []
