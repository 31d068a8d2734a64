"""Staff see the site status and the styles in the admin: every page loads."""

from __future__ import annotations

import datetime

import pytest

from generation.models import Style
from site_status.models import NewsItem, WorkerInvite
from site_status.services import modes_set
from tests.generation.conftest import SD

pytestmark = pytest.mark.django_db


def test_every_site_status_and_style_admin_page_loads_for_staff(staff_client, bob, demo_models):
    modes_set(maintenance=False, invite_only=True)
    news = NewsItem.objects.create(title="t", newspiece="n", date_published=datetime.date(2026, 11, 30))
    invite = WorkerInvite.objects.create(user=bob[0], workers=2)
    style = Style.objects.create(name="s", prompt="{p}###{np}", model_names=[SD])
    pages = [
        "/admin/site_status/hordemodes/",
        "/admin/site_status/hordemodes/1/change/",
        "/admin/site_status/newsitem/",
        "/admin/site_status/newsitem/add/",
        f"/admin/site_status/newsitem/{news.pk}/change/",
        "/admin/site_status/workerinvite/",
        f"/admin/site_status/workerinvite/{invite.pk}/change/",
        "/admin/generation/style/",
        "/admin/generation/style/add/",
        f"/admin/generation/style/{style.pk}/change/",
    ]
    for page in pages:
        assert staff_client.get(page).status_code == 200, page
    # One row of modes: no second one can be added, and it cannot be deleted.
    assert staff_client.get("/admin/site_status/hordemodes/add/").status_code == 403
    assert staff_client.get("/admin/site_status/hordemodes/1/delete/").status_code == 403


def test_a_user_without_staff_rights_sees_none_of_it(client, alice):
    client.force_login(alice[0])
    response = client.get("/admin/site_status/hordemodes/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
