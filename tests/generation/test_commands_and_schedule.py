from __future__ import annotations

import io

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from generation.models import ImageModel, Pipeline

from .conftest import SDXL


def test_the_beat_schedule_runs_registered_housekeeping_tasks():
    from horde_site.celery import app

    app.loader.import_default_modules()
    schedule = settings.CELERY_BEAT_SCHEDULE
    for name in ("generation-requeue-expired", "generation-redispatch-queued"):
        entry = schedule[name]
        assert entry["task"] in app.tasks
        assert entry["options"]["queue"] == "housekeeping"


def test_gpu_worker_refuses_an_unknown_model(demo_models, alice):
    with pytest.raises(CommandError, match="Unknown or disabled model"):
        call_command("gpu_worker", "--models", "no_such_model", "--owner", "alice", stdout=io.StringIO())


def test_gpu_worker_needs_a_registered_owner(demo_models):
    with pytest.raises(CommandError, match="--owner"):
        call_command("gpu_worker", "--all-models", "--owner", "nobody", stdout=io.StringIO())
    with pytest.raises(CommandError, match="--owner"):
        call_command("gpu_worker", "--all-models", "--owner", "Anonymous", stdout=io.StringIO())


def test_seed_demo_is_idempotent(demo_models):
    from accounts.models import User
    from kudos.selectors import user_balance

    counts = (ImageModel.objects.count(), Pipeline.objects.count())
    demo_balance = user_balance(user=User.objects.get(username="demo"))
    call_command("seed_demo", stdout=io.StringIO())
    assert (ImageModel.objects.count(), Pipeline.objects.count()) == counts
    assert counts[0] >= 2
    assert counts[1] >= 3
    assert user_balance(user=User.objects.get(username="demo")) == demo_balance == 5000


def test_seed_demo_gives_the_demo_gpu_worker_an_owner_other_than_the_demo_user(demo_models):
    from accounts.models import User
    from generation.management.commands.seed_demo import GPU_OPERATOR
    from generation.models import Worker
    from generation.services import job_claim, request_submit

    operator = User.objects.get(username=GPU_OPERATOR)
    demo = User.objects.get(username="demo")
    assert not operator.has_usable_password()
    call_command("seed_demo", stdout=io.StringIO())
    assert User.objects.filter(username=GPU_OPERATOR).count() == 1
    # The demo user's pair: not for a GPU worker of the demo user, for run.sh's (the operator's).
    request_submit(user=demo, body={"prompt": "a fox", "models": [SDXL], "params": {"width": 1024, "height": 1024}})
    args = {"models": [SDXL], "max_pixels": 1024 * 1024}
    own = Worker.objects.create(name="demo-gpu", owner=demo, kind=Worker.Kind.CELERY, model_names=[SDXL])
    assert job_claim(worker=own, **args) is None
    platform = Worker.objects.create(name="gpu", owner=operator, kind=Worker.Kind.CELERY, model_names=[SDXL])
    assert job_claim(worker=platform, **args) is not None
