from __future__ import annotations

import pytest

from generation.models import GenerationRequest, Job
from generation.pricing import request_kudos
from generation.services import RequestRefused, request_cancel, request_submit

from .conftest import SD, SDXL, body

BETA = body(models=[SDXL], params={"width": 1024, "height": 1024})


def test_it_creates_a_request_with_one_job_per_image(demo_models, alice):
    user, _ = alice
    result = request_submit(user=user, body=body(params={"n": 3}))
    assert result.request is not None
    assert result.kudos == request_kudos(width=512, height=512, steps=20, images=3)
    jobs = list(result.request.jobs.order_by("index"))
    assert [job.index for job in jobs] == [0, 1, 2]
    assert all(job.status == Job.Status.QUEUED for job in jobs)
    assert {job.pipeline.name for job in jobs} == {"sd15-base"}
    assert result.warnings == []


def test_a_dry_run_prices_and_creates_nothing(demo_models, alice):
    user, _ = alice
    result = request_submit(user=user, body=body(dry_run=True, params={"n": 2}))
    assert result.request is None
    assert result.kudos == request_kudos(width=512, height=512, steps=20, images=2)
    assert GenerationRequest.objects.count() == 0


def test_a_given_seed_is_used_and_a_missing_one_is_drawn(demo_models, alice):
    user, _ = alice
    given = request_submit(user=user, body=body(params={"seed": "1234"})).request
    assert given.jobs.get().seed == 1234
    drawn = {request_submit(user=user, body=body()).request.seed for _ in range(5)}
    assert len(drawn) > 1


@pytest.mark.parametrize(
    ("change", "rc", "field"),
    [
        ({"prompt": ""}, "MissingPrompt", "prompt"),
        ({"prompt": None}, "MissingPrompt", "prompt"),
        ({"prompt": 42}, "BadRequest", "prompt"),
        ({"prompt": "x" * 5000}, "TooLong", "prompt"),
        ({"params": {"width": 500}}, "InvalidSize", "params.width"),
        ({"params": {"height": 2048}}, "InvalidSize", "params.height"),
        ({"params": {"width": "512"}}, "BadRequest", "params.width"),
        ({"params": {"steps": 101}}, "TooManySteps", "params.steps"),
        ({"params": {"steps": 0}}, "BadRequest", "params.steps"),
        ({"params": {"n": 0}}, "BadRequest", "params.n"),
        ({"params": {"n": 11}}, "BadRequest", "params.n"),
        ({"params": {"sampler_name": "k_magic"}}, "UnsupportedSampler", "params.sampler_name"),
        ({"params": {"seed": -1}}, "BadRequest", "params.seed"),
        ({"params": {"cfg_scale": 500}}, "BadRequest", "params.cfg_scale"),
        ({"params": "big"}, "BadRequest", "params"),
        ({"models": ["no_such_model"]}, "UnsupportedModel", "models"),
        ({"models": "stable_diffusion"}, "BadRequest", "models"),
        ({"nsfw": "yes"}, "BadRequest", "nsfw"),
        ({"workers": ["not-a-uuid"]}, "BadRequest", "workers"),
        ({"source_image": "aGVsbG8="}, "BadRequest", "source_image"),
    ],
)
def test_it_refuses_bad_input_and_creates_nothing(demo_models, alice, change, rc, field):
    user, _ = alice
    data = body()
    if "params" in change and isinstance(change["params"], dict):
        data["params"].update(change.pop("params"))
    data.update(change)
    with pytest.raises(RequestRefused) as caught:
        request_submit(user=user, body=data)
    assert caught.value.status_code == 400
    assert caught.value.rc == rc
    assert caught.value.field == field
    assert GenerationRequest.objects.count() == 0
    assert Job.objects.count() == 0


def test_a_body_that_is_not_an_object_is_refused(demo_models, alice):
    with pytest.raises(RequestRefused) as caught:
        request_submit(user=alice[0], body=["prompt"])
    assert caught.value.rc == "BadRequest"


