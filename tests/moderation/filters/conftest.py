"""Fixtures of the prompt filter and moderation-effect tests: the generation tests' models and
workers, a moderator who is not staff."""

from __future__ import annotations

import json

import pytest

from tests.generation.conftest import anonymous, demo_models, make_worker  # noqa: F401


@pytest.fixture
def moderator(make_user):
    """A member of the Moderators group (not staff)."""
    from django.contrib.auth.models import Group

    from moderation.roles import MODERATORS_GROUP

    user, key = make_user("molly", kudos=1000)
    user.groups.add(Group.objects.get_or_create(name=MODERATORS_GROUP)[0])
    return user, key


@pytest.fixture
def call(api_client):
    """call(method, path, key, body=None) -> response, with the apikey header and a JSON body."""

    def send(method: str, path: str, key: str | None, body=None):
        headers = {"HTTP_APIKEY": key} if key else {}
        if body is not None:
            headers["content_type"] = "application/json"
            return getattr(api_client, method)(path, data=json.dumps(body), **headers)
        return getattr(api_client, method)(path, **headers)

    return send


@pytest.fixture(autouse=True)
def fresh_filter_cache():
    """The filters' cache version lives in Redis, which outlives a test: start each from none."""
    from django.core.cache import cache

    from moderation.prompt_check import VERSION_KEY

    cache.delete(VERSION_KEY)
    yield
    cache.delete(VERSION_KEY)
