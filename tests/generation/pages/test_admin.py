"""Staff see models, pipelines, workers, requests, jobs and images in the admin."""

from __future__ import annotations

import pytest

from generation.models import Pipeline, Worker

from .conftest import store_images, submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, make_user):
    staff, _ = make_user("staffer", is_staff=True)
    staff.is_superuser = True
    staff.save(update_fields=["is_superuser"])
    client.force_login(staff)
    return client


def test_every_generation_admin_page_loads_for_staff(staff_client, alice, demo_models):
    generation = submit(alice[0], demo_models["sdxl"], width=1024, height=1024, steps=20)
    images = store_images(generation)
    worker = Worker.objects.create(name="gpu-1", owner=alice[0], info={"device": "cpu"})
    job = generation.jobs.first()
    pipeline = Pipeline.objects.filter(model=demo_models["sdxl"]).first()
    pages = [
        "/admin/generation/imagemodel/",
        f"/admin/generation/imagemodel/{demo_models['sdxl'].pk}/change/",
        "/admin/generation/pipeline/",
        f"/admin/generation/pipeline/{pipeline.pk}/change/",
        "/admin/generation/worker/",
        f"/admin/generation/worker/{worker.pk}/change/",
        "/admin/generation/generationrequest/",
        f"/admin/generation/generationrequest/{generation.pk}/change/",
        "/admin/generation/job/",
        "/admin/generation/job/?status__exact=done",
        f"/admin/generation/job/{job.pk}/change/",
        "/admin/generation/image/",
        f"/admin/generation/image/{images[0].pk}/change/",
    ]
    for url in pages:
        assert staff_client.get(url).status_code == 200, url


def test_the_request_admin_shows_its_jobs_and_the_image_admin_a_preview(staff_client, alice, demo_models):
    generation = submit(alice[0], demo_models["sdxl"], width=1024, height=1024, steps=20)
    images = store_images(generation)
    html = staff_client.get(f"/admin/generation/generationrequest/{generation.pk}/change/").content.decode()
    for job in generation.jobs.select_related("pipeline"):
        assert job.pipeline.name in html  # staff, unlike judges, see the pipelines
    html = staff_client.get("/admin/generation/image/").content.decode()
    assert images[0].file.url in html


def test_the_model_admin_counts_queued_jobs(staff_client, alice, demo_models):
    submit(alice[0], demo_models["sd"], width=512, height=512, steps=20, n=3)
    response = staff_client.get("/admin/generation/imagemodel/")
    model = next(m for m in response.context["cl"].result_list if m.name == "stable_diffusion")
    assert model._queued == 3


def test_staff_switch_pipelines_off_and_on_with_the_actions(staff_client, demo_models):
    pipelines = list(Pipeline.objects.filter(model=demo_models["sdxl"]))
    ids = [str(p.pk) for p in pipelines]
    staff_client.post("/admin/generation/pipeline/", {"action": "deactivate", "_selected_action": ids})
    assert not Pipeline.objects.filter(pk__in=ids, active=True).exists()
    staff_client.post("/admin/generation/pipeline/", {"action": "activate", "_selected_action": ids[:1]})
    assert list(Pipeline.objects.filter(pk__in=ids, active=True).values_list("pk", flat=True)) == [pipelines[0].pk]


