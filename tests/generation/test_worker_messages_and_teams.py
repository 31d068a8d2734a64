"""Staff's messages to workers' owners (/v2/workers/messages) and teams (/v2/teams) over the API.

Alice owns the worker (and, trusted, the team), Bob is another user, staff is staff."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from generation.models import Team, Worker, WorkerMessage

from .conftest import SD

pytestmark = pytest.mark.django_db


def call(client, method, url, data=None, key=None):
    headers = {"HTTP_APIKEY": key} if key else {}
    if data is not None and method != "get":
        return getattr(client, method)(url, data=json.dumps(data), content_type="application/json", **headers)
    return getattr(client, method)(url, data=data, **headers)


@pytest.fixture
def staff(make_user):
    return make_user("staffer", is_staff=True)


@pytest.fixture
def box(demo_models, alice, make_worker):
    return make_worker(alice[0], name="alices-box", models=[SD])


def send(client, staff, worker, text="Please update your worker", expiry=12, **extra):
    body = {"worker_id": str(worker.pk), "message": text, "expiry": expiry, **extra}
    return call(client, "post", "/api/v2/workers/messages", body, staff[1])


# --- messages ---------------------------------------------------------------------------------
def test_staff_message_a_workers_owner_who_reads_it_by_list_and_by_id(api_client, staff, alice, box):
    sent = send(api_client, staff, box)
    assert sent.status_code == 200, sent.json()
    shape = {"worker_id": str(box.pk), "message": "Please update your worker", "origin": "moderator", "expiry": 12}
    assert sent.json() == shape
    message = WorkerMessage.objects.get()
    assert sent["Location"] == f"/api/v2/workers/messages/{message.pk}"
    assert call(api_client, "get", "/api/v2/workers/messages", key=alice[1]).json() == [shape]
    assert call(api_client, "get", f"/api/v2/workers/messages/{message.pk}").json() == shape
    by_worker = call(api_client, "get", "/api/v2/workers/messages", {"worker_id": str(box.pk)}, alice[1])
    assert by_worker.json() == [shape]


def test_the_workers_pops_carry_its_running_messages_with_their_ids(api_client, staff, alice, box):
    pop = {"name": "alices-box", "models": [SD], "max_pixels": 512 * 512}
    assert "messages" not in call(api_client, "post", "/api/v2/generate/pop", pop, alice[1]).json()
    send(api_client, staff, box, text="Please update")
    message = WorkerMessage.objects.get()
    shown = call(api_client, "post", "/api/v2/generate/pop", pop, alice[1]).json()["messages"]
    assert [(m["id"], m["message"], m["worker_id"]) for m in shown] == [(str(message.pk), "Please update", str(box.pk))]
    WorkerMessage.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert "messages" not in call(api_client, "post", "/api/v2/generate/pop", pop, alice[1]).json()


def test_another_owner_sees_none_of_them_and_may_not_ask_for_them(api_client, staff, alice, bob, box):
    send(api_client, staff, box)
    assert call(api_client, "get", "/api/v2/workers/messages", key=bob[1]).json() == []
    asked = call(api_client, "get", "/api/v2/workers/messages", {"user_id": str(alice[0].pk)}, bob[1])
    assert (asked.status_code, asked.json()["rc"]) == (403, "Forbidden")
    as_staff = call(api_client, "get", "/api/v2/workers/messages", {"user_id": str(alice[0].pk)}, staff[1])
    assert len(as_staff.json()) == 1


def test_expired_messages_are_listed_only_when_asked_for(api_client, staff, alice, box):
    send(api_client, staff, box, text="old")
    WorkerMessage.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    send(api_client, staff, box, text="new")
    listed = lambda validity: [  # noqa: E731
        m["message"]
        for m in call(api_client, "get", "/api/v2/workers/messages", {"validity": validity}, alice[1]).json()
    ]
    assert listed("active") == ["new"]
    assert listed("expired") == ["old"]
    assert listed("all") == ["new", "old"]
    expired = call(api_client, "get", "/api/v2/workers/messages", {"validity": "expired"}, alice[1]).json()
    assert expired[0]["expiry"] == 0


def test_only_staff_may_send_and_only_the_author_or_staff_may_delete(api_client, staff, alice, bob, box, make_user):
    refused = send(api_client, alice, box)
    assert (refused.status_code, refused.json()["rc"]) == (403, "NotModerator")
    anonymous = send(api_client, (None, "0000000000"), box)
    assert (anonymous.status_code, anonymous.json()["rc"]) == (403, "AnonForbidden")
    assert WorkerMessage.objects.count() == 0
    send(api_client, staff, box)
    message = WorkerMessage.objects.get()
    url = f"/api/v2/workers/messages/{message.pk}"
    for key in (alice[1], bob[1]):
        answer = call(api_client, "delete", url, key=key)
        assert (answer.status_code, answer.json()["rc"]) == (403, "Forbidden")
    assert call(api_client, "delete", url).json()["rc"] == "InvalidAPIKey"
    other_staff = make_user("other-staffer", is_staff=True)
    assert call(api_client, "delete", url, key=other_staff[1]).json() == {"message": "OK"}
    assert WorkerMessage.objects.count() == 0
    gone = call(api_client, "get", url)
    assert (gone.status_code, gone.json()["rc"]) == (404, "ThingNotFound")


@pytest.mark.parametrize(
    ("change", "status", "rc"),
    [
        ({"expiry": 0}, 400, "BadRequest"),
        ({"expiry": 721}, 400, "BadRequest"),
        ({"expiry": 10**30}, 400, "BadRequest"),
        ({"expiry": "12"}, 400, "BadRequest"),
        ({"expiry": 1.5}, 400, "BadRequest"),
        ({"expiry": True}, 400, "BadRequest"),
        ({"message": ""}, 400, "BadRequest"),
        ({"message": "x" * 2001}, 400, "BadRequest"),
        ({"message": 5}, 400, "BadRequest"),
        ({"message": "bad \u0000 text"}, 400, "BadRequest"),
        ({"worker_id": "not-a-uuid"}, 400, "BadRequest"),
        ({"worker_id": 5}, 400, "BadRequest"),
        ({"worker_id": "00000000-0000-0000-0000-000000000000"}, 404, "WorkerNotFound"),
        ({"origin": "o" * 101}, 400, "BadRequest"),
    ],
)
def test_a_bad_message_is_a_4xx_with_an_rc_and_stores_nothing(api_client, staff, box, change, status, rc):
    body = {"worker_id": str(box.pk), "message": "hello", "expiry": 12, **change}
    answer = call(api_client, "post", "/api/v2/workers/messages", body, staff[1])
    assert (answer.status_code, answer.json()["rc"]) == (status, rc), answer.json()
    assert WorkerMessage.objects.count() == 0


@pytest.mark.parametrize(
    "query",
    [
        {"validity": "soon"},
        {"page": "0"},
        {"page": "٣"},
        {"page": "-1"},
        {"page": "9" * 40},
        {"user_id": "abc"},
        {"user_id": "²"},
        {"worker_id": "nope"},
    ],
)
def test_a_bad_messages_query_is_400(api_client, alice, box, query):
    answer = call(api_client, "get", "/api/v2/workers/messages", query, alice[1])
    assert (answer.status_code, answer.json()["rc"]) == (400, "BadRequest"), answer.json()


@pytest.mark.parametrize("message_id", ["nope", "00000000-0000-0000-0000-000000000000", "１２"])
def test_an_unknown_message_is_404_thing_not_found(api_client, staff, demo_models, message_id):
    for method in ("get", "delete"):
        answer = call(api_client, method, f"/api/v2/workers/messages/{message_id}", key=staff[1])
        assert (answer.status_code, answer.json()["rc"]) == (404, "ThingNotFound")


# --- teams ------------------------------------------------------------------------------------
@pytest.fixture
def trusted_alice(alice):
    alice[0].trusted = True
    alice[0].save(update_fields=["trusted"])
    return alice


def test_a_trusted_user_creates_a_team_lists_it_and_edits_it(api_client, trusted_alice):
    created = call(api_client, "post", "/api/v2/teams", {"name": "Foxes", "info": "we draw foxes"}, trusted_alice[1])
    team = Team.objects.get()
    assert created.json() == {"id": str(team.pk), "name": "Foxes", "info": "we draw foxes"}
    listed = call(api_client, "get", "/api/v2/teams").json()
    assert [(t["name"], t["worker_count"], t["requests_fulfilled"], t["kudos"]) for t in listed] == [
        ("Foxes", 0, 0, 0.0)
    ]
    edited = call(api_client, "patch", f"/api/v2/teams/{team.pk}", {"name": "Red Foxes"}, trusted_alice[1])
    assert edited.json() == {"id": str(team.pk), "name": "Red Foxes", "info": "we draw foxes"}
    details = call(api_client, "get", f"/api/v2/teams/{team.pk}").json()
    assert (details["name"], details["info"], details["uptime"]) == ("Red Foxes", "we draw foxes", 0)


def test_only_trusted_users_create_teams(api_client, bob):
    refused = call(api_client, "post", "/api/v2/teams", {"name": "Bobs"}, bob[1])
    assert (refused.status_code, refused.json()["rc"]) == (403, "UntrustedTeamCreation")
    anonymous = call(api_client, "post", "/api/v2/teams", {"name": "Anons"}, "0000000000")
    assert (anonymous.status_code, anonymous.json()["rc"]) == (403, "AnonForbidden")
    assert Team.objects.count() == 0


def test_a_team_name_is_unique_in_any_case(api_client, trusted_alice):
    call(api_client, "post", "/api/v2/teams", {"name": "Foxes"}, trusted_alice[1])
    again = call(api_client, "post", "/api/v2/teams", {"name": "FOXES"}, trusted_alice[1])
    assert (again.status_code, again.json()["rc"]) == (400, "TeamNameAlreadyExists")
    other = call(api_client, "post", "/api/v2/teams", {"name": "Wolves"}, trusted_alice[1]).json()
    renamed = call(api_client, "patch", f"/api/v2/teams/{other['id']}", {"name": "foxes"}, trusted_alice[1])
    assert (renamed.status_code, renamed.json()["rc"]) == (400, "TeamNameAlreadyExists")
    assert sorted(Team.objects.values_list("name", flat=True)) == ["Foxes", "Wolves"]


def test_someone_else_may_not_edit_or_delete_a_team_but_staff_may(api_client, trusted_alice, bob, staff, box):
    team = call(api_client, "post", "/api/v2/teams", {"name": "Foxes", "info": "i"}, trusted_alice[1]).json()
    Worker.objects.filter(pk=box.pk).update(team_id=team["id"])
    url = f"/api/v2/teams/{team['id']}"
    for body, rc in (({"info": "mine"}, "NotOwner"), ({"name": "Bobs"}, "NotModerator")):
        answer = call(api_client, "patch", url, body, bob[1])
        assert (answer.status_code, answer.json()["rc"]) == (403, rc)
    refused = call(api_client, "delete", url, key=bob[1])
    assert (refused.status_code, refused.json()["rc"]) == (403, "NotModerator")
    assert Team.objects.values_list("name", "info").get() == ("Foxes", "i")
    deleted = call(api_client, "delete", url, key=staff[1])
    assert deleted.json() == {"deleted_id": team["id"], "deleted_name": "Foxes"}
    box.refresh_from_db()
    assert (Team.objects.count(), box.team_id) == (0, None)  # the worker stays, teamless
    assert call(api_client, "get", url).json()["rc"] == "TeamNotFound"


@pytest.mark.parametrize(
    ("body", "rc"),
    [
        ({}, "BadRequest"),
        ({"name": ""}, "BadRequest"),
        ({"name": "   "}, "BadRequest"),
        ({"name": 7}, "BadRequest"),
        ({"name": "n" * 101}, "BadRequest"),
        ({"name": "ok", "info": "i" * 1001}, "BadRequest"),
        ({"name": "bad\ud800name"}, "BadRequest"),
        ({"name": ["Foxes"]}, "BadRequest"),
    ],
)
def test_a_bad_team_body_is_400_and_creates_nothing(api_client, trusted_alice, body, rc):
    answer = api_client.post(
        "/api/v2/teams", data=json.dumps(body), content_type="application/json", HTTP_APIKEY=trusted_alice[1]
    )
    assert (answer.status_code, answer.json()["rc"]) == (400, rc), answer.json()
    assert Team.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "rc"), [({}, "NoTeamModSelected"), ({"name": 1}, "BadRequest"), ({"info": []}, "BadRequest")]
)
def test_a_bad_team_edit_is_400_and_changes_nothing(api_client, trusted_alice, body, rc):
    team = call(api_client, "post", "/api/v2/teams", {"name": "Foxes", "info": "i"}, trusted_alice[1]).json()
    answer = call(api_client, "patch", f"/api/v2/teams/{team['id']}", body, trusted_alice[1])
    assert (answer.status_code, answer.json()["rc"]) == (400, rc)
    assert Team.objects.values_list("name", "info").get() == ("Foxes", "i")


@pytest.mark.parametrize("team_id", ["nope", "00000000-0000-0000-0000-000000000000", "٣"])
def test_an_unknown_team_is_404_team_not_found(api_client, trusted_alice, team_id):
    for method in ("get", "patch", "delete"):
        answer = call(api_client, method, f"/api/v2/teams/{team_id}", {"info": "x"}, trusted_alice[1])
        assert (answer.status_code, answer.json()["rc"]) == (404, "TeamNotFound"), method
