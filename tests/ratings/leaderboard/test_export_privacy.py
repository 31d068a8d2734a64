"""The export's pseudonyms last (their own key) and nothing in a row links back to a user or a page."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from django.core.management import call_command

from ratings.export import pseudonym, rater_hash

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def shared_pair(make_model, make_pipeline, make_pair, make_user):
    """Alice's shared pair, judged by Alice (owner) and by Bob in the arena; Charlie's check answer."""
    from ratings.models import Vote

    alice, bob, charlie = (make_user(name)[0] for name in ("alice", "bob", "charlie"))
    model = make_model()
    base, refiner = make_pipeline(model, "base"), make_pipeline(model, "refiner")
    request, a, b = make_pair(model, base, refiner, owner=alice, files=True, prompt="a heron in fog")
    # A seed as the site draws them (up to 2^32): shown on the shared page, so never exported.
    request.seed = 3141592653
    request.params = {**request.params, "seed": str(request.seed)}
    request.save(update_fields=["seed", "params"])
    for image in (a, b):
        image.seed = request.seed
        image.save(update_fields=["seed"])
    owner_vote = Vote.objects.create(
        request=request, rater=alice, source="owner", left_image=a, right_image=b, choice="left"
    )
    arena_vote = Vote.objects.create(
        request=request, rater=bob, left_image=b, right_image=a, choice="right", source="arena"
    )
    check = Vote.objects.create(
        request=request, rater=charlie, left_image=a, right_image=b, choice="tie", source="arena", is_check=True
    )
    return {
        "request": request,
        "images": (a, b),
        "users": (alice, bob, charlie),
        "votes": (owner_vote, arena_vote, check),
    }


def export(out: Path, fmt: str = "jsonl", *extra: str) -> list[dict]:
    call_command("export_ratings", "--format", fmt, "--out", str(out), "--no-progress", *extra)
    if fmt == "jsonl":
        return [json.loads(line) for line in (out / "ratings.jsonl").read_text().splitlines()]
    return pq.read_table(out / "ratings.parquet").to_pylist()


def test_rater_pseudonyms_survive_a_secret_key_rotation(shared_pair, tmp_path, settings):
    settings.SECRET_KEY = "the-old-secret-key"
    before = sorted(row["rater_hash"] for row in export(tmp_path / "before"))
    settings.SECRET_KEY = "a-rotated-secret-key"
    after = sorted(row["rater_hash"] for row in export(tmp_path / "after"))
    assert before == after
    assert rater_hash(shared_pair["users"][0].pk) in after
    # The pseudonym key is what they hang on: a different key gives different pseudonyms.
    settings.RATINGS_PSEUDONYM_KEY = "another-pseudonym-key"
    other = sorted(row["rater_hash"] for row in export(tmp_path / "other"))
    assert set(other).isdisjoint(before)


def test_request_ids_are_pseudonyms_in_their_own_namespace(shared_pair, tmp_path):
    request = shared_pair["request"]
    rows = export(tmp_path / "ds")
    assert {row["request_id"] for row in rows} == {pseudonym("request", request.pk)}
    assert pseudonym("request", 7) != pseudonym("rater", 7) != pseudonym("image", 7)
    assert all(str(request.pk) not in json.dumps(row, default=str) for row in rows)
    manifest = json.loads((tmp_path / "ds" / "manifest.json").read_text())
    assert manifest["pseudonyms"]["key"] == "RATINGS_PSEUDONYM_KEY"


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_nothing_in_the_export_links_to_the_shared_request_page_or_a_username(shared_pair, tmp_path, client, fmt):
    alice, bob, charlie = shared_pair["users"]
    request = shared_pair["request"]
    # What anyone who sees Alice's shared page learns: her name next to these values.
    client.force_login(bob)
    response = client.get(f"/requests/{request.pk}")
    assert response.status_code == 200
    page = response.content.decode()
    assert alice.username in page
    image_ids = re.findall(r'data-image-id="([^"]+)"', page)
    image_srcs = re.findall(r'<img src="([^"]+)"', page)
    assert len(image_ids) == 2 and len(image_srcs) == 2 and str(request.seed) in page
    links = {
        str(request.pk),
        *image_ids,
        *(src.rsplit("/", 1)[-1] for src in image_srcs),  # the file names, whatever the host
        *(str(job_id) for job_id in request.jobs.values_list("id", flat=True)),
        str(request.seed),
        *(str(vote.pk) for vote in shared_pair["votes"]),
    }
    out = tmp_path / "ds"
    rows = export(out, fmt, "--include-checks")
    assert len(rows) == 3
    written = (out / ("ratings.jsonl" if fmt == "jsonl" else "ratings.parquet")).read_bytes()
    for token in links:
        assert token.encode() not in written, token
    for user in (alice, bob, charlie):
        assert user.username.encode() not in written
    # Nor do the image files' names give the pair away.
    names = {path.name for path in (out / "images").iterdir()}
    assert names == {f"{pseudonym('image', image.pk)}.webp" for image in shared_pair["images"]}
    assert not any(token in name for token in links for name in names)


def test_check_answers_are_left_out_by_default_and_flagged_when_asked_for(shared_pair, tmp_path):
    check = shared_pair["votes"][2]
    default = export(tmp_path / "default")
    assert len(default) == 2 and all(row["is_check"] is False for row in default)
    assert pseudonym("vote", check.pk) not in {row["vote_id"] for row in default}
    with_checks = export(tmp_path / "checks", "parquet", "--include-checks")
    flagged = {row["vote_id"]: row["is_check"] for row in with_checks}
    assert flagged[pseudonym("vote", check.pk)] is True and sum(flagged.values()) == 1
    manifest = json.loads((tmp_path / "checks" / "manifest.json").read_text())
    assert manifest["include_checks"] is True and manifest["rows"] == 3
    assert json.loads((tmp_path / "default" / "manifest.json").read_text())["include_checks"] is False


def test_the_seed_is_left_out_of_params(shared_pair, tmp_path):
    (row, *_) = export(tmp_path / "ds")
    assert "seed" not in row["params"] and row["params"]["sampler_name"] == "k_euler"


def _start(**env: str) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items() if key not in {"RATINGS_PSEUDONYM_KEY", "DEBUG"}}
    environment.update(env)
    code = "import django; django.setup(); from django.conf import settings; print(settings.RATINGS_PSEUDONYM_KEY)"
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60
    )


def test_without_a_pseudonym_key_the_site_refuses_to_start_unless_debug_is_on():
    refused = _start(DEBUG="0")
    assert refused.returncode != 0
    assert "ImproperlyConfigured" in refused.stderr and "RATINGS_PSEUDONYM_KEY is not set" in refused.stderr
    dev = _start(DEBUG="1")
    assert dev.returncode == 0 and dev.stdout.strip() == "insecure-dev-pseudonym-key-only-used-with-DEBUG"
    configured = _start(DEBUG="0", RATINGS_PSEUDONYM_KEY="a-real-key")
    assert configured.returncode == 0 and configured.stdout.strip() == "a-real-key"
