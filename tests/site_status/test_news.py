"""News: staff write it in the admin; /api/v2/status/news serves what is published, newest first."""

from __future__ import annotations

import datetime

import pytest

from site_status.models import NewsItem

pytestmark = pytest.mark.django_db


def news_form(**overrides):
    data = {
        "title": "Workers wanted",
        "newspiece": "Run a worker for the SDXL beta.",
        "importance": "Workers",
        "tags": '["workers", "sdxl"]',
        "more_info_urls": '["https://example.org/workers"]',
        "date_published": "2026-11-30",
        "published": "on",
    }
    data.update(overrides)
    return data


def test_staff_write_news_in_the_admin_and_the_api_serves_it(staff_client, api_client):
    assert api_client.get("/api/v2/status/news").json() == []
    response = staff_client.post("/admin/site_status/newsitem/add/", news_form())
    assert response.status_code == 302, response.content[:800]
    assert api_client.get("/api/v2/status/news").json() == [
        {
            "date_published": "2026-11-30",
            "newspiece": "Run a worker for the SDXL beta.",
            "importance": "Workers",
            "tags": ["workers", "sdxl"],
            "title": "Workers wanted",
            "more_info_urls": ["https://example.org/workers"],
        }
    ]


@pytest.mark.parametrize(
    "field, value",
    [
        ("tags", '"workers"'),
        ("tags", "[1, 2]"),
        ("more_info_urls", '["javascript:alert(1)"]'),
        ("importance", "Gossip"),
    ],
)
def test_the_admin_refuses_news_that_is_not_the_ai_hordes_shape(staff_client, field, value):
    response = staff_client.post("/admin/site_status/newsitem/add/", news_form(**{field: value}))
    assert response.status_code == 200  # the form again, with its error
    assert not NewsItem.objects.exists()


def test_news_is_newest_first_and_unpublished_news_is_not_served(api_client):
    for day, title, published in ((1, "old", True), (3, "hidden", False), (2, "new", True)):
        NewsItem.objects.create(
            title=title, newspiece="n", date_published=datetime.date(2026, 11, day), published=published
        )
    assert [item["title"] for item in api_client.get("/api/v2/status/news").json()] == ["new", "old"]


def test_the_news_endpoint_takes_no_bad_input(api_client):
    response = api_client.get("/api/v2/status/news?x=%00")
    assert (response.status_code, response.json()["rc"]) == (400, "BadRequest")


def test_the_news_is_one_query(api_client, django_assert_num_queries):
    for day in range(1, 6):
        NewsItem.objects.create(title=f"n{day}", newspiece="n", date_published=datetime.date(2026, 11, day))
    with django_assert_num_queries(1):
        assert len(api_client.get("/api/v2/status/news").json()) == 5
