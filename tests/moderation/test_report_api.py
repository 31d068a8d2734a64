"""POST /api/v2/images/{id}/report: a signed-in user reports an image they can see, once."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from moderation.models import Report

pytestmark = pytest.mark.django_db


def report(api_client, key, image_id, body):
    return api_client.post(f"/api/v2/images/{image_id}/report", body, format="json", HTTP_APIKEY=key)


def test_the_first_report_is_received_and_a_second_one_adds_nothing(api_client, bob, shared_pair):
    image = shared_pair.images.first()
    first = report(api_client, bob[1], image.id, {"reason": "abuse", "note": "  targets a real person  "})
    assert first.status_code == 201, first.json()
    assert first.json()["created"] is True and "received" in first.json()["message"]
    again = report(api_client, bob[1], image.id, {"reason": "illegal"})
    assert again.status_code == 200
    assert again.json() == {"id": first.json()["id"], "created": False, "message": again.json()["message"]}
    assert "already reported" in again.json()["message"]
    stored = Report.objects.get()
    assert (stored.reporter_id, stored.reason, stored.note, stored.status) == (
        bob[0].pk,
        "abuse",
        "targets a real person",
        "open",
    )


def test_the_database_refuses_a_second_report_by_the_same_user(bob, shared_pair):
    image = shared_pair.images.first()
    Report.objects.create(image=image, reporter=bob[0], reason="other")
    with pytest.raises(IntegrityError), transaction.atomic():
        Report.objects.create(image=image, reporter=bob[0], reason="abuse")


def test_two_users_reporting_the_same_image_make_two_reports(api_client, bob, charlie, shared_pair):
    image = shared_pair.images.first()
    assert report(api_client, bob[1], image.id, {"reason": "abuse"}).status_code == 201
    assert report(api_client, charlie[1], image.id, {"reason": "sexual_not_nsfw"}).status_code == 201
    assert Report.objects.filter(image=image).count() == 2


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"reason": "ugly"},
        {"reason": 1},
        {"reason": "abuse", "note": 5},
        {"reason": "abuse", "note": "x" * 1001},
        {"reason": "abuse", "note": "a\u0000b"},
        {"reason": ["abuse"]},
    ],
)
def test_bad_input_is_refused_and_adds_nothing(api_client, bob, shared_pair, body):
    response = report(api_client, bob[1], shared_pair.images.first().id, body)
    assert response.status_code == 400, response.json()
    assert response.json()["rc"] == "BadRequest"
    assert not Report.objects.exists()


def test_a_lone_surrogate_in_the_note_is_refused(api_client, bob, shared_pair):
    image = shared_pair.images.first()
    response = api_client.post(
        f"/api/v2/images/{image.id}/report",
        b'{"reason": "other", "note": "\\ud800"}',
        content_type="application/json",
        HTTP_APIKEY=bob[1],
    )
    assert response.status_code == 400 and response.json()["rc"] == "BadRequest"
    assert not Report.objects.exists()


def test_without_a_key_it_is_401_and_with_the_anonymous_key_403(api_client, shared_pair):
    image = shared_pair.images.first()
    assert report(api_client, "", image.id, {"reason": "abuse"}).status_code == 401
    anonymous = report(api_client, "0000000000", image.id, {"reason": "abuse"})
    assert anonymous.status_code == 403 and anonymous.json()["rc"] == "AnonForbidden"
    assert not Report.objects.exists()


def test_an_image_one_cannot_see_is_not_found(api_client, alice, bob, make_pair):
    private = make_pair(alice[0], shared=False).images.first()
    for image_id in (private.id, "not-a-uuid", "00000000-0000-0000-0000-000000000000", "٣"):
        response = report(api_client, bob[1], image_id, {"reason": "abuse"})
        assert response.status_code == 404, image_id
        assert response.json()["rc"] in {"ImageNotFound", "NotFound"}
    # The owner can report their own private image.
    assert report(api_client, alice[1], private.id, {"reason": "other"}).status_code == 201


def test_a_hidden_image_cannot_be_reported(api_client, bob, shared_pair):
    image = shared_pair.images.first()
    shared_pair.images.filter(pk=image.pk).update(hidden_at="2026-01-01T00:00:00Z")
    response = report(api_client, bob[1], image.id, {"reason": "abuse"})
    assert response.status_code == 404 and response.json()["rc"] == "ImageNotFound"


def test_the_page_session_needs_its_csrf_token(client, bob, shared_pair):
    from django.test import Client

    image = shared_pair.images.first()
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(bob[0])
    refused = browser.post(f"/api/v2/images/{image.id}/report", {"reason": "abuse"}, content_type="application/json")
    assert refused.status_code == 403
    assert not Report.objects.exists()
    browser.get("/gallery")  # sets the CSRF cookie, as the page does
    token = browser.cookies["csrftoken"].value
    taken = browser.post(
        f"/api/v2/images/{image.id}/report",
        {"reason": "abuse"},
        content_type="application/json",
        HTTP_X_CSRFTOKEN=token,
    )
    assert taken.status_code == 201
    assert Report.objects.get().reporter_id == bob[0].pk