def test_the_admin_is_closed_to_users_who_are_not_staff(client, alice, demo_models):
    client.force_login(alice[0])
    response = client.get("/admin/generation/generationrequest/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_staff_put_a_worker_in_maintenance_from_the_list_but_cannot_edit_its_info(staff_client, alice):
    worker = Worker.objects.create(name="gpu-2", owner=alice[0], info={"device": "cuda:0"})
    response = staff_client.post(
        "/admin/generation/worker/",
        {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "1",
            "form-0-id": str(worker.pk),
            "form-0-maintenance": "on",
            "_save": "Save",
        },
    )
    assert response.status_code == 302
    worker.refresh_from_db()
    assert (worker.maintenance, worker.paused) == (True, False)
    form = staff_client.get(f"/admin/generation/worker/{worker.pk}/change/").context["adminform"]
    assert "info" in form.readonly_fields


def test_any_staff_member_can_look_at_requests_jobs_and_workers_but_not_change_them(
    client, make_user, alice, demo_models
):
    staff, _ = make_user("helper", is_staff=True)  # staff, no model permissions granted
    generation = submit(alice[0], demo_models["sd"], width=512, height=512, steps=20)
    worker = Worker.objects.create(name="gpu-3", owner=alice[0])
    client.force_login(staff)
    for url in (
        "/admin/generation/generationrequest/",
        f"/admin/generation/generationrequest/{generation.pk}/change/",
        "/admin/generation/job/",
        "/admin/generation/worker/",
        "/admin/generation/image/",
    ):
        assert client.get(url).status_code == 200, url
    response = client.post(f"/admin/generation/worker/{worker.pk}/change/", {"name": "renamed", "paused": "on"})
    assert response.status_code == 403
    worker.refresh_from_db()
    assert (worker.name, worker.paused) == ("gpu-3", False)
    assert client.get("/admin/generation/pipeline/").status_code == 403


def model_form_data(model) -> dict:
    """The image model's change form as staff would send it back unchanged (no pipeline rows)."""
    fields = [
        "name",
        "description",
        "queue",
        "default_width",
        "default_height",
        "min_width",
        "max_width",
        "min_height",
        "max_height",
        "default_steps",
        "max_steps",
    ]
    data = {field: getattr(model, field) for field in fields}
    data["images_per_request"] = model.images_per_request if model.images_per_request is not None else ""
    for flag in ("enabled", "anonymous_allowed", "always_shared", "compare_pipelines"):
        if getattr(model, flag):
            data[flag] = "on"
    data.update({"pipelines-TOTAL_FORMS": "0", "pipelines-INITIAL_FORMS": "0", "_save": "Save"})
    return data


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        ({"anonymous_allowed": "on"}, "for registered users only"),
        ({"images_per_request": "1"}, "exactly 2 images per request"),
        ({"images_per_request": ""}, "exactly 2 images per request"),
        ({"always_shared": None}, "always shared"),
        ({"min_width": "512"}, "at least 1024x1024"),
        ({"min_height": "768"}, "at least 1024x1024"),
    ],
)
def test_the_admin_refuses_to_break_a_comparison_rule_with_a_form_error_naming_it(
    staff_client, demo_models, change, rule
):
    beta = demo_models["sdxl"]
    data = model_form_data(beta)
    for key, value in change.items():
        if value is None:
            data.pop(key)
        else:
            data[key] = value
    response = staff_client.post(f"/admin/generation/imagemodel/{beta.pk}/change/", data)
    assert response.status_code == 200  # the form again, not a redirect (nor a 500)
    errors = response.context["adminform"].form.non_field_errors()
    assert any(rule in error for error in errors), errors
    assert rule in response.content.decode()
    fresh = type(beta).objects.get(pk=beta.pk)
    assert (fresh.anonymous_allowed, fresh.images_per_request, fresh.always_shared) == (False, 2, True)
    assert (fresh.min_width, fresh.min_height) == (1024, 1024)


def test_the_admin_saves_a_comparison_model_that_keeps_the_rules(staff_client, demo_models):
    beta = demo_models["sdxl"]
    data = {**model_form_data(beta), "max_steps": "50", "min_width": "1152"}
    response = staff_client.post(f"/admin/generation/imagemodel/{beta.pk}/change/", data)
    assert response.status_code == 302
    beta.refresh_from_db()
    assert (beta.max_steps, beta.min_width) == (50, 1152)


def test_a_plain_model_may_be_anonymous_and_small(staff_client, demo_models):
    sd = demo_models["sd"]
    data = {**model_form_data(sd), "min_width": "64", "images_per_request": "1"}
    assert staff_client.post(f"/admin/generation/imagemodel/{sd.pk}/change/", data).status_code == 302
    sd.refresh_from_db()
    assert (sd.anonymous_allowed, sd.images_per_request) == (True, 1)


def test_the_database_refuses_a_comparison_model_that_breaks_a_rule_whoever_writes_it(demo_models):
    from django.db import IntegrityError, transaction

    from generation.models import ImageModel

    for change in ({"anonymous_allowed": True}, {"images_per_request": None}, {"always_shared": False}):
        with pytest.raises(IntegrityError), transaction.atomic():
            ImageModel.objects.filter(pk=demo_models["sdxl"].pk).update(**change)
    with pytest.raises(IntegrityError), transaction.atomic():
        ImageModel.objects.create(
            name="tiny_beta",
            queue="q.tiny",
            compare_pipelines=True,
            images_per_request=2,
            anonymous_allowed=False,
            always_shared=True,
            min_width=64,
            min_height=1024,
        )
