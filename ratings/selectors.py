"""Reads of votes."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import Vote


def votes_counted() -> QuerySet[Vote]:
    """Votes the leaderboard and the export use: live, and by raters not excluded."""
    return Vote.objects.filter(retracted_at__isnull=True).exclude(rater__rater_trust__excluded=True)
