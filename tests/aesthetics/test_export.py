"""The per-image dataset: counted ratings only, pseudonymous raters with trust, the images."""

from __future__ import annotations

import io
import json

import pyarrow.parquet as pq
import pytest
from django.core.management import CommandError, call_command

from aesthetics.export import export_image_ratings
from aesthetics.services import image_rate
from generation.services.images import webp_is_clean
from ratings.export import rater_hash
from ratings.models import RaterTrust

from .conftest import set_images

pytestmark = pytest.mark.django_db


@pytest.fixture
def rated(alice, bob, charlie, make_set):
    images = set_images(make_set(count=3, controls={2: 7}))
    for rater, values in ((alice, (8, 2)), (bob, (6, None)), (charlie, (1, 5))):
        image_rate(rater=rater[0], image_id=images[0].id, rating=values[0], artifacts=values[1])
    image_rate(rater=alice[0], image_id=images[2].id, rating=7, artifacts=0)  # the control image
    RaterTrust.objects.filter(user=alice[0]).update(score=0.9)
    RaterTrust.objects.filter(user=charlie[0]).update(excluded=True)  # left out
    return images


def test_parquet_export_has_a_row_per_image_and_per_counted_rating_with_the_images(rated, alice, bob, tmp_path):
    out = tmp_path / "out"
    result = export_image_ratings(format="parquet", out_dir=out)

    assert (result.images, result.ratings) == (2, 2)  # the control image is not exported
    images = {row["prompt"]: row for row in pq.read_table(out / "images.parquet").to_pylist()}
    first = images["prompt number 0"]
    # Alice 8 and Bob 6 count; excluded Charlie's 1 does not.
    assert (first["rating_count"], first["rating_mean"], first["rating_median"]) == (2, 7.0, 7.0)
    assert (first["artifacts_count"], first["artifacts_mean"]) == (1, 2.0)
    unrated = images["prompt number 1"]
    assert (unrated["rating_count"], unrated["rating_mean"], unrated["rating_median"]) == (0, None, None)
    assert webp_is_clean((out / first["file"]).read_bytes())
    assert str(rated[0].id) not in first["image_id"] and str(rated[0].id) not in first["file"]

    ratings = pq.read_table(out / "ratings.parquet").to_pylist()
    assert sorted((r["rater_hash"], r["rating"], r["rater_trust"]) for r in ratings) == sorted(
        [(rater_hash(alice[0].pk), 8, 0.9), (rater_hash(bob[0].pk), 6, 1.0)]
    )
    assert {r["image_id"] for r in ratings} == {first["image_id"]}
    assert json.loads((out / "manifest.json").read_text())["ratings"] == 2


def test_jsonl_export_from_the_command_line_holds_the_same_figures(rated, tmp_path):
    out = tmp_path / "jsonl"
    stdout = io.StringIO()
    call_command(
        "export_image_ratings", str(out), "--format", "jsonl", "--set", "laion-test", "--no-progress", stdout=stdout
    )
    assert "2 images, 2 ratings" in stdout.getvalue()
    rows = [json.loads(line) for line in (out / "images.jsonl").read_text().splitlines()]
    assert sorted(row["rating_count"] for row in rows) == [0, 2]
    rating_rows = [json.loads(line) for line in (out / "ratings.jsonl").read_text().splitlines()]
    assert all(row["rated_at"].endswith("+00:00") for row in rating_rows)


def test_a_non_empty_folder_or_an_unknown_set_is_refused(rated, tmp_path):
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "old.txt").write_text("x")
    with pytest.raises(CommandError, match="not empty"):
        call_command("export_image_ratings", str(tmp_path / "used"), "--no-progress")
    with pytest.raises(CommandError, match="No rating set named"):
        call_command("export_image_ratings", str(tmp_path / "new"), "--set", "nope", "--no-progress")
