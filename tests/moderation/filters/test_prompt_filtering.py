"""The prompt filters on the one submit path: refusals, the suspicion record, replacements, NSFW
terms, and the compiled filters' cache moving with every change, across processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
from django.db import connection

from generation.models import GenerationRequest
from generation.services import RequestRefused, jobs_claim, request_submit
from moderation import prompt_check
from moderation.models import AuditEntry, PromptFilter
from moderation.services import prompt_filter_add, prompt_filter_delete, prompt_filter_update
from tests.generation.conftest import SD, body

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def filters(moderator):
    def add(regex: str, filter_type: int, replacement: str = "") -> PromptFilter:
        return prompt_filter_add(by=moderator[0], regex=regex, filter_type=filter_type, replacement=replacement)[0]

    add(r"\bchild(ren)?\b", 10)
    add(r"\bnude\b", 11)
    return add


def refused(user, prompt: str, **extra) -> RequestRefused:
    with pytest.raises(RequestRefused) as caught:
        request_submit(user=user, body=body(prompt=prompt, **extra))
    return caught.value


def test_one_suspicion_type_passes(demo_models, alice, filters):
    assert request_submit(user=alice[0], body=body(prompt="a nude statue")).request is not None


def test_two_suspicion_types_refuse_the_request_and_flag_its_user(demo_models, alice, filters):
    error = refused(alice[0], "nude children")
    assert (error.status_code, error.rc) == (400, "CorruptPrompt")
    assert not GenerationRequest.objects.exists()
    alice[0].refresh_from_db()
    assert alice[0].prompt_suspicion == 1
    entry = AuditEntry.objects.get(action="prompt_refused")
    assert entry.target_id == str(alice[0].pk) and entry.actor is None
    assert entry.details["matches"] == ["children", "nude"]


def test_the_api_answers_corrupt_prompt(demo_models, alice, filters, call):
    response = call("post", "/api/v2/generate/async", alice[1], body(prompt="NUDE child"))
    assert response.status_code == 400 and response.json()["rc"] == "CorruptPrompt"


def test_a_moderator_is_refused_but_not_counted(demo_models, moderator, filters):
    assert refused(moderator[0], "nude child").rc == "CorruptPrompt"
    moderator[0].refresh_from_db()
    assert moderator[0].prompt_suspicion == 0
    assert not AuditEntry.objects.filter(action="prompt_refused").exists()


def test_replacement_filters_rewrite_a_suspicious_prompt_instead(demo_models, alice, filters):
    filters(r"\bchild(ren)?\b", 20, replacement="adults")
    made = request_submit(user=alice[0], body=body(prompt="Nude children ### blurry")).request
    assert made.prompt == "nude adults ### blurry"
    alice[0].refresh_from_db()
    assert alice[0].prompt_suspicion == 0
    # The requester may opt out of replacements (as on the AI Horde): then it is refused.
    assert refused(alice[0], "nude children", replacement_filter=False).rc == "CorruptPrompt"


def test_a_replacement_that_leaves_it_suspicious_does_not_rescue_it(demo_models, alice, filters):
    filters(r"\bstatue\b", 20, replacement="sculpture")
    assert refused(alice[0], "nude child statue").rc == "CorruptPrompt"


def test_an_nsfw_term_marks_the_request_and_only_nsfw_workers_take_it(demo_models, alice, bob, filters, make_worker):
    filters(r"\bboudoir\b", 21)
    result = request_submit(user=alice[0], body=body(prompt="a boudoir portrait"))
    assert result.request.nsfw is True
    assert [warning["code"] for warning in result.warnings] == ["MarkedNSFW"]
    plain = request_submit(user=alice[0], body=body(prompt="a portrait")).request
    assert plain.nsfw is False
    sfw = make_worker(bob[0], name="sfw", nsfw=False)
    nsfw = make_worker(bob[0], name="nsfw", nsfw=True)
    taken = jobs_claim(worker=sfw, models=[SD], max_pixels=2048 * 2048, amount=1)
    assert [job.request_id for job in taken] == [plain.pk]
    assert jobs_claim(worker=sfw, models=[SD], max_pixels=2048 * 2048, amount=1) == []
    taken = jobs_claim(worker=nsfw, models=[SD], max_pixels=2048 * 2048, amount=1)
    assert [job.request_id for job in taken] == [result.request.pk]


def test_every_change_reaches_the_checker_at_once(demo_models, alice, filters, moderator):
    assert prompt_check.prompt_suspicion("nude child")[0] == 2
    extra = prompt_filter_add(by=moderator[0], regex=r"\bsecret\b", filter_type=11)[0]
    assert prompt_check.prompt_suspicion("secret child")[0] == 2
    prompt_filter_update(prompt_filter=extra, by=moderator[0], changes={"regex": r"\bhidden\b"})
    assert prompt_check.prompt_suspicion("secret child")[0] == 1
    assert prompt_check.prompt_suspicion("hidden child")[0] == 2
    prompt_filter_delete(prompt_filter=extra, by=moderator[0])
    assert prompt_check.prompt_suspicion("hidden child")[0] == 1


def test_a_change_made_in_another_process_reaches_this_one(demo_models, alice, filters):
    compiled = prompt_check.compiled_filters()
    assert prompt_check.compiled_filters() is compiled  # cached: no recompile while nothing changed
    assert prompt_check.prompt_suspicion("nude ghost")[0] == 1
    script = (
        "from accounts.models import User; from moderation.services import prompt_filter_add;"
        "prompt_filter_add(by=User.objects.get(username='molly'), regex=r'\\bghost\\b', filter_type=10)"
    )
    env = {**os.environ, "DATABASE_URL": _database_url()}
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    time.sleep(prompt_check.VERSION_CHECK_SECONDS)  # how stale another process may be
    assert prompt_check.prompt_suspicion("nude ghost")[0] == 2
    assert prompt_check.compiled_filters() is not compiled


def _database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def test_no_filters_means_no_change(demo_models, alice):
    made = request_submit(user=alice[0], body=body(prompt="Anything, at all")).request
    assert made.prompt == "Anything, at all"
    assert json.dumps(prompt_check.prompt_suspicion("anything")) == "[0, []]"
