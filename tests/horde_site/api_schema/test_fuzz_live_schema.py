"""schemathesis over the live schema: every operation, bounded and seeded, against a real server.

Each operation gets a fixed number of generated requests (hypothesis derandomized, no example
database, so a run is the same run every time), sent with a real apikey: Alice's, or for the
worker operations Bob's (trusted, so his pops are given jobs). Every answer must be no server
error, a documented status, the documented content type and a body that matches its schema.
Failures are collected, not raised, so hypothesis does not spend the budget shrinking them.
A second, negative pass sends input that breaks the schema: it must be refused with a
documented 4xx and the error body, never taken and never a server error.
"""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from schemathesis.core.failures import FailureGroup

from .test_schema_document import OPERATIONS

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

EXAMPLES = 30
# The operations the issue names get more: they are what a schema fuzzer must reach.
EXAMPLES_OF = {"generate_async": 120, "generate_pop": 60, "generate_submit": 60}
# The moderators' filter operations answer Alice's key with NotModerator (tests/moderation
# covers them with a moderator's): a few calls each keep the run inside its budget.
EXAMPLES_OF.update(
    dict.fromkeys(
        ("filters_list", "filters_add", "filters_check", "filter_details", "filter_change", "filter_delete"), 8
    )
)
WORKER_OPERATIONS = {"generate_pop", "generate_submit", "generate_pipeline"}


def _checks():
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    return [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


# Alice's shared key, set by each test from `people` (the database holds only its hash).
SHARED_KEY: dict[str, str] = {}


def _real_ids() -> dict[str, Any]:
    """Values that name something real now: Alice's latest request, a job Bob's worker holds,
    a worker, a user, a model with waiting jobs."""
    from generation.models import GenerationRequest, Job, Worker

    def first(queryset) -> str | None:
        found = queryset.values_list("pk", flat=True).first()
        return str(found) if found else None

    return {
        "bob": "bob",
        "models": ["stable_diffusion"],
        "request": first(GenerationRequest.objects.filter(user__username="alice").order_by("-created_at")),
        "job": first(Job.objects.filter(status=Job.Status.CLAIMED, worker__owner__username="bob")),
        "worker": first(Worker.objects.order_by("name")),
        "sharedkey": SHARED_KEY.get("key"),
    }


# Where a generated id is swapped for a real one (every other case), so the fuzz reaches past
# "not found": (operation, where, name, which real id).
RETARGETS = {
    "generate_check": ("path", "request_id", "request"),
    "generate_status": ("path", "request_id", "request"),
    "generate_cancel": ("path", "request_id", "request"),
    "rate_own_pair": ("path", "request_id", "request"),
    "generate_pipeline": ("path", "job_id", "job"),
    "generate_submit": ("body", "id", "job"),
    "worker_details": ("path", "worker_id", "worker"),
    "worker_modify": ("path", "worker_id", "worker"),
    "worker_delete": ("path", "worker_id", "worker"),
    "worker_message_create": ("body", "worker_id", "worker"),
    "generate_pop": ("body", "models", "models"),
    "kudos_transfer": ("body", "username", "bob"),
    # Not the delete: the key must outlive the fuzz of the other two.
    "sharedkey_details": ("path", "sharedkey_id", "sharedkey"),
    "sharedkey_modify": ("path", "sharedkey_id", "sharedkey"),
}
# Requests are made and claimed first, so the later operations find real ones.
FIRST = ("generate_async", "generate_pop")


def _retarget(case, operation_id: str, count: int) -> None:
    if operation_id not in RETARGETS or count % 2:
        return
    where, name, which = RETARGETS[operation_id]
    real = _real_ids()[which]
    if real is None:
        return
    if where == "path":
        case.path_parameters[name] = real
    elif isinstance(case.body, dict):
        case.body[name] = real


def _id(operation) -> str:
    return operation.definition.raw["operationId"]


def _fuzz(
    operation, *, base_url: str, apikey: str, examples: int, checks, failures: list[str], mode=None
) -> Counter[int]:
    """Send `examples` generated requests to one operation; the statuses it answered."""
    operation_id = _id(operation)
    statuses: Counter[int] = Counter()

    @hypothesis_settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(mode) if mode else operation.as_strategy())
    def exercise(case):
        _retarget(case, operation_id, sum(statuses.values()))
        response = case.call(base_url=base_url, headers={"apikey": apikey}, timeout=30)
        statuses[response.status_code] += 1
        try:
            case.validate_response(response, checks=checks)
        except (AssertionError, FailureGroup) as failure:  # naming what broke
            failures.append(f"{operation_id} -> {response.status_code}: {str(failure)[:1500]}")

    exercise()
    return statuses


