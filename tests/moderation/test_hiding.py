"""A hidden image is gone at once from every public place, and its file from public storage;
its pair's votes stay stored but leave the leaderboard and the export."""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage
from django.test import Client

from aesthetics.selectors import rating_next
from aesthetics.sets.shared import shared_comparisons_join
from moderation.hiding import image_file_delete, image_hide, image_unhide, private_storage
from moderation.models import AuditEntry, Report
from moderation.services import ModerationError
from ratings.arena_pool import arena_pool
from ratings.export import export_votes
from ratings.models import Vote
from ratings.selectors import own_pairs_waiting, votes_counted
from tests.ratings.conftest import shown_pair

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def vote_on(pair, rater) -> Vote:
    left, right = shown_pair(pair)
    return Vote.objects.create(
        request=pair, rater=rater, source="arena", left_image=left, right_image=right, choice="left"
    )


def test_hiding_one_image_takes_its_pair_out_of_the_gallery_the_arena_and_my_images(alice, bob, shared_pair, moderator):
    left, right = shown_pair(shared_pair)
    gallery = logged_in(bob[0]).get("/gallery").content.decode()
    assert left.file.url in gallery and right.file.url in gallery
    assert list(arena_pool(rater=bob[0])) == [shared_pair]

    image_hide(image=left, by=moderator[0], reason="harassment")

    for viewer in (Client(), logged_in(bob[0])):
        page = viewer.get("/gallery").content.decode()
        assert left.file.url not in page and right.file.url not in page
    assert list(arena_pool(rater=bob[0])) == []
    assert list(own_pairs_waiting(rater=alice[0])) == []
    mine = logged_in(alice[0]).get("/images").content.decode()
    assert left.file.url not in mine and right.file.url not in mine


def test_the_file_leaves_public_storage_and_its_url_404s_but_staff_still_see_it(bob, shared_pair, moderator):
    left, _ = shown_pair(shared_pair)
    url, name = left.file.url, left.file.name
    assert Client().get(url).status_code == 200
    image_hide(image=left, by=moderator[0], reason="illegal")
    assert not default_storage.exists(name) and private_storage().exists(name)
    for viewer in (Client(), logged_in(bob[0])):
        assert viewer.get(url).status_code == 404
    staff_file = f"/admin/moderation/reportedimage/{left.pk}/file"
    answer = logged_in(moderator[0]).get(staff_file)
    assert answer.status_code == 200 and answer["Content-Type"] == "image/webp"
    assert b"".join(answer.streaming_content)[:4] == b"RIFF"
    assert logged_in(bob[0]).get(staff_file).status_code == 302  # to the admin log-in, no file
    # The generation admin's image list points staff at the same view.
    assert staff_file in logged_in(moderator[0]).get(f"/admin/generation/image/{left.pk}/change/").content.decode()


def test_the_request_page_of_others_and_the_status_answer_no_longer_show_it(api_client, bob, shared_pair, moderator):
    left, right = shown_pair(shared_pair)
    image_hide(image=left, by=moderator[0], reason="abuse")
    page = logged_in(bob[0]).get(f"/requests/{shared_pair.id}").content.decode()
    assert left.file.url not in page and right.file.url not in page
    assert "removed by the moderators" in page
    status = api_client.get(f"/api/v2/generate/status/{shared_pair.id}", HTTP_APIKEY=bob[1]).json()
    hidden = next(g for g in status["generations"] if g["id"] == str(left.id))
    assert (hidden["img"], hidden["censored"], hidden["state"]) == ("", True, "censored")
    visible = next(g for g in status["generations"] if g["id"] == str(right.id))
    assert visible["img"].endswith(right.file.url) and visible["state"] == "ok"
    staff = api_client.get(f"/api/v2/generate/status/{shared_pair.id}", HTTP_APIKEY=moderator[1]).json()
    staff_hidden = next(g for g in staff["generations"] if g["id"] == str(left.id))
    assert staff_hidden["img"].endswith(f"/admin/moderation/reportedimage/{left.pk}/file")


def test_its_pairs_votes_are_kept_but_not_counted_nor_exported(alice, bob, shared_pair, make_pair, moderator):
    other = make_pair(alice[0])
    hidden_vote, kept_vote = vote_on(shared_pair, bob[0]), vote_on(other, bob[0])
    assert set(votes_counted()) == {hidden_vote, kept_vote}
    image_hide(image=shown_pair(shared_pair)[1], by=moderator[0], reason="abuse")
    assert list(votes_counted()) == [kept_vote]
    assert list(export_votes()) == [kept_vote]
    assert Vote.objects.filter(pk=hidden_vote.pk, retracted_at__isnull=True).exists()
    # Marked in the admin's vote list.
    listing = logged_in(make_superuser()).get("/admin/ratings/vote/?pair_hidden=yes").content.decode()
    assert str(hidden_vote.pk) in listing and str(kept_vote.pk) not in listing


