"""Fixtures for leaderboard and export tests (builders live in factories.py)."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from . import factories


@pytest.fixture(autouse=True)
def _media_and_cache(settings, tmp_path):
    """Images go to a per-test folder; the leaderboard cache starts empty."""
    from ratings.leaderboard import CACHE_KEY

    settings.MEDIA_ROOT = tmp_path / "media"
    settings.RATINGS_EXPORT_ROOT = tmp_path / "exports"
    cache.delete(CACHE_KEY)
    yield
    cache.delete(CACHE_KEY)


@pytest.fixture
def make_model(db):
    return factories.make_model


@pytest.fixture
def make_pipeline(db):
    return factories.make_pipeline


@pytest.fixture
def make_pair(db, make_user):
    """factories.make_pair with a default requester."""
    holder: dict = {}

    def make(model, pipeline_a, pipeline_b, *, owner=None, **kwargs):
        if owner is None:
            if "owner" not in holder:
                holder["owner"] = make_user("requester")[0]
            owner = holder["owner"]
        return factories.make_pair(model, pipeline_a, pipeline_b, owner=owner, **kwargs)

    return make


@pytest.fixture
def make_vote(db):
    return factories.make_vote


@pytest.fixture
def raters(make_user):
    """A few ordinary raters who passed calibration (a new rater's votes weigh 0: tests/ratings)."""
    return [factories.calibrated(make_user(f"rater{i}")[0]) for i in range(3)]
