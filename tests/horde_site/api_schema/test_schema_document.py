"""The OpenAPI document at /api/schema describes every operation: bodies in and out, error statuses."""

from __future__ import annotations

import pytest
from django.core import checks

pytestmark = pytest.mark.django_db

# Every operation, with the statuses it answers (each one's view and services were read for these;
# the fuzz in test_fuzz_live_schema.py checks that no other status comes back).
OPERATIONS = {
    ("get", "/api/v2/find_user"): ("find_user", {200, 401}),
    ("get", "/api/v2/users/{user_id}"): ("user_details", {200, 401, 404}),
    ("get", "/api/v2/users"): ("users_list", {200, 400}),
    ("post", "/api/v2/kudos/transfer"): ("kudos_transfer", {200, 400, 401, 415, 429}),
    ("post", "/api/v2/kudos/award"): ("kudos_award", {200, 400, 401, 403, 415}),
    ("put", "/api/v2/sharedkeys"): ("sharedkey_create", {200, 400, 401, 403, 415, 429}),
    ("get", "/api/v2/sharedkeys/{sharedkey_id}"): ("sharedkey_details", {200, 401}),
    ("patch", "/api/v2/sharedkeys/{sharedkey_id}"): ("sharedkey_modify", {200, 400, 401, 403, 415}),
    ("delete", "/api/v2/sharedkeys/{sharedkey_id}"): ("sharedkey_delete", {200, 401, 403}),
    ("get", "/api/v2/documents/terms"): ("documents_terms", {200, 400}),
    ("get", "/api/v2/documents/privacy"): ("documents_privacy", {200, 400}),
    ("post", "/api/v2/generate/async"): ("generate_async", {200, 202, 400, 401, 403, 404, 415, 429}),
    ("get", "/api/v2/generate/check/{request_id}"): ("generate_check", {200, 404}),
    ("get", "/api/v2/generate/status/{request_id}"): ("generate_status", {200, 401, 404}),
    ("delete", "/api/v2/generate/status/{request_id}"): ("generate_cancel", {200, 401, 403, 404}),
    ("post", "/api/v2/generate/pop"): ("generate_pop", {200, 400, 401, 403, 413, 415, 429}),
    ("post", "/api/v2/generate/submit"): ("generate_submit", {200, 400, 401, 403, 404, 413, 415, 429}),
    ("get", "/api/v2/generate/pipeline/{job_id}"): ("generate_pipeline", {200, 401, 403, 404}),
    ("put", "/api/v2/generate/r2/{job_id}"): ("generate_r2_upload", {200, 400, 403, 404, 413}),
    ("get", "/api/v2/status/heartbeat"): ("status_heartbeat", {200}),
    ("get", "/api/v2/status/models"): ("status_models", {200, 400}),
    ("get", "/api/v2/status/performance"): ("status_performance", {200}),
    ("get", "/api/v2/status/news"): ("status_news", {200}),
    ("get", "/api/v2/status/modes"): ("status_modes", {200}),
    ("get", "/api/v2/stats/img/models"): ("stats_img_models", {200, 400}),
    ("get", "/api/v2/stats/img/totals"): ("stats_img_totals", {200}),
    ("get", "/api/v2/styles/image"): ("styles_image_list", {200, 400}),
    ("get", "/api/v2/styles/image/{style_id}"): ("style_image_details", {200, 404}),
    ("get", "/api/v2/styles/image_by_name/{style_name}"): ("style_image_by_name", {200, 404}),
    ("get", "/api/v2/workers"): ("workers_list", {200, 400}),
    ("get", "/api/v2/workers/{worker_id}"): ("worker_details", {200, 404}),
    ("put", "/api/v2/workers/{worker_id}"): ("worker_modify", {200, 400, 401, 403, 404, 415, 429}),
    ("delete", "/api/v2/workers/{worker_id}"): ("worker_delete", {200, 401, 403, 404}),
    ("get", "/api/v2/workers/name/{worker_name}"): ("worker_details_by_name", {200, 404}),
    ("get", "/api/v2/workers/messages"): ("worker_messages_list", {200, 400, 401, 403}),
    ("post", "/api/v2/workers/messages"): ("worker_message_create", {200, 400, 401, 403, 404, 415}),
    ("get", "/api/v2/workers/messages/{message_id}"): ("worker_message_details", {200, 404}),
    ("delete", "/api/v2/workers/messages/{message_id}"): ("worker_message_delete", {200, 401, 403, 404}),
    ("get", "/api/v2/teams"): ("teams_list", {200}),
    ("post", "/api/v2/teams"): ("team_create", {200, 400, 401, 403, 415, 429}),
    ("get", "/api/v2/teams/{team_id}"): ("team_details", {200, 404}),
    ("patch", "/api/v2/teams/{team_id}"): ("team_modify", {200, 400, 401, 403, 404, 415, 429}),
    ("delete", "/api/v2/teams/{team_id}"): ("team_delete", {200, 401, 403, 404}),
    ("post", "/api/v2/generate/rate/{request_id}"): ("rate_own_pair", {200, 400, 401, 403, 404, 415, 429}),
    ("get", "/api/v2/generate/rate/{request_id}/reveal"): ("rate_own_pair_reveal", {200, 400, 401, 403, 404}),
    ("get", "/api/v2/ratings/arena/next"): ("arena_next", {200, 401, 403, 429}),
    ("post", "/api/v2/ratings/arena/{assignment_id}"): ("arena_vote", {200, 400, 401, 403, 404, 415, 429}),
    ("post", "/api/v2/ratings/arena/{assignment_id}/skip"): ("arena_skip", {200, 400, 401, 403, 404}),
    ("post", "/api/v2/ratings/arena/{assignment_id}/undo"): ("arena_undo", {200, 400, 401, 403, 404}),
    ("get", "/api/v2/ratings/leaderboard"): ("ratings_leaderboard", {200}),
    ("post", "/api/v2/images/{image_id}/report"): ("image_report", {200, 201, 400, 401, 403, 404, 415}),
    ("get", "/api/v2/filters"): ("filters_list", {200, 400, 401, 403}),
    ("put", "/api/v2/filters"): ("filters_add", {200, 201, 400, 401, 403, 415}),
    ("post", "/api/v2/filters"): ("filters_check", {200, 400, 401, 403, 415}),
    ("get", "/api/v2/filters/{filter_id}"): ("filter_details", {200, 401, 403, 404}),
    ("patch", "/api/v2/filters/{filter_id}"): ("filter_change", {200, 400, 401, 403, 404, 415}),
    ("delete", "/api/v2/filters/{filter_id}"): ("filter_delete", {200, 401, 403, 404}),
    # The ratings service (v1) for single images.
    ("get", "/api/v1/rating/new"): ("v1_rating_new", {200, 400, 401, 403, 404}),
    ("post", "/api/v1/rating/{image_id}"): ("v1_rating_submit", {200, 400, 401, 403, 404, 415, 429}),
    ("get", "/api/v1/image/ratings/{image_id}"): ("v1_image_ratings", {200, 401, 403, 404}),
    ("get", "/api/v1/user/ratings/"): ("v1_user_ratings", {200, 400, 401, 403, 404}),
    ("get", "/api/v1/user/validate/{user_id}/"): ("v1_user_validate", {200, 400, 401, 403, 404}),
    ("get", "/api/v1/user/check/{user_id}/"): ("v1_user_check", {200, 400, 401, 403, 404}),
}
TAKES_A_JSON_BODY = {
    "kudos_transfer",
    "kudos_award",
    "sharedkey_create",
    "sharedkey_modify",
    "generate_async",
    "generate_pop",
    "generate_submit",
    "rate_own_pair",
    "arena_vote",
    "v1_rating_submit",
    "image_report",
    "filters_add",
    "filters_check",
    "filter_change",
    "worker_modify",
    "worker_message_create",
    "team_create",
    "team_modify",
}
# Answers with no body: the R2 upload's 200 is empty, as the object store's is.
EMPTY_ANSWERS = {"generate_r2_upload"}


