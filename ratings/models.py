"""Pairwise votes, per-image ratings, rater trust.

Invariants:
- A vote names the two images of one request exactly as the server showed
  them to that rater (`left_image`, `right_image`, from a server-issued
  PairAssignment or the request's stored shown order), never client-chosen ids.
- A request is judged at most once by its owner, and at most once by each
  arena rater (a unique constraint on live votes decides, also under races).
- Gold pairs and control images are staff-marked items with a known answer,
  mixed into the arena to measure each rater (ratings.services.trust).
- A vote on a gold pair or on a pair holding an active control image is marked
  `is_check` when it is cast (owner and arena votes alike): never a preference.
- Votes are never deleted: an undone arena vote is marked `retracted_at`;
  votes of raters whose trust is `excluded` are kept but left out of the
  leaderboard and the export.
- A vote's weight on the leaderboard comes from its rater's RaterTrust only
  (`ratings.selectors.vote_weights`): 0 before calibration, when excluded or
  flagged; never above RATINGS_WEIGHT_CAP.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from generation.models import GenerationRequest, Image, Pipeline


class PairAssignment(models.Model):
    """A pair the server showed to a rater, in the order shown."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    rater = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="pair_assignments")
    request = models.ForeignKey(GenerationRequest, on_delete=models.CASCADE, related_name="pair_assignments")
    left_image = models.ForeignKey(Image, on_delete=models.CASCADE, related_name="+")
    right_image = models.ForeignKey(Image, on_delete=models.CASCADE, related_name="+")
    # Never shown to the rater: a check item is served exactly like any other pair.
    is_gold = models.BooleanField(default=False)
    # A default, not auto_now_add, so the services' `now=` clock holds here too.
    issued_at = models.DateTimeField(default=timezone.now)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(name="assignment_two_images", condition=~Q(left_image=models.F("right_image"))),
        ]

    def __str__(self) -> str:
        return f"pair {self.request_id} for {self.rater_id}"


