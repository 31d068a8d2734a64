"""GET /api/v2/users: registered users, 25 a page, sorted by kudos or age (the AI Horde's list)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import User

pytestmark = pytest.mark.django_db


def names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [user["username"].split("#")[0] for user in response.json()]


def test_users_come_richest_first_without_the_anonymous_user(api_client, make_user):
    make_user("poor", kudos=5)
    make_user("rich", kudos=500)
    make_user("nothing")
    listed = names(api_client.get("/api/v2/users"))
    assert listed == ["rich", "poor", "nothing"]
    assert "Anonymous" not in listed


def test_sort_by_age_lists_the_oldest_first(api_client, make_user):
    make_user("young", kudos=900)
    old, _ = make_user("old")
    User.objects.filter(pk=old.pk).update(date_joined=timezone.now() - timedelta(days=30))
    assert names(api_client.get("/api/v2/users?sort=age")) == ["old", "young"]


def test_users_come_25_a_page_and_pages_do_not_overlap(api_client, make_user):
    for index in range(27):
        make_user(f"user{index:02d}")
    first = names(api_client.get("/api/v2/users?page=1"))
    second = names(api_client.get("/api/v2/users?page=2"))
    assert (len(first), len(second)) == (25, 2)
    assert not set(first) & set(second)
    assert names(api_client.get("/api/v2/users?page=3")) == []


def test_each_user_is_the_ai_hordes_user_details(api_client, alice):
    [details] = api_client.get("/api/v2/users").json()
    assert details == api_client.get(f"/api/v2/users/{alice[0].pk}").json()


@pytest.mark.parametrize(
    "query",
    ["page=0", "page=-1", "page=abc", "page=1.5", "page=²", "page=٣", "page=99999999", "sort=name", "sort=KUDOS"],
)
def test_a_bad_page_or_sort_is_a_bad_request(api_client, alice, query):
    response = api_client.get(f"/api/v2/users?{query}")
    assert response.status_code == 400
    assert response.json()["rc"] == "BadRequest"
