"""Helpers for the accounts tests."""

from __future__ import annotations

import re

import pytest

APIKEY_RE = re.compile(r'<span class="apikey" id="apikey">([A-Za-z0-9_-]+)</span>')


@pytest.fixture
def shown_apikey():
    """The API key a rendered profile page shows, or None."""

    def find(response) -> str | None:
        match = APIKEY_RE.search(response.content.decode())
        return match.group(1) if match else None

    return find


@pytest.fixture(autouse=True)
def no_allauth_rate_limits(settings):
    """allauth rate-limits mail per address through the cache, and the test Redis outlives a run:
    without this, a second run within minutes would find its confirmation mail refused."""
    settings.ACCOUNT_RATE_LIMITS = False
