"""The staff dashboard: linked from the admin index, figures from the data, query-bounded, staff only."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from generation.models import GenerationRequest, Job
from moderation.dashboard import bar_chart_svg, dashboard_figures
from moderation.models import Report
from tests.ratings.conftest import shown_pair

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_figures_count_what_happened_per_day(alice, bob, shared_pair, make_pair, worker):
    older = make_pair(alice[0])
    GenerationRequest.objects.filter(pk=older.pk).update(created_at=timezone.now() - dt.timedelta(days=3))
    make_pair(alice[0], status="waiting")  # its two jobs are queued
    worker.last_seen = timezone.now()
    worker.save()
    Report.objects.create(image=shown_pair(shared_pair)[0], reporter=bob[0], reason="illegal")
    figures = dashboard_figures()
    requests, images, votes, kudos = figures["daily"]
    assert requests.total == 3 and images.total == 4 and votes.total == 0
    assert kudos.total > 0  # the pairs' charges
    assert figures["queue"] == [("SDXL_beta::test", 2)]
    assert Job.objects.filter(status="queued").count() == 2
    assert (figures["workers_online"], figures["open_reports"], figures["illegal_reports"]) == (1, 1, 1)
    assert str(requests.svg).count("<rect") == 30


def test_a_chart_is_inline_svg_with_one_bar_per_day_and_escaped_labels():
    svg = str(bar_chart_svg([("<a>", 3), ("b", 0)], label='x"y'))
    assert svg.startswith("<svg") and svg.count("<rect") == 2
    assert "<a>" not in svg and "&lt;a&gt;: 3" in svg and 'aria-label="x&quot;y"' in svg
    assert "<script" not in svg


def test_the_page_is_linked_from_the_admin_index_and_costs_a_bounded_number_of_queries(
    moderator, shared_pair, make_pair, alice, django_assert_max_num_queries
):
    client = logged_in(moderator[0])
    assert "/admin/dashboard/" in client.get("/admin/").content.decode()
    for _ in range(5):
        make_pair(alice[0], status="waiting")
    with django_assert_max_num_queries(12):
        page = client.get("/admin/dashboard/")
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count('class="dashboard-chart"') == 5  # four daily charts and the queue
    assert 'id="workers-online"' in html and 'id="open-reports"' in html


def test_only_staff_see_it(bob):
    assert Client().get("/admin/dashboard/").status_code == 302
    assert logged_in(bob[0]).get("/admin/dashboard/").status_code == 302
