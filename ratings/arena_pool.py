"""The arena's pool: the pairs it may serve a rater, and the seeks that pick one from it.

One definition, in SQL (`_POOL`): `arena_pool` wraps it as a queryset for the rest of the code,
and the seeks run it directly. Raw SQL because the arena asks for a pair on every vote: Django
took about 15 ms a call to build and compile the queryset form of these conditions (six
subqueries, twice: a tier seek and a seek from a random point), several times what the seek
itself costs PostgreSQL (under a millisecond on 100,000 pairs).

The conditions, in SQL, of: a shared, finished pair of a comparison model, not the rater's own
request, none of whose jobs a worker of the rater served (its owner could read the recipes, so
it is not blind to them), not judged by the rater (live vote), not skipped nor shown to them
within the hold time (the pair on screen and the preloaded next one are not served again), no
image hidden by a moderator (generation.models.hidden_pair_requests), no censored image
(selectors.censored_request_ids), NSFW only to raters who opted in, and exactly two finished
images. The first line is the condition of the `request_arena_seek` index (arena_votes, id), so
a seek walks that index and checks the rest on the few rows it passes.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Iterable

from django.conf import settings
from django.db import connection
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from accounts.models import User
from generation.models import GenerationRequest

_POOL = """
SELECT r.id, r.arena_votes FROM generation_generationrequest r
JOIN generation_imagemodel m ON m.id = r.model_id
WHERE r.arena_pool AND r.shared AND r.status = 'done' AND m.compare_pipelines
  AND r.user_id <> %s
  AND NOT EXISTS (SELECT 1 FROM generation_job j JOIN generation_worker w ON w.id = j.worker_id
                  WHERE j.request_id = r.id AND w.owner_id = %s)
  AND r.id NOT IN (SELECT request_id FROM ratings_vote WHERE rater_id = %s AND retracted_at IS NULL)
  AND r.id NOT IN (SELECT request_id FROM ratings_pairassignment
                   WHERE rater_id = %s AND (answered_at IS NOT NULL OR issued_at >= %s))
  AND r.id NOT IN (SELECT request_id FROM generation_image WHERE hidden_at IS NOT NULL)
  AND r.id NOT IN (SELECT request_id FROM generation_image WHERE censored)
  AND (SELECT count(*) FROM generation_image i JOIN generation_job j ON j.id = i.job_id
       WHERE i.request_id = r.id AND j.status = 'done') = 2
"""
_SFW = "  AND NOT r.nsfw\n"
# Not a check item (an active gold pair, or a pair holding an active control image): check items
# are drawn on their own (services.voting._balanced_check).
_NOT_CHECK = """
  AND r.id NOT IN (SELECT request_id FROM ratings_goldpair WHERE active)
  AND r.id NOT IN (SELECT i.request_id FROM ratings_controlimage c JOIN generation_image i ON i.id = c.image_id
                   WHERE c.active)
"""


def _pool(*, rater: User, now: dt.datetime | None) -> tuple[str, list]:
    now = now or timezone.now()
    held_since = now - dt.timedelta(seconds=settings.RATINGS_ASSIGNMENT_TTL_SECONDS)
    sql = _POOL if rater.show_nsfw else _POOL + _SFW
    return sql, [rater.pk, rater.pk, rater.pk, rater.pk, held_since]


def arena_pool(*, rater: User, now: dt.datetime | None = None) -> QuerySet[GenerationRequest]:
    """The pairs the arena may serve this rater, as a queryset (see the module docstring)."""
    sql, params = _pool(rater=rater, now=now)
    ids = RawSQL(f"SELECT id FROM ({sql}) AS pool", params)  # noqa: S608, S611 - the fixed SQL above, values as parameters
    return GenerationRequest.objects.filter(pk__in=ids)


def _first(sql: str, params: list) -> tuple | None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def arena_pool_seek(*, rater: User, now: dt.datetime | None = None) -> uuid.UUID | None:
    """A pair of the pool's lowest tier of live votes, from a random point of it; never a
    check item (those come from `arena_pool_among`).

    Two seeks in the request_arena_seek index (arena_votes, id): the lowest tier this rater
    can be served, then the first pair of that tier at or after a random id (ids are random,
    so every pair of the tier is about as likely), else the tier's first pair. Raters asking
    at the same moment get different pairs, and votes spread over the pool.
    """
    sql, params = _pool(rater=rater, now=now)
    sql += _NOT_CHECK
    first = _first(sql + " ORDER BY r.arena_votes, r.id LIMIT 1", params)
    if first is None:
        return None
    start = str(uuid.UUID(int=random.getrandbits(128)))
    later = _first(
        sql + " AND r.arena_votes = %s AND r.id >= %s ORDER BY r.arena_votes, r.id LIMIT 1",
        [*params, first[1], start],
    )
    return uuid.UUID(str((later or first)[0]))


def arena_pool_among(
    *, rater: User, request_ids: Iterable[uuid.UUID], now: dt.datetime | None = None
) -> list[uuid.UUID]:
    """Which of these requests (a few: the check items) the pool holds for this rater."""
    ids = [str(request_id) for request_id in request_ids]
    if not ids:
        return []
    sql, params = _pool(rater=rater, now=now)
    with connection.cursor() as cursor:
        cursor.execute(sql + " AND r.id = ANY(%s::uuid[])", [*params, ids])
        return [uuid.UUID(str(row[0])) for row in cursor.fetchall()]
