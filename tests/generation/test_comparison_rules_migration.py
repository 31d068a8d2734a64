"""The migration that makes the comparison rules constraints is safe for existing rows."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)


def comparison_rules_migration(executor: MigrationExecutor) -> tuple[tuple[str, str], tuple[str, str]]:
    """(the migration, its parent), found by name: the lead renumbers migrations at merge."""
    (name,) = [
        name
        for app, name in executor.loader.disk_migrations
        if app == "generation" and name.endswith("_imagemodel_comparison_rules")
    ]
    migration = executor.loader.get_migration("generation", name)
    (parent,) = [dependency for dependency in migration.dependencies if dependency[0] == "generation"]
    return ("generation", name), parent


def test_an_existing_misconfigured_comparison_model_is_brought_in_line_and_a_plain_one_left_alone():
    executor = MigrationExecutor(connection)
    _migration, parent = comparison_rules_migration(executor)
    executor.migrate([parent])
    old = executor.loader.project_state([parent]).apps.get_model("generation", "ImageModel")
    old.objects.create(
        name="old_beta",
        queue="q.old_beta",
        compare_pipelines=True,
        images_per_request=None,
        anonymous_allowed=True,
        always_shared=False,
        min_width=512,
        max_width=768,
        min_height=1024,
        max_height=2048,
        default_width=512,
        default_height=1024,
    )
    old.objects.create(name="plain", queue="q.plain", anonymous_allowed=True, min_width=64, images_per_request=None)
    try:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
    finally:
        from generation.models import ImageModel

        beta = ImageModel.objects.get(name="old_beta")
        plain = ImageModel.objects.get(name="plain")
        ImageModel.objects.filter(name__in=["old_beta", "plain"]).delete()
    assert (beta.images_per_request, beta.anonymous_allowed, beta.always_shared) == (2, False, True)
    assert (beta.min_width, beta.max_width, beta.default_width) == (1024, 1024, 1024)
    assert (beta.min_height, beta.max_height, beta.default_height) == (1024, 2048, 1024)
    assert (plain.anonymous_allowed, plain.min_width, plain.images_per_request) == (True, 64, None)
