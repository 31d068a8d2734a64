"""The pages offer the report dialog to signed-in users: the gallery, the arena, the request page."""

from __future__ import annotations

import pytest
from django.test import Client

from moderation.models import Report

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_gallery_and_the_request_page_offer_a_report_button_per_image(bob, shared_pair):
    ids = [str(image.id) for image in shared_pair.images.all()]
    for url in ("/gallery", f"/requests/{shared_pair.id}"):
        html = logged_in(bob[0]).get(url).content.decode()
        for image_id in ids:
            assert f'data-report-image="{image_id}"' in html, url
        assert 'id="report-dialog"' in html and "moderation/report.js" in html
        for value, label in Report.Reason.choices:
            assert f'value="{value}"' in html and label in html


def test_anonymous_visitors_of_the_gallery_get_no_report_button(shared_pair):
    html = Client().get("/gallery").content.decode()
    assert "data-report-image" not in html and "report-dialog" not in html


def test_the_arena_has_a_report_button_under_each_image(bob):
    html = logged_in(bob[0]).get("/ratings/arena").content.decode()
    assert 'id="left-report"' in html and 'id="right-report"' in html and 'id="report-dialog"' in html
