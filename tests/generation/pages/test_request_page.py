"""A request's page: who may see it, its live status fragment, the pair and cancelling."""

from __future__ import annotations

import pytest

from generation.models import GenerationRequest, Job

from .conftest import store_images, submit

pytestmark = pytest.mark.django_db


def test_the_owner_sees_the_queue_figures_of_a_waiting_request(client, alice, demo_models):
    generation = submit(alice[0], demo_models["sd"], width=512, height=512, steps=20, n=2)
    client.force_login(alice[0])
    response = client.get(f"/requests/{generation.id}")
    assert response.status_code == 200
    html = response.content.decode()
    assert "a red fox in the snow" in html
    assert 'id="queue-position"' in html
    assert "0 / 2" in html
    assert 'id="cancel-request"' in html
    assert f'data-status-url="/requests/{generation.id}/status"' in html


def test_the_status_fragment_says_when_polling_can_stop(client, alice, demo_models):
    generation = submit(alice[0], demo_models["sd"], width=512, height=512, steps=20)
    client.force_login(alice[0])
    fragment = client.get(f"/requests/{generation.id}/status")
    assert fragment.status_code == 200
    assert 'data-final="0"' in fragment.content.decode()
    assert "<html" not in fragment.content.decode()

    store_images(generation)
    html = client.get(f"/requests/{generation.id}/status").content.decode()
    assert 'data-final="1"' in html
    assert "1 / 1" in html
    assert "<img" in html
    assert 'id="cancel-request"' not in html


def test_a_private_request_is_a_404_for_anyone_but_its_owner(client, alice, bob, demo_models):
    generation = submit(alice[0], demo_models["sd"], width=512, height=512, steps=20)
    assert generation.shared is False
    client.force_login(bob[0])
    assert client.get(f"/requests/{generation.id}").status_code == 404
    assert client.get(f"/requests/{generation.id}/status").status_code == 404


def test_an_anonymous_visitor_is_sent_to_log_in(client, alice, demo_models):
    generation = submit(alice[0], demo_models["sdxl"], width=1024, height=1024, steps=20)
    response = client.get(f"/requests/{generation.id}")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_an_unknown_request_is_a_404(client, alice, demo_models):
    client.force_login(alice[0])
    assert client.get("/requests/00000000-0000-0000-0000-000000000000").status_code == 404


def test_the_owner_of_a_done_pair_sees_left_and_right_and_the_judge_link(client, alice, demo_models):
    generation = submit(alice[0], demo_models["sdxl"], width=1024, height=1024, steps=20, seed="4242")
    images = store_images(generation)
    client.force_login(alice[0])
    html = client.get(f"/requests/{generation.id}").content.decode()
    assert "Left" in html and "Right" in html
    assert html.count("seed 4242") == 2
    assert f'href="/ratings/judge/{generation.id}"' in html
    # Shown in the stored order: the left image is the job at position 0.
    left = next(image for image in images if image.job.position == 0)
    right = next(image for image in images if image.job.position == 1)
    assert html.index(str(left.id)) < html.index(str(right.id))


def test_pipeline_names_never_appear_on_the_request_page(client, alice, demo_models):
    generation = submit(alice[0], demo_models["sdxl"], width=1024, height=1024, steps=20)
    store_images(generation)
    client.force_login(alice[0])
    html = client.get(f"/requests/{generation.id}").content.decode()
    pipelines = {job.pipeline.name for job in generation.jobs.select_related("pipeline")}
    assert len(pipelines) == 2
    for name in pipelines:
        assert name not in html


def test_another_user_may_view_a_shared_pair_but_not_judge_or_cancel_it(client, alice, bob, demo_models):
    generation = submit(alice[0], demo_models["sdxl"], width=1024, height=1024, steps=20)
    client.force_login(bob[0])
    html = client.get(f"/requests/{generation.id}").content.decode()
    assert 'id="cancel-request"' not in html
    assert "by alice" in html
    store_images(generation)
    html = client.get(f"/requests/{generation.id}").content.decode()
    assert "/ratings/judge/" not in html
    assert client.post(f"/requests/{generation.id}/cancel").status_code == 404


def test_the_owner_can_cancel_a_waiting_request(client, alice, demo_models):
    generation = submit(alice[0], demo_models["sd"], width=512, height=512, steps=20, n=2)
    client.force_login(alice[0])
    response = client.post(f"/requests/{generation.id}/cancel", follow=True)
    assert response.redirect_chain[-1][0] == f"/requests/{generation.id}"
    generation.refresh_from_db()
    assert generation.status == GenerationRequest.Status.CANCELLED
    assert set(generation.jobs.values_list("status", flat=True)) == {Job.Status.CANCELLED}
    assert "cancelled" in response.content.decode().lower()


def test_another_user_cannot_cancel_a_request(client, alice, bob, demo_models):
    generation = submit(alice[0], demo_models["sd"], width=512, height=512, steps=20)
    client.force_login(bob[0])
    assert client.post(f"/requests/{generation.id}/cancel").status_code == 404
    generation.refresh_from_db()
    assert generation.status == GenerationRequest.Status.WAITING


