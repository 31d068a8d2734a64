"""The periodic trust recompute redoes only the raters whose figures can have changed, and
leaves everyone exactly as a full recompute would (ratings.services.trust_runs).

On the small horde of test_trust_batch: a full run, then rounds of changes of every kind an
incremental run must notice (new and undone votes, a new rater, a rater leaving and joining
the crowd, new single-image ratings, an account that stops being young, the knock-on effect of
the previous run's own exclusions); after each, everyone's figures as a full run would compute
them (read only) are compared with what the incremental run leaves stored.
"""

from __future__ import annotations

import datetime as dt
import random

import pytest
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from aesthetics.models import ImageRating, SetImage
from generation.models import Image
from ratings.models import GoldPair, RaterTrust, TrustRecompute, TrustVoteFigures, Vote
from ratings.services import rater_trust_recompute_all, rater_trust_recompute_changed, rater_trust_set_override
from ratings.services.trust import _excluded, trust_score
from ratings.services.trust_batch import trust_figures_all, trust_tables_drop

from .test_trust_batch import FIELDS, build_horde, figures_settings  # noqa: F401 (the fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def incremental_runs_stay_incremental(monkeypatch):
    """These hordes are small: one change is a large share of their parts, and an incremental run
    would run as a full one (trust_batch.FULL_SHARE). Kept incremental here, to test that path;
    test_an_incremental_run_that_would_redo_most_parts_runs_as_a_full_one tests the switch."""
    from ratings.services import trust_batch

    monkeypatch.setattr(trust_batch, "FULL_SHARE", 1e9)


def full_figures(now: dt.datetime) -> dict[int, dict]:
    """What a full run would store for everyone now (its writes rolled back)."""
    with transaction.atomic():
        figures, _ = trust_figures_all(now=now)
        trust_tables_drop()
        transaction.set_rollback(True)
    overrides = dict(RaterTrust.objects.values_list("user_id", "override"))
    for user_id, row in figures.items():
        row["score"] = trust_score(row)
        row["excluded"] = _excluded(overrides.get(user_id, ""), row["score"], row["flagged"])
    return figures


def assert_stored_as(expected: dict[int, dict]) -> None:
    stored = {trust.user_id: trust for trust in RaterTrust.objects.all()}
    assert set(expected) <= set(stored)
    for user_id, figures in expected.items():
        trust = stored[user_id]
        for name in [*FIELDS, "score", "excluded"]:
            got, want = getattr(trust, name), figures[name]
            if isinstance(want, float):
                assert got == pytest.approx(want, rel=1e-9, abs=1e-9), (user_id, name)
            else:
                assert got == want, (user_id, name, got, want)


def vote(request_id, rater, when, rng):
    images = list(Image.objects.filter(request_id=request_id))
    rng.shuffle(images)
    return Vote.objects.create(
        request_id=request_id,
        rater=rater,
        source=Vote.Source.ARENA,
        left_image=images[0],
        right_image=images[1],
        choice=rng.choice(["left", "right", "left", "tie"]),
        seconds_to_vote=rng.uniform(2, 9),
        created_at=when,
    )


def rate(image, rater, rating, when):
    ImageRating.objects.create(image=image, rater=rater, rating=rating, is_check=False, created_at=when)
    SetImage.objects.filter(pk=image.pk).update(
        rating_count=image.rating_count + 1, rating_sum=image.rating_sum + rating
    )


