"""API URLs (/api/v2/...) of the accounts app; no trailing slashes, as on the AI Horde."""

from __future__ import annotations

urlpatterns: list = []
