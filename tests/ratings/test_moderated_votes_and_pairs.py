"""Moderation in the comparison data: a suspended or shadow-banned rater's votes are kept and
never counted (a shadow-banned rater is answered exactly as before), censored pairs stay out of
the counted votes and the arena, and NSFW pairs reach only raters who opted in."""

from __future__ import annotations

import pytest

from moderation.services import rater_shadow_ban, user_suspend, user_unsuspend
from ratings.arena_pool import arena_pool
from ratings.leaderboard import leaderboard_compute
from ratings.models import Vote
from ratings.selectors import vote_weights, votes_counted

from .test_arena_api import next_pair, patient_raters, vote  # noqa: F401

pytestmark = pytest.mark.django_db


def arena_vote(api_client, key) -> dict:
    data = next_pair(api_client, key)
    response = vote(api_client, key, data["assignment"]["id"], {"choice": "left"})
    assert response.status_code == 200, response.json()
    return response.json()


def test_a_suspended_raters_votes_are_kept_but_not_counted_until_lifted(api_client, alice, charlie, make_pair):
    make_pair(alice[0])
    arena_vote(api_client, charlie[1])
    assert votes_counted().filter(rater=charlie[0]).count() == 1
    user_suspend(user=charlie[0], by=None, reason="vote farming")
    assert Vote.objects.filter(rater=charlie[0]).count() == 1  # kept
    assert votes_counted().filter(rater=charlie[0]).count() == 0
    assert vote_weights(rater_ids={charlie[0].pk})[charlie[0].pk] == 0
    user_unsuspend(user=charlie[0], by=None, reason="appeal")
    assert votes_counted().filter(rater=charlie[0]).count() == 1


def test_a_shadow_banned_rater_sees_the_same_answers_and_rewards(api_client, alice, bob, charlie, make_pair):
    for _ in range(2):
        make_pair(alice[0])
        make_pair(bob[0])
    before = arena_vote(api_client, charlie[1])
    rater_shadow_ban(user=charlie[0], by=None, reason="always left")
    after = arena_vote(api_client, charlie[1])
    # The same shape and the same reward: nothing tells them their votes stopped counting.
    assert set(after) == set(before)
    assert after["reward"] == before["reward"] > 0
    assert Vote.objects.filter(rater=charlie[0]).count() == 2
    assert votes_counted().filter(rater=charlie[0]).count() == 0
    assert vote_weights(rater_ids={charlie[0].pk}) == {charlie[0].pk: 0}


def test_the_leaderboard_leaves_out_a_shadow_banned_raters_votes(api_client, alice, charlie, make_pair, settings):
    make_pair(alice[0])
    arena_vote(api_client, charlie[1])

    def counted() -> int:
        return sum(board["votes"] for board in leaderboard_compute(rounds=20, seed=1)["models"])

    assert counted() == 1
    rater_shadow_ban(user=charlie[0], by=None, reason="bot")
    assert counted() == 0


def test_a_censored_pair_is_left_out_of_the_counted_votes_and_the_arena(api_client, alice, bob, charlie, make_pair):
    censored = make_pair(alice[0])
    kept = make_pair(bob[0])
    arena_vote(api_client, charlie[1])
    arena_vote(api_client, charlie[1])
    image = censored.images.first()
    image.censored = True
    image.save(update_fields=["censored"])
    assert set(votes_counted().values_list("request_id", flat=True)) == {kept.pk}
    assert Vote.objects.filter(request=censored).exists()  # kept
    other = make_pair(alice[0])
    other.images.update(censored=True)
    assert other.pk not in set(arena_pool(rater=charlie[0]).values_list("pk", flat=True))


def test_nsfw_pairs_reach_only_raters_who_opted_in(alice, charlie, make_pair):
    nsfw = make_pair(alice[0])
    nsfw.nsfw = True
    nsfw.save(update_fields=["nsfw"])
    plain = make_pair(alice[0])
    assert set(arena_pool(rater=charlie[0]).values_list("pk", flat=True)) == {plain.pk}
    charlie[0].show_nsfw = True
    charlie[0].save(update_fields=["show_nsfw"])
    assert set(arena_pool(rater=charlie[0]).values_list("pk", flat=True)) == {plain.pk, nsfw.pk}
