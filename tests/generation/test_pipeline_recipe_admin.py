"""Staff edit a pipeline's recipe in the admin; a recipe the diffusers backend cannot run is refused there."""

from __future__ import annotations

import pytest

from generation.models import ImageModel, Pipeline

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, make_user):
    staff, _ = make_user("recipe-staff", is_staff=True)
    staff.is_superuser = True
    staff.save(update_fields=["is_superuser"])
    client.force_login(staff)
    return client


@pytest.fixture
def pipeline():
    model = ImageModel.objects.create(name="recipe-model", queue="model.recipe_model")
    return Pipeline.objects.create(model=model, name="base", version="1", recipe={"base": "sdxl-base-1.0"})


def _post(client, pipeline, recipe: str):
    return client.post(
        f"/admin/generation/pipeline/{pipeline.pk}/change/",
        {
            "model": pipeline.model_id,
            "name": pipeline.name,
            "version": pipeline.version,
            "active": "on",
            "description": "",
            "recipe": recipe,
        },
    )


def test_a_bad_recipe_is_a_form_error_and_changes_nothing(staff_client, pipeline):
    response = _post(staff_client, pipeline, '{"base": "sdxl-base-1.0", "scheduler": "warp_drive"}')

    assert response.status_code == 200
    assert "warp_drive" in response.content.decode()
    pipeline.refresh_from_db()
    assert pipeline.recipe == {"base": "sdxl-base-1.0"}


def test_a_good_recipe_is_saved_as_written(staff_client, pipeline):
    response = _post(
        staff_client,
        pipeline,
        '{"base": "sdxl-base-1.0", "refiner": "sdxl-refiner-1.0", "refiner_switch": 0.7, "scheduler": "ddim"}',
    )

    assert response.status_code == 302
    pipeline.refresh_from_db()
    assert pipeline.recipe == {
        "base": "sdxl-base-1.0",
        "refiner": "sdxl-refiner-1.0",
        "refiner_switch": 0.7,
        "scheduler": "ddim",
    }


def test_an_empty_recipe_is_allowed_for_backends_that_need_none(staff_client, pipeline):
    response = _post(staff_client, pipeline, "{}")

    assert response.status_code == 302
    pipeline.refresh_from_db()
    assert pipeline.recipe == {}