def test_the_beta_refuses_anonymous_users(demo_models, anonymous):
    with pytest.raises(RequestRefused) as caught:
        request_submit(user=anonymous, body=body(models=[SDXL], params={"width": 1024, "height": 1024}))
    assert (caught.value.status_code, caught.value.rc) == (403, "BetaAnonForbidden")
    assert GenerationRequest.objects.count() == 0


def test_the_beta_refuses_sizes_below_1024(demo_models, alice):
    with pytest.raises(RequestRefused) as caught:
        request_submit(user=alice[0], body=body(models=[SDXL], params={"width": 512, "height": 1024}))
    assert (caught.value.status_code, caught.value.rc) == (400, "InvalidSize")


def test_the_beta_always_makes_two_images_from_two_pipelines_with_one_seed(demo_models, alice):
    result = request_submit(user=alice[0], body=body(models=[SDXL], params={"width": 1024, "height": 1024, "n": 4}))
    request = result.request
    jobs = list(request.jobs.all())
    assert len(jobs) == 2
    assert len({job.pipeline_id for job in jobs}) == 2
    assert len({job.seed for job in jobs}) == 1
    assert sorted(job.position for job in jobs) == [0, 1]
    assert request.shared is True
    assert [warning["code"] for warning in result.warnings] == ["FixedImageCount"]


def test_the_beta_with_n_2_has_no_warning(demo_models, alice):
    result = request_submit(user=alice[0], body=body(models=[SDXL], params={"width": 1024, "height": 1024, "n": 2}))
    assert result.warnings == []


def test_the_beta_draws_pipelines_and_order_at_random(demo_models, alice, settings):
    from generation.models import Pipeline

    settings.HORDE_MAX_WAITING_REQUESTS = 1000  # many pairs wait at once

    model = demo_models[SDXL]
    Pipeline.objects.create(model=model, name="sdxl-lightning", version="1")
    pairs, orders = set(), set()
    for _ in range(40):
        request = request_submit(user=alice[0], body=BETA).request
        jobs = sorted(request.jobs.select_related("pipeline"), key=lambda job: job.index)
        pairs.add(frozenset(job.pipeline.name for job in jobs))
        orders.add(tuple(job.position for job in jobs))
    assert len(pairs) == 3  # every pair of the three active pipelines came up
    assert orders == {(0, 1), (1, 0)}


def test_an_inactive_pipeline_is_never_drawn(demo_models, alice):
    from generation.models import Pipeline

    model = demo_models[SDXL]
    Pipeline.objects.create(model=model, name="sdxl-retired", version="1", active=False)
    for _ in range(15):
        request = request_submit(user=alice[0], body=BETA).request
        assert "sdxl-retired" not in {job.pipeline.name for job in request.jobs.select_related("pipeline")}


def test_cancel_stops_waiting_jobs_and_keeps_the_rest(demo_models, alice, make_worker):
    from generation.services import job_claim

    user, _ = alice
    request = request_submit(user=user, body=body(params={"n": 3})).request
    worker = make_worker(user)
    claimed = job_claim(worker=worker, models=[SD], max_pixels=10**7)
    request_cancel(request=request, user=user)
    statuses = dict(request.jobs.values_list("pk", "status"))
    assert statuses.pop(claimed.pk) == Job.Status.CLAIMED
    assert set(statuses.values()) == {Job.Status.CANCELLED}


def test_only_the_requester_may_cancel(demo_models, alice, bob):
    request = request_submit(user=alice[0], body=body()).request
    with pytest.raises(RequestRefused) as caught:
        request_cancel(request=request, user=bob[0])
    assert caught.value.status_code == 403
    assert request.jobs.get().status == Job.Status.QUEUED


def test_unknown_fields_are_ignored_like_the_ai_horde_does(demo_models, alice):
    result = request_submit(user=alice[0], body=body(replacement_filter=True, params={"hires_fix": False, "foo": 1}))
    assert result.request is not None


def test_only_comparison_requests_enter_the_arena_pool(demo_models, alice):
    user, _ = alice
    plain = request_submit(user=user, body=body()).request
    pair = request_submit(user=user, body=BETA).request
    assert (plain.arena_pool, pair.arena_pool) == (False, True)
    assert (plain.arena_votes, pair.arena_votes) == (0, 0)