@pytest.mark.parametrize("bulk_share", [0.0, 1e9], ids=["parts-reloaded-as-in-a-full-run", "parts-replaced-in-place"])
def test_each_incremental_run_leaves_everyone_as_a_full_run_would(settings, monkeypatch, bulk_share):
    """Both ways an incremental run refreshes the parts give the same figures: reloaded without
    index upkeep (when it redoes a large share of them, trust_batch.BULK_SHARE) or replaced row
    by row in place."""
    from ratings.services import trust_batch

    monkeypatch.setattr(trust_batch, "BULK_SHARE", bulk_share)
    rng = random.Random(7)
    start = timezone.now() - dt.timedelta(days=3)
    users = build_horde(rng, start)
    raters = users[:14]
    # One account young at the first run and no longer at the second.
    User.objects.filter(pk=raters[13].pk).update(
        date_joined=start - dt.timedelta(days=settings.RATINGS_TRUST_YOUNG_ACCOUNT_DAYS) + dt.timedelta(minutes=30)
    )
    rater_trust_recompute_all(now=start)
    everyone = RaterTrust.objects.count()

    # Round 1: one new vote and one new single-image rating: only the raters beside them move.
    now = start + dt.timedelta(hours=2)
    voted = {v.request_id for v in Vote.objects.filter(rater=raters[2])}
    unvoted = sorted({r for r in Vote.objects.values_list("request_id", flat=True) if r not in voted})
    vote(unvoted[0], raters[2], now - dt.timedelta(minutes=40), rng)
    image = SetImage.objects.filter(control_rating__isnull=True).order_by("rating_count").first()
    rate(image, raters[2], 3, now - dt.timedelta(minutes=25))
    expected = full_figures(now)
    recomputed = rater_trust_recompute_changed(now=now)
    run = TrustRecompute.objects.first()
    assert (run.full, run.raters) == (False, recomputed)
    assert 0 < recomputed <= everyone  # (this horde is small and dense: most raters share a pair)
    assert_stored_as(expected)
    assert RaterTrust.objects.get(user=raters[13]).account_age_days > settings.RATINGS_TRUST_YOUNG_ACCOUNT_DAYS

    # Round 1b: a new rater, an undone vote, and staff block a rater of the crowd (their votes
    # leave everyone else's consensus).
    now += dt.timedelta(hours=2)
    newcomer = User.objects.create(username="newcomer")
    for request_id in unvoted[1:4]:
        vote(request_id, newcomer, now - dt.timedelta(minutes=30), rng)
    Vote.objects.filter(pk=Vote.objects.filter(rater=raters[6], retracted_at__isnull=True).first().pk).update(
        retracted_at=now - dt.timedelta(minutes=20)
    )
    rate(SetImage.objects.get(pk=image.pk), newcomer, 9, now - dt.timedelta(minutes=25))
    blocked = RaterTrust.objects.filter(excluded=False, override="").order_by("user_id").first().user
    rater_trust_set_override(user=blocked, override=RaterTrust.Override.BLOCKED)
    expected = full_figures(now)
    rater_trust_recompute_changed(now=now)
    assert TrustRecompute.objects.first().full is False
    assert_stored_as(expected)

    # Round 2: the previous round's own effects (exclusions it wrote move the crowd of everyone
    # beside those raters), the block lifted, and one more vote.
    now += dt.timedelta(hours=2)
    rater_trust_set_override(user=blocked, override=RaterTrust.Override.NONE)
    theirs = set(Vote.objects.filter(rater=raters[9], retracted_at__isnull=True).values_list("request_id", flat=True))
    vote(next(r for r in sorted(unvoted) if r not in theirs), raters[9], now - dt.timedelta(minutes=45), rng)
    expected = full_figures(now)
    rater_trust_recompute_changed(now=now)
    assert TrustRecompute.objects.first().full is False
    assert_stored_as(expected)

    # Rounds 3 and 4: nothing new but the previous runs' own effects (in this small horde some
    # raters' exclusions swing with the crowd they are judged against, full run or not).
    for _ in range(2):
        now += dt.timedelta(hours=2)
        expected = full_figures(now)
        rater_trust_recompute_changed(now=now)
        assert TrustRecompute.objects.first().full is False
        assert_stored_as(expected)


def two_groups(start: dt.datetime):
    """Two groups of four raters, each judging its own two pairs (a third pair each unjudged)."""
    from .leaderboard import factories

    model = factories.make_model()
    base, turbo = factories.make_pipeline(model, "base"), factories.make_pipeline(model, "turbo")
    owner = User.objects.create(username="owner")
    groups = [[User.objects.create(username=f"g{g}r{i}") for i in range(4)] for g in range(2)]
    pairs = [[factories.make_pair(model, base, turbo, owner=owner) for _ in range(3)] for _ in range(2)]
    for group, group_pairs in zip(groups, pairs, strict=True):
        for request, image_a, image_b in group_pairs[:2]:
            for rater in group:
                factories.make_vote(request, rater, image_a, image_b, "left", created_at=start - dt.timedelta(hours=1))
    return groups, pairs