def test_a_seeded_fuzz_of_every_operation_finds_no_server_error_and_no_schema_violation(
    horde_server, people, live_schema, quiet_request_log
):
    checks = _checks()
    SHARED_KEY["key"] = people["alice_sharedkey"][1]
    statuses: dict[str, Counter[int]] = {}
    failures: list[str] = []
    started = time.monotonic()
    operations = [result.ok() for result in live_schema.get_all_operations()]
    operations.sort(key=lambda operation: FIRST.index(_id(operation)) if _id(operation) in FIRST else len(FIRST))
    for operation in operations:
        operation_id = _id(operation)
        statuses[operation_id] = _fuzz(
            operation,
            base_url=horde_server,
            apikey=people["bob" if operation_id in WORKER_OPERATIONS else "alice"][1],
            examples=EXAMPLES_OF.get(operation_id, EXAMPLES),
            checks=checks,
            failures=failures,
        )
    elapsed = time.monotonic() - started

    calls = {operation_id: sum(counted.values()) for operation_id, counted in statuses.items()}
    accepted = {
        operation_id: sum(n for status, n in counted.items() if status < 400)
        for operation_id, counted in statuses.items()
    }
    print(f"\nschemathesis: {sum(calls.values())} calls in {elapsed:.1f}s")
    for operation_id, counted in sorted(statuses.items()):
        print(f"  {operation_id}: {dict(sorted(counted.items()))}")
    assert failures == [], "\n\n".join(failures[:10])
    # Every documented operation was reached (the list and its statuses: test_schema_document).
    assert set(calls) == {operation_id for operation_id, _ in OPERATIONS.values()}, sorted(calls)
    for operation_id in ("generate_async", "generate_pop", "generate_submit"):
        assert calls[operation_id] > 0, operation_id
    # Not only refusals: the fuzzer's bodies were taken, queued and served.
    assert accepted["generate_async"] > 0 and accepted["generate_pop"] > 0, accepted
    # Aimed at Alice's real shared key: read and edited, not only refused.
    assert accepted["sharedkey_details"] > 0 and accepted["sharedkey_modify"] > 0, accepted


def test_the_checks_refuse_a_server_error_an_undocumented_status_and_a_body_off_the_schema(
    horde_server, people, live_schema
):
    import requests

    case = live_schema["/api/v2/status/heartbeat"]["GET"].Case()
    answer = requests.get(f"{horde_server}/api/v2/status/heartbeat", timeout=30)
    case.validate_response(answer, checks=_checks())  # the real answer passes

    def refused(response) -> bool:
        try:
            case.validate_response(response, checks=_checks())
        except (AssertionError, FailureGroup):
            return True
        return False

    answer._content = b'{"message": 1, "version": "2.0.0"}'
    assert refused(answer)
    answer._content = b'{"message": "OK", "version": "2.0.0"}'
    assert not refused(answer)
    answer.status_code = 418
    assert refused(answer)
    answer.status_code = 500
    assert refused(answer)


def test_a_seeded_fuzz_of_invalid_input_gets_documented_refusals_and_never_a_server_error(
    horde_server, people, live_schema, quiet_request_log
):
    from hypothesis.errors import Unsatisfiable
    from schemathesis import GenerationMode

    checks = _checks()
    SHARED_KEY["key"] = people["alice_sharedkey"][1]
    statuses: dict[str, Counter[int]] = {}
    failures: list[str] = []
    for result in live_schema.get_all_operations():
        operation = result.ok()
        operation_id = _id(operation)
        # Unsatisfiable: nothing the operation takes can break its schema (no input, or free text only).
        with contextlib.suppress(Unsatisfiable):
            statuses[operation_id] = _fuzz(
                operation,
                base_url=horde_server,
                apikey=people["bob" if operation_id in WORKER_OPERATIONS else "alice"][1],
                examples=15,
                checks=checks,
                failures=failures,
                mode=GenerationMode.NEGATIVE,
            )
    assert failures == [], "\n\n".join(failures[:10])
    for operation_id in (
        "generate_async",
        "generate_pop",
        "generate_submit",
        "kudos_transfer",
        "arena_vote",
        "sharedkey_modify",
    ):
        refused = statuses[operation_id]
        assert refused[400] > 0 and sum(n for status, n in refused.items() if status < 400) == 0, (
            operation_id,
            refused,
        )
