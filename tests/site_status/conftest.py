"""The generation fixtures (demo models, workers) serve the site status tests too; staff log in."""

from __future__ import annotations

import pytest

from tests.generation.conftest import demo_models, make_worker  # noqa: F401


@pytest.fixture
def staff_client(client, make_user):
    staff, _ = make_user("staffer", is_staff=True)
    staff.is_superuser = True
    staff.save(update_fields=["is_superuser"])
    client.force_login(staff)
    return client