def make_superuser():
    from accounts.models import User

    return User.objects.create_superuser("root", password="x")


def test_it_leaves_the_single_image_rating_pool(bob, shared_pair, moderator, settings):
    settings.AESTHETICS_CONTROL_EVERY = 0
    assert shared_comparisons_join() == 2
    left, right = shown_pair(shared_pair)
    image_hide(image=left, by=moderator[0], reason="abuse")
    served = {rating_next(rater=bob[0]).generated_id for _ in range(20)}
    assert served == {right.pk}


def test_hiding_closes_its_open_reports_and_is_recorded_once(bob, charlie, shared_pair, moderator):
    left, _ = shown_pair(shared_pair)
    for reporter in (bob[0], charlie[0]):
        Report.objects.create(image=left, reporter=reporter, reason="abuse")
    image_hide(image=left, by=moderator[0], reason="clear harassment")
    assert set(Report.objects.values_list("status", "resolved_by")) == {("actioned", moderator[0].pk)}
    entry = AuditEntry.objects.get()
    assert (entry.actor, entry.action, entry.target_id, entry.reason) == (
        moderator[0],
        "image_hide",
        str(left.pk),
        "clear harassment",
    )
    assert entry.details == {"request": str(shared_pair.pk), "reports": 2}
    with pytest.raises(ModerationError):
        image_hide(image=left, by=moderator[0], reason="again")
    assert AuditEntry.objects.count() == 1


def test_a_hide_without_a_reason_changes_nothing(shared_pair, moderator):
    left, _ = shown_pair(shared_pair)
    with pytest.raises(ModerationError):
        image_hide(image=left, by=moderator[0], reason=" ")
    left.refresh_from_db()
    assert left.hidden_at is None and default_storage.exists(left.file.name)
    assert not AuditEntry.objects.exists()


def test_unhiding_puts_the_file_back(bob, shared_pair, moderator):
    left, _ = shown_pair(shared_pair)
    image_hide(image=left, by=moderator[0], reason="abuse")
    image_unhide(image=left, by=moderator[0], reason="appeal: it was fine")
    assert Client().get(left.file.url).status_code == 200
    assert list(arena_pool(rater=bob[0])) == [shared_pair]
    assert list(AuditEntry.objects.order_by("id").values_list("action", flat=True)) == ["image_hide", "image_unhide"]


def test_deleting_the_file_keeps_the_record_hidden_and_marked(
    shared_pair, moderator, django_capture_on_commit_callbacks
):
    left, _ = shown_pair(shared_pair)
    name = left.file.name
    with django_capture_on_commit_callbacks(execute=True):
        image_file_delete(image=left, by=moderator[0], reason="illegal")
    left.refresh_from_db()
    assert left.hidden_at is not None and left.file_deleted_at is not None
    assert not default_storage.exists(name) and not private_storage().exists(name)
    assert AuditEntry.objects.get().action == "image_file_delete"
    with pytest.raises(ModerationError):
        image_unhide(image=left, by=moderator[0], reason="no")


def test_nobody_can_judge_a_hidden_pair_its_owner_nor_an_arena_rater_it_was_issued_to(
    api_client, alice, bob, shared_pair, moderator, settings
):
    settings.RATINGS_MIN_SECONDS_TO_VOTE = 0
    settings.RATINGS_GOLD_EVERY = 0
    settings.RATINGS_CALIBRATION_CHECKS = 0
    settings.RATINGS_ARENA_MIN_VOTE_INTERVAL_SECONDS = 0
    issued = api_client.get("/api/v2/ratings/arena/next", HTTP_APIKEY=bob[1]).json()["assignment"]
    assert issued is not None
    image_hide(image=shown_pair(shared_pair)[0], by=moderator[0], reason="abuse")
    arena = api_client.post(
        f"/api/v2/ratings/arena/{issued['id']}", {"choice": "left"}, format="json", HTTP_APIKEY=bob[1]
    )
    assert arena.status_code == 400 and arena.json()["rc"] == "PairHidden"
    own = api_client.post(
        f"/api/v2/generate/rate/{shared_pair.id}", {"choice": "left"}, format="json", HTTP_APIKEY=alice[1]
    )
    assert own.status_code == 400 and own.json()["rc"] == "PairHidden"
    assert not Vote.objects.exists()
