"""A waiting job's queue priority: what its requester can still pay, aged.

`job_priority` prices a job at submission; `jobs_reprioritize` moves a requester's waiting
jobs when their balance changes afterwards (a transfer away, a refund, a reward, a staff
adjustment), so priority follows the balance and not what it was at submission. It runs on
the ledger's `balance_changed` signal (kudos cannot import this app), after the commit.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import connection, models, transaction
from django.db.models import Value

from accounts.models import User
from generation import conf
from generation.models import GenerationRequest, Job
from kudos.models import Account

logger = logging.getLogger(__name__)


def priority_base(*, balance: int | None) -> float:
    """The part of a job's priority that comes from its requester's balance (None: anonymous).

    `balance` is the requester's kudos now: every waiting job is charged at submission, so
    that is the balance left after the price of all their waiting jobs. The base it gives:
    - not in debt (0 or more): the balance itself;
    - in debt: HORDE_DEBT_PRIORITY lowered by the debt, squashed into the band
      between it and the anonymous base (`debt_base - band * d / (d + band)`):
      near zero a kudo of debt costs about a kudo of priority, as above zero,
      deeper debt costs less and less, and no debt, however deep, reaches the
      anonymous base. So more debt always queues further back, every requester
      in debt queues behind everyone who is not, and ahead of anonymous requests;
    - anonymous requests: the anonymous base.
    """
    if balance is None:
        return conf.anonymous_priority()
    if balance >= 0:
        return float(balance)
    debt_base = conf.debt_priority()
    band = max(debt_base - conf.anonymous_priority(), 1.0)
    debt = float(-balance)
    return debt_base - band * debt / (debt + band)


def job_priority(*, user: User, balance: int | None, created_epoch: float) -> float:
    """The static sort key of a job: `priority_base`, aged.

    A job that has waited w seconds deserves `base + AGING * w`. At any moment
    t that is `base - AGING * created + AGING * t`, and the last term is the
    same for every job, so ordering by `base - AGING * created` (stored once)
    DESC is exactly the aged order, with no rewrite of waiting rows. Aging is
    what keeps anyone from starving: a job in debt overtakes a fresh job of a
    requester not in debt once it has waited about |debt_base| / AGING seconds
    (about 14 hours with the defaults).
    """
    base = priority_base(balance=None if user.is_anonymous_horde_user else balance)
    return base - conf.aging_per_second() * created_epoch


class Epoch(models.Func):
    """Seconds since the Unix epoch of a datetime column (`datetime.timestamp()` in SQL)."""

    output_field = models.FloatField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, template="EXTRACT(EPOCH FROM %(expressions)s)::float8", **extra)

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        # julianday() of 1970-01-01T00:00Z is 2440587.5.
        return self.as_sql(
            compiler, connection, template="((julianday(%(expressions)s) - 2440587.5) * 86400.0)", **extra
        )


def jobs_reprioritize(*, user_id: int) -> int:
    """Set the priority of this user's waiting jobs from their balance now, in one UPDATE;
    returns how many jobs it set.

    The same base as at submission, aged from each job's own creation time (`job_priority`
    with its `created_at`), so a job keeps the wait it has earned. The UPDATE matches only
    jobs still queued: a claim that takes one meanwhile either commits first (the UPDATE,
    waiting on its row, re-checks `status` and leaves it) or comes after (it claims the job
    with its new priority); a claimed job is never touched.

    Most balance changes (a rating's rebate, a worker's reward) are of users with nothing
    waiting: one indexed probe answers those, without the transaction and the lock. It is no
    laxer than the UPDATE: both see the jobs committed by then, and a submission prices its
    jobs under the account lock the posting held, so it read this balance or committed first.
    """
    requests = GenerationRequest.objects.filter(user_id=user_id).values("pk")
    waiting = Job.objects.filter(status=Job.Status.QUEUED, request_id__in=requests)
    if not waiting.exists():
        return 0
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # One recompute per user at a time, each reading the balance after taking the lock:
            # two at once could otherwise write in the opposite order of their reads, the
            # older balance last. Only these recomputes take it, so it waits on nothing else.
            # (The key's second half is an int4: ids past it share a lock, which only queues them.)
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(hashtext('job-priority'), %s)", [user_id % 2**31])
        balance = Account.objects.filter(user_id=user_id, hot=False).values_list("balance", flat=True).first()
        if balance is None:
            return 0  # no cold account (the anonymous user, or nobody yet): nothing follows it
        base = priority_base(balance=balance)
        aged = Value(base) - Value(conf.aging_per_second()) * Epoch("created_at")
        # `status` on the job row itself, not inside a join's subquery: a row a claim changed
        # meanwhile is re-checked against its new version (PostgreSQL re-evaluates the
        # target's own conditions after waiting on its lock) and left alone.
        return waiting.update(priority=aged)


def on_balance_changed(*, user_ids: list[int], **kwargs: Any) -> None:
    """kudos.signals.balance_changed: their waiting jobs follow the new balances."""
    for user_id in user_ids:
        jobs_reprioritize(user_id=user_id)
