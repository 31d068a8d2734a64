"""Team totals: what a team's workers did while in it (the AI Horde's TeamDetails figures)."""

from __future__ import annotations

from django.db.models import F, Subquery

from generation.models import Team, Worker


def team_totals_add(
    *,
    worker: Worker,
    requests: int = 0,
    kudos: int = 0,
    mps: float = 0.0,
    seconds_busy: float = 0.0,
    uptime_seconds: int = 0,
) -> None:
    """Add to the totals of the team `worker` is in now (read from its row, in this statement:
    a worker that joined or left since its object was loaded counts where it is). One UPDATE,
    nothing when it is in no team."""
    team = Subquery(Worker.objects.filter(pk=worker.pk).values("team_id")[:1])
    Team.objects.filter(pk=team).update(
        requests_fulfilled=F("requests_fulfilled") + requests,
        kudos=F("kudos") + kudos,
        mps_done=F("mps_done") + mps,
        seconds_busy=F("seconds_busy") + seconds_busy,
        uptime_seconds=F("uptime_seconds") + uptime_seconds,
    )