def test_cancel_only_accepts_post(client, alice, demo_models):
    generation = submit(alice[0], demo_models["sd"], width=512, height=512, steps=20)
    client.force_login(alice[0])
    assert client.get(f"/requests/{generation.id}/cancel").status_code == 405
    generation.refresh_from_db()
    assert generation.status == GenerationRequest.Status.WAITING


def test_polling_the_status_fragment_costs_the_same_few_queries_however_many_images(
    client, alice, demo_models, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    one = submit(alice[0], demo_models["sd"], width=64, height=64, steps=1, n=1)
    four = submit(alice[0], demo_models["sd"], width=64, height=64, steps=1, n=4)
    store_images(one)
    store_images(four)
    client.force_login(alice[0])
    client.get(f"/requests/{one.id}/status")  # warm the model-capacity cache
    counts = []
    for generation in (one, four):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/requests/{generation.id}/status").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]  # no query per image
    # Session + user, the request, its job counts, the job ids (their total), the images
    # with their jobs, the requester's ledger entries of those jobs (the charged/refunded
    # line: 6 -> 7 queries).
    with django_assert_max_num_queries(7):
        client.get(f"/requests/{four.id}/status")


def test_a_faulted_request_says_so_and_stops_polling(client, alice, demo_models):
    generation = submit(alice[0], demo_models["sd"], width=512, height=512, steps=20)
    GenerationRequest.objects.filter(pk=generation.pk).update(status=GenerationRequest.Status.FAULTED)
    Job.objects.filter(request=generation).update(status=Job.Status.FAULTED)
    client.force_login(alice[0])
    html = client.get(f"/requests/{generation.id}/status").content.decode()
    assert 'data-final="1"' in html
    assert "This request failed" in html
    assert 'id="cancel-request"' not in html
    assert 'id="queue-position"' not in html


def test_the_owner_sees_what_was_charged_and_refunded_after_a_cancel(client, alice, bob, demo_models):
    from generation.models import Worker
    from generation.services import job_claim, job_complete

    from .conftest import webp_bytes

    generation = submit(alice[0], demo_models["sd"], width=512, height=512, steps=20, n=2)  # 6 kudos each
    client.force_login(alice[0])
    assert "Charged 12 kudos." in client.get(f"/requests/{generation.id}/status").content.decode()
    worker = Worker.objects.create(name="bobs-box", owner=bob[0], model_names=["stable_diffusion"])
    job = job_claim(worker=worker, models=["stable_diffusion"], max_pixels=512 * 512)
    job_complete(job=job, worker=worker, image_bytes=webp_bytes(512, 512, (10, 20, 30)))

    response = client.post(f"/requests/{generation.id}/cancel", follow=True)

    html = response.content.decode()
    assert "Cancelled 1 image that had not started; refunded 6 kudos." in html  # the flash message
    assert "Charged 12 kudos, refunded 6 (1 image cancelled)." in html
    # Another user viewing a shared request does not see the requester's money.
    GenerationRequest.objects.filter(pk=generation.pk).update(shared=True)
    client.force_login(bob[0])
    assert 'id="request-kudos"' not in client.get(f"/requests/{generation.id}").content.decode()


def test_cancelling_what_already_started_claims_no_refund(client, alice, bob, demo_models):
    from generation.models import Worker
    from generation.services import job_claim

    generation = submit(alice[0], demo_models["sd"], width=512, height=512, steps=20)
    worker = Worker.objects.create(name="bobs-box", owner=bob[0], model_names=["stable_diffusion"])
    job_claim(worker=worker, models=["stable_diffusion"], max_pixels=512 * 512)
    client.force_login(alice[0])
    html = client.post(f"/requests/{generation.id}/cancel", follow=True).content.decode()
    assert "Nothing was waiting to be cancelled, so nothing was refunded." in html
    assert "1 image already being made will finish and stay paid." in html
    assert "Charged 6 kudos." in html
    assert "refunded" not in html.split('id="request-kudos"')[1].split("</p>")[0]


def test_a_faulted_request_shows_the_refund_of_the_images_not_made(client, alice, bob, demo_models, settings):
    from generation.models import Worker
    from generation.services import job_claim, job_fail

    settings.HORDE_MAX_JOB_ATTEMPTS = 1
    generation = submit(alice[0], demo_models["sd"], width=512, height=512, steps=20, n=2)
    worker = Worker.objects.create(name="bobs-box", owner=bob[0], model_names=["stable_diffusion"])
    job_fail(job=job_claim(worker=worker, models=["stable_diffusion"], max_pixels=512 * 512), worker=worker, reason="x")
    client.force_login(alice[0])
    html = client.get(f"/requests/{generation.id}/status").content.decode()
    assert "This request failed." in html
    assert "Charged 12 kudos, refunded 12 (2 images not made)." in html


def test_the_kudos_history_says_what_each_charge_and_refund_was_for(client, alice, demo_models):
    from generation.services import request_cancel

    generation = submit(alice[0], demo_models["sd"], width=512, height=512, steps=20)
    request_cancel(request=generation, user=alice[0])
    client.force_login(alice[0])
    html = client.get("/kudos/").content.decode()
    short = str(generation.id)[:8]
    assert f"Charged for image 1 of 1, request {short}" in html
    assert f"Refunded image 1 of 1, request {short}: cancelled before it was made" in html