class Vote(models.Model):
    class Choice(models.TextChoices):
        LEFT = "left", "Left is better"
        RIGHT = "right", "Right is better"
        TIE = "tie", "Tie"
        BOTH_BAD = "both_bad", "Both bad"

    class Source(models.TextChoices):
        OWNER = "owner", "Requester judging their own pair"
        ARENA = "arena", "Arena rater"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    request = models.ForeignKey(GenerationRequest, on_delete=models.PROTECT, related_name="votes")
    rater = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="votes")
    source = models.CharField(max_length=10, choices=Source.choices)
    assignment = models.OneToOneField(
        PairAssignment, null=True, blank=True, on_delete=models.PROTECT, related_name="vote"
    )
    # The pair as shown to this rater: left is position 0 on their screen.
    left_image = models.ForeignKey(Image, on_delete=models.PROTECT, related_name="+")
    right_image = models.ForeignKey(Image, on_delete=models.PROTECT, related_name="+")
    choice = models.CharField(max_length=10, choices=Choice.choices)
    left_aesthetic = models.PositiveSmallIntegerField(null=True, blank=True)
    right_aesthetic = models.PositiveSmallIntegerField(null=True, blank=True)
    left_artifacts = models.PositiveSmallIntegerField(null=True, blank=True)
    right_artifacts = models.PositiveSmallIntegerField(null=True, blank=True)
    seconds_to_vote = models.FloatField(null=True, blank=True)
    kudos_paid = models.PositiveIntegerField(default=0)
    # A default, not auto_now_add, so the services' `now=` clock (throttle, undo) holds here too.
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    retracted_at = models.DateTimeField(null=True, blank=True)
    # An answer to a check (a gold pair, or a pair holding an active control image when it
    # was cast): it has a staff-set answer, so it is never a preference (left out of the
    # leaderboard and, unless asked for, of the export).
    is_check = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["request", "rater"], condition=Q(retracted_at__isnull=True), name="vote_once_per_rater"
            ),
            models.CheckConstraint(name="vote_two_images", condition=~Q(left_image=models.F("right_image"))),
            models.CheckConstraint(
                name="vote_aesthetic_range",
                condition=(Q(left_aesthetic__isnull=True) | Q(left_aesthetic__gte=1, left_aesthetic__lte=10))
                & (Q(right_aesthetic__isnull=True) | Q(right_aesthetic__gte=1, right_aesthetic__lte=10)),
            ),
            models.CheckConstraint(
                name="vote_artifacts_range",
                condition=(Q(left_artifacts__isnull=True) | Q(left_artifacts__lte=5))
                & (Q(right_artifacts__isnull=True) | Q(right_artifacts__lte=5)),
            ),
        ]
        indexes = [
            # The incremental trust recompute looks up votes undone since its previous run.
            models.Index(fields=["retracted_at"], name="vote_retracted", condition=Q(retracted_at__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.choice} on {self.request_id} by {self.rater_id}"


class RaterTrust(models.Model):
    """Per-rater quality figures, recomputed by a periodic task; staff may override."""

    class Override(models.TextChoices):
        NONE = "", "Automatic"
        TRUSTED = "trusted", "Trusted by staff"
        BLOCKED = "blocked", "Blocked by staff"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="rater_trust")
    gold_votes = models.PositiveIntegerField(default=0)
    gold_agreement = models.FloatField(null=True, blank=True)
    consensus_votes = models.PositiveIntegerField(default=0)
    consensus_agreement = models.FloatField(null=True, blank=True)
    votes_per_minute = models.FloatField(null=True, blank=True)
    account_age_days = models.FloatField(null=True, blank=True)
    score = models.FloatField(default=1.0)
    override = models.CharField(max_length=10, choices=Override.choices, blank=True, default="")
    # Live arena votes: calibration also waits for RATINGS_CALIBRATION_PAIRS of them.
    arena_votes = models.PositiveIntegerField(default=0)
    # Below the threshold, blocked or flagged: earns nothing; votes left out of leaderboard and export.
    excluded = models.BooleanField(default=False, db_index=True)
    # Sides with one pipeline against the consensus far more often than the crowd does
    # (ratings.services.trust.side_taking): the figures of the most one-sided pipeline.
    flagged = models.BooleanField(default=False, db_index=True)
    bias_pipeline = models.ForeignKey(Pipeline, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    bias_opportunities = models.PositiveIntegerField(
        default=0, help_text="Votes on pairs where the consensus went against that pipeline."
    )
    bias_sided = models.PositiveIntegerField(default=0, help_text="Of those, votes that picked that pipeline.")
    bias_expected_rate = models.FloatField(
        null=True, blank=True, help_text="How often the other raters picked it on those pairs."
    )
    bias_p_value = models.FloatField(null=True, blank=True, help_text="One-sided binomial test, Bonferroni-corrected.")
    # The rater's standing in the crowd as the latest all-raters recompute read it (counted:
    # not excluded and calibrated). The next incremental recompute compares it with the
    # current standing: a rater who joined or left the crowd since changes the consensus of
    # everyone who voted on the same pairs or rated the same images.
    crowd_counted = models.BooleanField(default=False)
    crowd_excluded = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"trust of {self.user_id}"

    @property
    def calibrated(self) -> bool:
        """Enough check items answered well enough, and enough pairs judged (or trusted by staff).

        Read from the stored figures and the current settings, so changing a setting applies at once.
        """
        if self.override == self.Override.TRUSTED:
            return True
        checks = settings.RATINGS_CALIBRATION_CHECKS
        if checks <= 0:
            return True
        return (
            self.gold_votes >= checks
            and (self.gold_agreement or 0.0) >= settings.RATINGS_CALIBRATION_AGREEMENT
            # Waiting for the pairs too keeps the moment earning starts from pointing at a check item.
            and self.arena_votes >= settings.RATINGS_CALIBRATION_PAIRS
        )

    @property
    def base_weight(self) -> float:
        """Weight of one vote before the per-model influence cap: 0 until calibrated, when excluded
        or flagged; else the trust score, never above RATINGS_WEIGHT_CAP (staff-trusted: the cap)."""
        cap = settings.RATINGS_WEIGHT_CAP
        if self.override == self.Override.TRUSTED:
            return cap
        if self.excluded or self.flagged or not self.calibrated:
            return 0.0
        return max(0.0, min(cap, self.score))


class TrustVoteFigures(models.Model):
    """What one live vote adds to its rater's trust figures, as the latest recompute that
    touched its pair found them (ratings.services.trust_batch). A vote's part depends only on
    itself, its pair's check item and the counted crowd's votes on the same pair, so a run
    recomputes the parts of the pairs that changed and sums the stored parts of the raters."""

    # A cache the full recompute rebuilds (TRUNCATE, then one INSERT): no foreign key to check
    # per row, and UNLOGGED on PostgreSQL (migration 0008); emptied by a crash, which the next
    # run sees and answers with a full run (trust_runs).
    vote = models.OneToOneField(
        Vote, on_delete=models.CASCADE, primary_key=True, related_name="trust_figures", db_constraint=False
    )
    # No index besides the primary key: a full run reloads the table and builds its indexes
    # again, and the incremental runs find the parts they redo through the votes' own indexes
    # (so no pair column either) and scan the table for the raters they sum (a fraction of a
    # second at 1 M parts).
    rater_id = models.BigIntegerField()
    created_at = models.DateTimeField()
    arena = models.BooleanField()
    seconds_to_vote = models.FloatField(null=True)
    checks = models.SmallIntegerField()
    checks_right = models.SmallIntegerField()
    # Compared with a strict majority of at least RATINGS_CONSENSUS_MIN_OTHERS other counted votes.
    consensus = models.BooleanField()
    agreed = models.BooleanField()
    # The side-taking observations of a decisive vote between two pipelines (else null).
    left_pipeline_id = models.BigIntegerField(null=True)
    right_pipeline_id = models.BigIntegerField(null=True)
    picked_left = models.BooleanField(null=True)
    chance_left = models.FloatField(null=True)
    chance_right = models.FloatField(null=True)

    def __str__(self) -> str:
        return f"trust part of vote {self.vote_id}"


class TrustRecompute(models.Model):
    """One run of the all-raters trust recompute (ratings.services.trust_runs): when it read
    the data, whether it recomputed everyone or only the raters whose inputs changed since the
    previous run, and a digest of the check items' definitions (a change recomputes everyone)."""

    started_at = models.DateTimeField(db_index=True)
    finished_at = models.DateTimeField()
    full = models.BooleanField()
    raters = models.PositiveIntegerField()
    seconds = models.FloatField()
    checks_digest = models.CharField(max_length=64)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{'full' if self.full else 'incremental'} trust recompute at {self.started_at:%Y-%m-%d %H:%M}"


class GoldPair(models.Model):
    """A staff-marked pair with a known answer, mixed into the arena.

    `expected_choice` is in the request's stored order (Job.position 0 = left),
    whatever order a rater was shown: agreement compares the chosen image.
    """

    request = models.OneToOneField(GenerationRequest, on_delete=models.CASCADE, related_name="gold_pair")
    expected_choice = models.CharField(max_length=10, choices=Vote.Choice.choices)
    active = models.BooleanField(default=True)
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"gold {self.request_id}: {self.expected_choice}"


class ControlImage(models.Model):
    """A "rate this image N" attention check: its pair is served in the arena, and a
    rater who follows the instruction gives this image the aesthetic rating N."""

    image = models.OneToOneField(Image, on_delete=models.CASCADE, related_name="control")
    expected_aesthetic = models.PositiveSmallIntegerField()
    active = models.BooleanField(default=True)
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="control_aesthetic_range", condition=Q(expected_aesthetic__gte=1, expected_aesthetic__lte=10)
            ),
        ]

    def __str__(self) -> str:
        return f"control {self.image_id}: rate {self.expected_aesthetic}"


# --- dataset export (leaderboard branch) ---
class DatasetExport(models.Model):
    """One run of the ratings dataset export, started by staff from the admin.

    The run itself is ratings.export.export_ratings, the same code the
    `export_ratings` command calls; a Celery task moves the row queued -> running
    -> done/failed (a compare-and-swap on `status`, so a redelivered message does
    not run it twice).
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    class Format(models.TextChoices):
        PARQUET = "parquet", "Parquet"
        JSONL = "jsonl", "JSON lines"

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True)
    format = models.CharField(max_length=10, choices=Format.choices, default=Format.PARQUET)
    since = models.DateTimeField(null=True, blank=True, help_text="Only votes cast at or after this moment.")
    out_dir = models.CharField(max_length=500, blank=True, help_text="Folder the files were written to.")
    rows = models.PositiveIntegerField(default=0)
    images = models.PositiveIntegerField(default=0)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"export {self.pk} ({self.format}, {self.status})"
