"""Moderation tests: finished pairs (the ratings tests' factory), a moderator, a worker."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib.auth.models import Group

from generation.models import Worker
from moderation.roles import GROUP_NAME, moderators_group_sync
from tests.ratings import conftest as ratings_fixtures

sdxl_model = ratings_fixtures.sdxl_model
plain_model = ratings_fixtures.plain_model
make_pair = ratings_fixtures.make_pair


@pytest.fixture
def moderator(make_user):
    """A staff user in the Moderators group (what the data migration made), nothing more."""
    moderators_group_sync(apps)  # a transactional test's flush empties the group's tables
    user, key = make_user("mod", is_staff=True)
    user.groups.add(Group.objects.get(name=GROUP_NAME))
    return user, key


@pytest.fixture
def worker(make_user):
    return Worker.objects.create(name="gpu-box", owner=make_user("operator")[0], model_names=["SDXL_beta::test"])


@pytest.fixture
def shared_pair(alice, make_pair, worker):
    """Alice's finished, shared pair, made by `worker`."""
    request = make_pair(alice[0])
    request.images.update(worker=worker)
    return request
