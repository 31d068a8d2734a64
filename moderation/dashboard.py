"""The staff dashboard (an admin view): the last 30 days at a glance, as inline SVG charts.

Each figure is one aggregate query (days grouped in the database), so the page costs the same
few queries whatever the traffic; the charts are plain SVG drawn here, with no script and no
library, and scale to the width of the screen.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from generation import conf
from generation.models import GenerationRequest, Image, Job, Worker
from kudos.models import Entry
from ratings.models import Vote

from .models import Report

DAYS = 30


@dataclass
class Chart:
    title: str
    total: int
    svg: SafeString


def _days(today: dt.date) -> list[dt.date]:
    return [today - dt.timedelta(days=offset) for offset in range(DAYS - 1, -1, -1)]


def per_day(queryset: QuerySet, *, since: dt.datetime, value: Count | Sum | None = None) -> dict[dt.date, int]:
    """{day (UTC): count (or `value`)} of rows created since `since`, in one grouped query."""
    rows = (
        queryset.filter(created_at__gte=since)
        .annotate(day=TruncDate("created_at", tzinfo=dt.UTC))
        .values("day")
        .annotate(n=value if value is not None else Count("pk"))
        .order_by()
        .values_list("day", "n")
    )
    return {day: int(n or 0) for day, n in rows}


def bar_chart_svg(points: list[tuple[str, int]], *, label: str, width: int = 600, height: int = 140) -> SafeString:
    """Vertical bars, one per point, each with its label and value as a tooltip (SVG <title>)."""
    top = max((value for _, value in points), default=0) or 1
    step = width / max(len(points), 1)
    bar = max(step - 2, 1)
    bars = format_html_join(
        "",
        '<rect x="{}" y="{}" width="{}" height="{}" fill="#4fb3ff"><title>{}: {}</title></rect>',
        (
            (
                f"{i * step + 1:.1f}",
                f"{height - value / top * (height - 16):.1f}",
                f"{bar:.1f}",
                f"{value / top * (height - 16):.1f}",
                name,
                value,
            )
            for i, (name, value) in enumerate(points)
        ),
    )
    first = points[0][0] if points else ""
    last = points[-1][0] if points else ""
    return format_html(
        '<svg class="dashboard-chart" viewBox="0 0 {w} {h2}" width="100%" role="img" aria-label="{label}"'
        ' preserveAspectRatio="none" style="max-width:{w}px;height:auto">'
        '<text x="0" y="11" font-size="11" fill="currentColor">max {top}</text>{bars}'
        '<line x1="0" y1="{h}" x2="{w}" y2="{h}" stroke="currentColor" stroke-width="0.5"/>'
        '<text x="0" y="{h3}" font-size="11" fill="currentColor">{first}</text>'
        '<text x="{w}" y="{h3}" font-size="11" fill="currentColor" text-anchor="end">{last}</text></svg>',
        w=width,
        h=height,
        h2=height + 16,
        h3=height + 13,
        label=label,
        top=top if points and max(v for _, v in points) else 0,
        bars=bars,
        first=first,
        last=last,
    )


def _daily_chart(title: str, counts: dict[dt.date, int], days: list[dt.date]) -> Chart:
    points = [(day.isoformat(), counts.get(day, 0)) for day in days]
    return Chart(title=title, total=sum(v for _, v in points), svg=bar_chart_svg(points, label=title))


def dashboard_figures(*, now: dt.datetime | None = None) -> dict:
    now = now or timezone.now()
    today = now.astimezone(dt.UTC).date()
    days = _days(today)
    since = dt.datetime.combine(days[0], dt.time.min, tzinfo=dt.UTC)
    daily = [
        _daily_chart("Requests per day", per_day(GenerationRequest.objects.all(), since=since), days),
        _daily_chart("Images per day", per_day(Image.objects.all(), since=since), days),
        _daily_chart("Votes per day", per_day(Vote.objects.filter(retracted_at__isnull=True), since=since), days),
        # Every movement has a positive and a negative leg: the positive ones are what moved.
        _daily_chart(
            "Kudos moved per day",
            per_day(Entry.objects.filter(amount__gt=0), since=since, value=Sum("amount")),
            days,
        ),
    ]
    queue = list(
        Job.objects.filter(status=Job.Status.QUEUED)
        .values("model__name")
        .annotate(n=Count("id"))
        .order_by("-n", "model__name")
        .values_list("model__name", "n")
    )
    online = Worker.objects.filter(last_seen__gte=now - dt.timedelta(seconds=conf.worker_stale_seconds())).count()
    reports = Report.objects.filter(status=Report.Status.OPEN).aggregate(
        open=Count("id"), images=Count("image", distinct=True), illegal=Count("id", filter=Q(reason="illegal"))
    )
    return {
        "daily": daily,
        "queue": queue,
        "queue_chart": bar_chart_svg(queue, label="Queued jobs per model") if queue else None,
        "workers_online": online,
        "open_reports": reports["open"],
        "reported_images": reports["images"],
        "illegal_reports": reports["illegal"],
        "since": days[0],
        "until": today,
    }


def dashboard_view(request: HttpRequest) -> HttpResponse:
    """Staff only: wrapped in admin_site.admin_view where it is routed (horde_site/urls.py)."""
    from django.contrib import admin

    context = {**admin.site.each_context(request), "title": "Dashboard", **dashboard_figures()}
    return TemplateResponse(request, "admin/dashboard.html", context)
