"""Reads of the site status: the modes and the news.

The modes are read from PostgreSQL on each use (one primary-key lookup per submit, and per
first pop of a new worker), not cached: a cached copy could outlive a switch in some web
process, and a maintenance switch must hold everywhere at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .models import HordeModes, NewsItem, WorkerInvite

MAX_NEWS = 100


@dataclass(frozen=True)
class Modes:
    maintenance: bool = False
    invite_only: bool = False


def modes_current() -> Modes:
    """The site's modes; no row means every mode is off."""
    row = HordeModes.objects.filter(pk=1).values("maintenance", "invite_only").first()
    return Modes(**row) if row else Modes()


def news_published() -> list[dict[str, Any]]:
    """As /api/v2/status/news (Newspiece): newest first."""
    rows = NewsItem.objects.filter(published=True).order_by("-date_published", "-id")[:MAX_NEWS]
    return [
        {
            "date_published": item.date_published.isoformat(),
            "newspiece": item.newspiece,
            "importance": item.importance,
            "tags": [str(tag) for tag in item.tags or []],
            "title": item.title,
            "more_info_urls": [str(url) for url in item.more_info_urls or []],
        }
        for item in rows
    ]


def worker_invites(*, user: Any) -> int:
    """Workers staff invited this user to run in invite-only mode (0 without an invitation)."""
    return WorkerInvite.objects.filter(user=user).values_list("workers", flat=True).first() or 0
