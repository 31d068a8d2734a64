"""The dataset export: `export_ratings` command (parquet / jsonl) and the admin's Celery-run export."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pyarrow.parquet as pq
import pytest
from django.core.management import CommandError, call_command

from ratings.export import pseudonym, rater_hash

pytestmark = pytest.mark.django_db

OLD = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
NEW = datetime(2026, 3, 5, 9, 30, tzinfo=UTC)


@pytest.fixture
def judged(make_model, make_pipeline, make_pair, make_vote, make_user, raters):
    """Four counted votes (one old), one retracted, one by an excluded rater; real image files."""
    from django.utils import timezone

    from ratings.models import RaterTrust

    model = make_model()
    base, refiner = make_pipeline(model, "base", "1"), make_pipeline(model, "refiner", "2")
    RaterTrust.objects.filter(user=raters[0]).update(score=0.87)  # raters come calibrated
    counted = []
    request, a, b = make_pair(model, base, refiner, files=True, prompt="a red fox")
    counted.append(
        make_vote(
            request,
            raters[0],
            b,
            a,
            "left",
            created_at=NEW,
            left_aesthetic=8,
            right_aesthetic=3,
            left_artifacts=0,
            right_artifacts=4,
            seconds_to_vote=4.5,
        )
    )
    counted.append(make_vote(request, raters[1], a, b, "tie", created_at=NEW, source="arena"))
    request2, c, d = make_pair(model, base, refiner, files=True)
    counted.append(make_vote(request2, request2.user, c, d, "both_bad", created_at=NEW, source="owner"))
    counted.append(make_vote(request2, raters[0], d, c, "right", created_at=OLD))
    # Left out: a retracted vote and an excluded rater's vote.
    make_vote(request2, raters[1], c, d, "left", retracted_at=timezone.now())
    spammer = make_user("spammer")[0]
    RaterTrust.objects.create(user=spammer, excluded=True, score=0.0)
    make_vote(request2, spammer, c, d, "left")
    return {"model": model, "votes": counted, "raters": raters}


def run(fmt: str, out, *extra: str) -> None:
    call_command("export_ratings", "--format", fmt, "--out", str(out), "--no-progress", *extra)


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_parquet_holds_one_row_per_counted_vote_with_labels_and_images(judged, tmp_path):
    out = tmp_path / "ds"
    run("parquet", out)
    rows = pq.read_table(out / "ratings.parquet").to_pylist()
    assert len(rows) == 4
    by_vote = {row["vote_id"]: row for row in rows}
    first = by_vote[pseudonym("vote", judged["votes"][0].pk)]
    # Shown order: index 0 is the left image, here the refiner's.
    assert (first["pipeline_0"], first["pipeline_0_version"]) == ("refiner", "2")
    assert (first["pipeline_1"], first["pipeline_1_version"]) == ("base", "1")
    assert first["shown_order"] == [first["image_0_id"], first["image_1_id"]]
    assert (first["choice"], first["label_0"], first["label_1"]) == ("left", 1.0, 0.0)
    assert (first["aesthetic_0"], first["aesthetic_1"], first["artifacts_0"], first["artifacts_1"]) == (8, 3, 0, 4)
    assert first["prompt"] == "a red fox" and json.loads(first["params"])["sampler_name"] == "k_euler"
    assert first["model"] == judged["model"].name and "seed" not in first
    assert first["request_id"] == pseudonym("request", judged["votes"][0].request_id)
    assert first["image_0_id"] == pseudonym("image", judged["votes"][0].left_image_id)
    assert first["is_check"] is False
    assert first["rater_trust"] == pytest.approx(0.87) and first["seconds_to_vote"] == 4.5
    assert first["voted_at"] == NEW and first["requested_at"] is not None
    assert "image_0_url" not in first and "image_1_url" not in first
    labels = {row["choice"]: (row["label_0"], row["label_1"]) for row in rows}
    assert labels == {"left": (1.0, 0.0), "tie": (0.5, 0.5), "both_bad": (0.5, 0.5), "right": (0.0, 1.0)}
    for row in rows:
        for side in ("image_0_file", "image_1_file"):
            assert row[side] == f"images/{row[side.replace('file', 'id')]}.webp"
            assert (out / row[side]).read_bytes()[8:12] == b"WEBP"
    assert len(list((out / "images").iterdir())) == 4  # each image copied once


def test_the_rater_id_is_hashed_never_raw(judged, tmp_path):
    out = tmp_path / "ds"
    run("parquet", out)
    rows = pq.read_table(out / "ratings.parquet").to_pylist()
    rater = judged["raters"][0]
    hashes = {row["rater_hash"] for row in rows}
    assert rater_hash(rater.pk) in hashes
    assert len(hashes) == 3  # three distinct counted raters
    for row in rows:
        assert len(row["rater_hash"]) == 64 and row["rater_hash"] != str(rater.pk)
    raw = (out / "ratings.parquet").read_bytes()
    assert rater.username.encode() not in raw


def test_jsonl_holds_the_same_rows_one_object_per_line(judged, tmp_path):
    out = tmp_path / "ds"
    run("jsonl", out)
    rows = read_jsonl(out / "ratings.jsonl")
    assert len(rows) == 4
    assert {row["vote_id"] for row in rows} == {pseudonym("vote", vote.pk) for vote in judged["votes"]}
    tie = next(row for row in rows if row["choice"] == "tie")
    assert (tie["label_0"], tie["label_1"]) == (0.5, 0.5)
    assert tie["params"] == {"sampler_name": "k_euler", "cfg_scale": 7.0}
    assert tie["rater_trust"] == 1.0  # a calibrated rater, default score
    owner = next(row for row in rows if row["source"] == "owner")
    assert owner["choice"] == "both_bad"
    assert datetime.fromisoformat(tie["voted_at"]) == NEW
    assert all((out / row["image_1_file"]).is_file() for row in rows)


def test_the_manifest_counts_what_was_written(judged, tmp_path):
    out = tmp_path / "ds"
    run("jsonl", out, "--since", "2026-02-01")
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["format"] == "jsonl" and manifest["data_file"] == "ratings.jsonl"
    assert manifest["rows"] == 3 and manifest["images"] == 4 and manifest["images_missing"] == 0
    assert manifest["since"] == "2026-02-01T00:00:00+00:00"
    assert datetime.fromisoformat(manifest["created_at"])
    assert "rater_hash" in manifest["columns"]


def test_since_leaves_out_older_votes(judged, tmp_path):
    run("parquet", tmp_path / "all")
    run("parquet", tmp_path / "recent", "--since", "2026-02-01")
    run("parquet", tmp_path / "to_the_minute", "--since", "2026-03-05T09:30:00Z")
    run("parquet", tmp_path / "none", "--since", "2026-03-05T09:30:01+00:00")
    assert pq.read_table(tmp_path / "all" / "ratings.parquet").num_rows == 4
    recent = pq.read_table(tmp_path / "recent" / "ratings.parquet").to_pylist()
    assert len(recent) == 3 and all(row["voted_at"] >= datetime(2026, 2, 1, tzinfo=UTC) for row in recent)
    assert pq.read_table(tmp_path / "to_the_minute" / "ratings.parquet").num_rows == 3
    assert pq.read_table(tmp_path / "none" / "ratings.parquet").num_rows == 0


def test_a_missing_image_file_keeps_the_row_and_is_counted(judged, tmp_path):
    image = judged["votes"][0].left_image
    image.file.storage.delete(image.file.name)
    out = tmp_path / "ds"
    run("jsonl", out)
    rows = read_jsonl(out / "ratings.jsonl")
    assert len(rows) == 4
    assert {row["image_0_file"] for row in rows if row["image_0_id"] == pseudonym("image", image.pk)} == {None}
    assert json.loads((out / "manifest.json").read_text())["images_missing"] == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "csv", "--out", "OUT"], "invalid choice: 'csv'"),
        (["--format", "parquet"], "--out"),
        (["--out", "OUT"], "--format"),
        (["--format", "jsonl", "--out", "OUT", "--since", "yesterday"], "is not a date"),
        (["--format", "jsonl", "--out", "OUT", "--since", "2026-02-30"], "is not a date"),
        (["--format", "jsonl", "--out", "FULL"], "is not empty"),
        (["--format", "jsonl", "--out", "FILE"], "is a file"),
    ],
)
def test_bad_arguments_are_clear_errors_and_write_nothing(judged, tmp_path, args, message):
    (tmp_path / "FULL").mkdir()
    (tmp_path / "FULL" / "ratings.jsonl").write_text("old\n")
    (tmp_path / "FILE").write_text("x")
    args = [str(tmp_path / arg) if arg in {"OUT", "FULL", "FILE"} else arg for arg in args]
    with pytest.raises(CommandError, match=message):
        call_command("export_ratings", "--no-progress", *args)
    assert not (tmp_path / "OUT").exists()
    assert (tmp_path / "FULL" / "ratings.jsonl").read_text() == "old\n"


def test_the_command_shows_a_progress_bar(judged, tmp_path, capsys):
    call_command("export_ratings", "--format", "jsonl", "--out", str(tmp_path / "ds"))
    captured = capsys.readouterr()
    assert "export_ratings" in captured.err and "4/4" in captured.err
    assert "Exported 4 votes and 4 images" in captured.out


def test_the_export_reads_a_fixed_number_of_queries_however_many_votes(
    judged, tmp_path, make_pair, make_vote, make_user, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        run("jsonl", tmp_path / "few")
    model = judged["model"]
    base, refiner = (job.pipeline for job in judged["votes"][0].request.jobs.order_by("index"))
    for i in range(6):
        request, a, b = make_pair(model, base, refiner)
        make_vote(request, make_user(f"extra{i}")[0], a, b, "left")
    with django_assert_max_num_queries(len(few.captured_queries)):
        run("jsonl", tmp_path / "many")
    assert len(read_jsonl(tmp_path / "many" / "ratings.jsonl")) == 10