@pytest.fixture
def document(client):
    response = client.get("/api/schema?format=json")
    assert response.status_code == 200
    return response.json()


def _operations(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                yield (method, path), operation


def _resolve(document, schema):
    """The schema a reference, or a nullable wrapper (allOf/oneOf with null), stands for."""
    while True:
        if "$ref" in schema:
            schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
        elif "allOf" in schema or "oneOf" in schema:
            options = [_resolve(document, option) for option in schema.get("allOf") or schema["oneOf"]]
            schema = next(option for option in options if option.get("enum") != [None])
        else:
            return schema


def test_the_schema_lists_every_operation_once_with_its_own_id(document):
    found = {key: operation["operationId"] for key, operation in _operations(document)}
    assert found == {key: operation_id for key, (operation_id, _) in OPERATIONS.items()}
    assert len(set(found.values())) == len(found)


def test_every_operation_documents_exactly_the_statuses_it_answers(document):
    for key, operation in _operations(document):
        operation_id, statuses = OPERATIONS[key]
        assert {int(code) for code in operation["responses"]} == statuses, operation_id


def test_every_operation_that_takes_a_body_documents_it(document):
    for _key, operation in _operations(document):
        operation_id = operation["operationId"]
        if operation_id in TAKES_A_JSON_BODY:
            body = operation["requestBody"]["content"]["application/json"]["schema"]
            assert _resolve(document, body)["properties"], operation_id
        elif operation_id == "generate_r2_upload":
            assert operation["requestBody"]["content"]["image/webp"]["schema"]["format"] == "binary"
        else:
            assert "requestBody" not in operation, operation_id


def test_every_success_documents_its_body_and_every_error_the_error_body(document):
    for _key, operation in _operations(document):
        operation_id = operation["operationId"]
        for code, response in operation["responses"].items():
            if int(code) >= 400:
                schema = _resolve(document, response["content"]["application/json"]["schema"])
                assert set(schema["required"]) == {"message", "rc"}, (operation_id, code)
                assert set(schema["properties"]) == {"message", "rc", "errors"}
            elif operation_id in EMPTY_ANSWERS:
                assert "content" not in response
            else:
                schema = _resolve(document, response["content"]["application/json"]["schema"])
                assert schema.get("properties") or schema.get("items"), (operation_id, code)


def test_async_is_documented_as_202_and_a_dry_run_as_200(document):
    responses = document["paths"]["/api/v2/generate/async"]["post"]["responses"]
    queued = _resolve(document, responses["202"]["content"]["application/json"]["schema"])
    priced = _resolve(document, responses["200"]["content"]["application/json"]["schema"])
    assert set(queued["required"]) == {"id", "kudos"} and "warnings" in queued["properties"]
    assert set(priced["properties"]) == {"kudos"}


def test_cancel_is_documented_as_200_with_the_status(document):
    responses = document["paths"]["/api/v2/generate/status/{request_id}"]["delete"]["responses"]
    assert "204" not in responses
    cancelled = _resolve(document, responses["200"]["content"]["application/json"]["schema"])
    assert {"generations", "finished", "kudos"} <= set(cancelled["required"])
    assert "message" not in cancelled["properties"]  # no extra field: strict clients refuse them


def test_the_async_body_is_the_ai_hordes_shape(document):
    body = _resolve(
        document,
        document["paths"]["/api/v2/generate/async"]["post"]["requestBody"]["content"]["application/json"]["schema"],
    )
    assert body["required"] == ["prompt"]
    params = _resolve(document, body["properties"]["params"])
    assert {"width", "height", "steps", "n", "seed", "sampler_name", "cfg_scale", "karras"} <= set(params["properties"])
    assert "k_euler" in _resolve(document, params["properties"]["sampler_name"])["enum"]


def test_the_apikey_operations_say_so_and_the_public_ones_do_not(document):
    for _key, operation in _operations(document):
        secured = any("apikey" in option for option in operation.get("security", []))
        assert secured == ("401" in operation["responses"]), operation["operationId"]


def test_the_deploy_checks_raise_no_schema_warnings():
    found = checks.run_checks(include_deployment_checks=True)
    assert [message.msg for message in found if message.id and message.id.startswith("drf_spectacular")] == []