def test_only_the_raters_beside_a_change_are_recomputed():
    from .leaderboard import factories

    start = timezone.now() - dt.timedelta(days=3)
    _, pairs = two_groups(start)
    rater_trust_recompute_all(now=start)
    now = start + dt.timedelta(hours=1)
    request, image_a, image_b = pairs[0][0]
    newcomer = User.objects.create(username="newcomer")
    factories.make_vote(request, newcomer, image_a, image_b, "right", created_at=now - dt.timedelta(minutes=20))
    expected = full_figures(now)
    assert rater_trust_recompute_changed(now=now) == 5  # group 0 and the newcomer
    assert TrustRecompute.objects.first().full is False
    assert_stored_as(expected)


def test_a_vote_stamped_before_the_previous_run_but_committed_after_it_is_still_seen(settings):
    """A vote's time is set when its transaction runs; one still open while a run read the data
    commits with an earlier time than that run's: the next run looks back the overlap further."""
    from .leaderboard import factories

    start = timezone.now() - dt.timedelta(days=3)
    _, pairs = two_groups(start)
    rater_trust_recompute_all(now=start)
    request, image_a, image_b = pairs[1][0]
    late = User.objects.create(username="late")
    stamped = start - dt.timedelta(seconds=settings.RATINGS_TRUST_RECOMPUTE_OVERLAP_SECONDS // 2)
    factories.make_vote(request, late, image_a, image_b, "right", created_at=stamped)
    now = start + dt.timedelta(hours=1)
    expected = full_figures(now)
    assert rater_trust_recompute_changed(now=now) == 5  # group 1 and the late voter
    assert_stored_as(expected)


def test_a_change_of_check_items_or_settings_or_a_stale_full_run_recomputes_everyone(settings):
    start = timezone.now() - dt.timedelta(days=3)
    _, pairs = two_groups(start)
    rater_trust_recompute_all(now=start)
    everyone = RaterTrust.objects.count()
    assert everyone == 8

    now = start + dt.timedelta(hours=1)
    assert rater_trust_recompute_changed(now=now) == 0  # nothing changed
    # A new gold pair changes the answers of everyone who voted on that pair (and so more).
    GoldPair.objects.create(request=pairs[1][0][0], expected_choice="left")
    now += dt.timedelta(hours=1)
    assert rater_trust_recompute_changed(now=now) == everyone
    assert TrustRecompute.objects.first().full is True

    now += dt.timedelta(hours=1)
    assert rater_trust_recompute_changed(now=now) == 0
    settings.RATINGS_TRUST_THRESHOLD = 0.3
    now += dt.timedelta(hours=1)
    assert rater_trust_recompute_changed(now=now) == everyone

    settings.RATINGS_TRUST_FULL_RECOMPUTE_HOURS = 2
    now += dt.timedelta(hours=1)
    assert rater_trust_recompute_changed(now=now) == 0
    now += dt.timedelta(hours=1, minutes=1)
    assert rater_trust_recompute_changed(now=now) == everyone
    # A clock that went back cannot look for changes "since" the future: everyone.
    assert rater_trust_recompute_changed(now=now - dt.timedelta(hours=5)) == everyone


def test_lost_parts_are_rebuilt_by_a_full_run():
    """The stored parts are an UNLOGGED cache: after a crash they are empty; the next periodic
    run sees that and recomputes everyone (and the figures are right again)."""
    from django.db import connection

    start = timezone.now() - dt.timedelta(days=3)
    two_groups(start)
    rater_trust_recompute_all(now=start)
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE ratings_trustvotefigures")
    now = start + dt.timedelta(hours=1)
    expected = full_figures(now)
    assert rater_trust_recompute_changed(now=now) == RaterTrust.objects.count()
    assert TrustRecompute.objects.first().full is True
    assert_stored_as(expected)
    now += dt.timedelta(hours=1)
    assert rater_trust_recompute_changed(now=now) == 0  # and the parts are back


def _indexes(table: str) -> list[tuple[str, str]]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s ORDER BY indexname", [table])
        return cursor.fetchall()


def test_a_full_run_builds_the_parts_indexes_again_as_they_were_and_a_failed_one_keeps_them(monkeypatch):
    """A full run drops the parts tables' indexes for its bulk load and builds them after (same
    names, same definitions, the primary keys as primary keys); a run that fails midway leaves
    them in place (its transaction rolls the drop back)."""
    from django.db import IntegrityError

    tables = ["ratings_trustvotefigures", "aesthetics_trustratingfigures"]
    before = {table: _indexes(table) for table in tables}
    assert all(len(found) == 1 for found in before.values())  # the primary key alone
    start = timezone.now() - dt.timedelta(days=3)
    two_groups(start)
    rater_trust_recompute_all(now=start)
    assert {table: _indexes(table) for table in tables} == before
    part = TrustVoteFigures.objects.first()
    with pytest.raises(IntegrityError), transaction.atomic():  # the primary key holds again
        TrustVoteFigures.objects.create(**{f.attname: getattr(part, f.attname) for f in part._meta.fields})

    from ratings.services import trust_batch

    def broken(*args, **kwargs):
        raise RuntimeError("the run fails after the drop")

    monkeypatch.setattr(trust_batch, "parts_indexes_restore", broken)
    with pytest.raises(RuntimeError):
        rater_trust_recompute_all(now=start + dt.timedelta(hours=1))
    assert {table: _indexes(table) for table in tables} == before


def test_an_incremental_run_that_redoes_a_large_share_of_the_parts_reloads_them_without_index_upkeep(monkeypatch):
    from ratings.services import trust_batch

    from .leaderboard import factories

    start = timezone.now() - dt.timedelta(days=3)
    _, pairs = two_groups(start)
    rater_trust_recompute_all(now=start)
    indexes = _indexes("ratings_trustvotefigures")
    dropped = []
    original = trust_batch.parts_indexes_drop
    monkeypatch.setattr(
        trust_batch, "parts_indexes_drop", lambda cursor, table: dropped.append(table) or original(cursor, table)
    )
    now = start
    for share, reloaded in ((1e9, []), (0.0, ["ratings_trustvotefigures"])):
        monkeypatch.setattr(trust_batch, "BULK_SHARE", share)
        now += dt.timedelta(hours=1)
        request, image_a, image_b = pairs[0][0]
        newcomer = User.objects.create(username=f"newcomer-{share}")
        factories.make_vote(request, newcomer, image_a, image_b, "right", created_at=now - dt.timedelta(minutes=20))
        expected = full_figures(now)
        dropped.clear()
        assert rater_trust_recompute_changed(now=now) > 0
        assert TrustRecompute.objects.first().full is False
        assert dropped == reloaded  # (no single-image rating changed: those parts are left alone)
        assert_stored_as(expected)
    assert _indexes("ratings_trustvotefigures") == indexes  # built again as they were


def test_an_incremental_run_that_would_redo_most_parts_runs_as_a_full_one(monkeypatch):
    """Past trust_batch.FULL_SHARE of the stored parts, an incremental run empties and reloads
    everything as a full run does (and is recorded as one); below it, it stays incremental.
    Either way the figures are a full run's."""
    from ratings.services import trust_batch

    from .leaderboard import factories

    start = timezone.now() - dt.timedelta(days=3)
    _, pairs = two_groups(start)
    rater_trust_recompute_all(now=start)
    parts = TrustVoteFigures.objects.count()
    now = start
    for share, full in ((1e9, False), (0.0, True)):
        monkeypatch.setattr(trust_batch, "FULL_SHARE", share)
        now += dt.timedelta(hours=1)
        request, image_a, image_b = pairs[0][0]
        newcomer = User.objects.create(username=f"latecomer-{share}")
        factories.make_vote(request, newcomer, image_a, image_b, "left", created_at=now - dt.timedelta(minutes=20))
        expected = full_figures(now)
        recomputed = rater_trust_recompute_changed(now=now)
        run = TrustRecompute.objects.first()
        assert (run.full, run.raters) == (full, recomputed)
        assert recomputed == (len(expected) if full else 5)  # everyone, or group 0 and the latecomer
        assert_stored_as(expected)
        parts += 1
        assert TrustVoteFigures.objects.count() == parts  # every live vote has its part once
