"""Image models, pipelines, workers, requests, jobs and images.

Invariants:
- PostgreSQL is the queue of record: a Job's `status` says where it is; the
  broker only carries job ids to workers. A job moves queued -> claimed ->
  done through compare-and-swap updates (generation.services), so a message
  delivered twice, or a job popped by two workers, still runs once.
- A claimed job carries `expires_at`; past it, housekeeping puts the job back
  in the queue (its worker vanished).
- One Image per Job at most (OneToOne), so a second submit stores nothing.
- For a model that compares pipelines (the SDXL beta), every job of a request
  has a different pipeline, all with the request's seed, and each job's
  `position` is the place its image is shown in (0 = left, 1 = right).
- A model that compares pipelines makes exactly 2 images per request, for
  registered users only, always shared, at least 1024x1024: CheckConstraints,
  so no admin edit or script can make it anonymous or a one-image "pair".
- An Image with `hidden_at` set was taken down by a moderator: it, and for comparison
  purposes its whole pair (`hidden_pair_requests()`), is left out of every public place,
  and its file is moved out of public storage
  (moderation.hiding). `file_deleted_at`: the file itself is gone, the record kept.
- A retired worker (DELETE /v2/workers/{id}) keeps its row (its images stay attributed)
  but gives up its name: names are unique among live workers only.
- A worker in maintenance, paused or retired gets no jobs: the claim's SQL rules read
  these columns, so no stale worker object in a process can claim past them.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

# The smallest side of a comparison (SDXL beta) image: its rules are database constraints.
COMPARISON_MIN_SIZE = 1024


class ImageModel(models.Model):
    name = models.CharField(max_length=100, unique=True, help_text="AI Horde style, e.g. SDXL_beta::stability.ai#6901")
    description = models.TextField(blank=True)
    enabled = models.BooleanField(default=True)
    # The Celery queue GPU workers serving this model consume.
    queue = models.CharField(max_length=100, unique=True)
    default_width = models.PositiveIntegerField(default=512)
    default_height = models.PositiveIntegerField(default=512)
    min_width = models.PositiveIntegerField(default=64)
    max_width = models.PositiveIntegerField(default=1024)
    min_height = models.PositiveIntegerField(default=64)
    max_height = models.PositiveIntegerField(default=1024)
    default_steps = models.PositiveIntegerField(default=30)
    max_steps = models.PositiveIntegerField(default=100)
    anonymous_allowed = models.BooleanField(default=True)
    always_shared = models.BooleanField(default=False)
    # None: as many as the request asks for (up to n's limit). The SDXL beta: exactly 2.
    images_per_request = models.PositiveSmallIntegerField(null=True, blank=True)
    # Each image of a request from a different active pipeline (the SDXL beta comparison).
    compare_pipelines = models.BooleanField(default=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(name="imagemodel_width_range", condition=Q(min_width__lte=models.F("max_width"))),
            models.CheckConstraint(name="imagemodel_height_range", condition=Q(min_height__lte=models.F("max_height"))),
            # The comparison's rules (the SDXL beta), one constraint each so a refused edit names
            # its rule. `IS NOT NULL` matters: a CHECK that comes out NULL passes, so "= 2" alone
            # would let a comparison model with no fixed image count through.
            models.CheckConstraint(
                name="imagemodel_comparison_two_images",
                condition=Q(compare_pipelines=False) | Q(images_per_request__isnull=False, images_per_request=2),
                violation_error_message="A model that compares pipelines makes exactly 2 images per request.",
            ),
            models.CheckConstraint(
                name="imagemodel_comparison_registered_only",
                condition=Q(compare_pipelines=False) | Q(anonymous_allowed=False),
                violation_error_message="A model that compares pipelines is for registered users only "
                "(anonymous allowed must be off).",
            ),
            models.CheckConstraint(
                name="imagemodel_comparison_always_shared",
                condition=Q(compare_pipelines=False) | Q(always_shared=True),
                violation_error_message="A model that compares pipelines is always shared.",
            ),
            models.CheckConstraint(
                name="imagemodel_comparison_min_size",
                condition=Q(compare_pipelines=False)
                | Q(min_width__gte=COMPARISON_MIN_SIZE, min_height__gte=COMPARISON_MIN_SIZE),
                violation_error_message=f"A model that compares pipelines is at least "
                f"{COMPARISON_MIN_SIZE}x{COMPARISON_MIN_SIZE} (min width and min height).",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Pipeline(models.Model):
    """A named, versioned inference recipe of a model (staff switch it on or off)."""

    model = models.ForeignKey(ImageModel, on_delete=models.CASCADE, related_name="pipelines")
    name = models.CharField(max_length=100)
    version = models.CharField(max_length=50, default="1")
    active = models.BooleanField(default=True)
    description = models.TextField(blank=True)
    # The backend's recipe as data (checkpoints, scheduler, steps, guidance, refiner...).
    recipe = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["model", "name", "version"]
        constraints = [
            models.UniqueConstraint(fields=["model", "name", "version"], name="pipeline_unique_version"),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class Team(models.Model):
    """Workers that pool their contributions under one name (the AI Horde's teams).

    The totals count what its workers did while in the team (a worker that leaves
    takes nothing back): kept by job completion and uptime payments."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=100, unique=True)
    info = models.CharField(max_length=1000, blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="teams")
    requests_fulfilled = models.PositiveIntegerField(default=0)
    kudos = models.BigIntegerField(default=0)
    uptime_seconds = models.BigIntegerField(default=0)
    mps_done = models.FloatField(default=0)
    seconds_busy = models.FloatField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Worker(models.Model):
    class Kind(models.TextChoices):
        CELERY = "celery", "Celery GPU worker"
        HTTP = "http", "HTTP volunteer worker"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=100)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="workers")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.HTTP)
    model_names = models.JSONField(default=list, blank=True, help_text="Names of the image models it serves.")
    backend = models.CharField(max_length=50, blank=True)
    max_pixels = models.PositiveBigIntegerField(default=1024 * 1024)
    nsfw = models.BooleanField(default=False)
    maintenance = models.BooleanField(default=False)
    # The owner's note shown as the worker's `info` (the AI Horde's), apart from the device facts.
    note = models.CharField(max_length=1000, blank=True)
    # What the owner is told when a pop is refused for maintenance (the AI Horde's maintenance_msg).
    maintenance_msg = models.CharField(max_length=1000, blank=True)
    paused = models.BooleanField(default=False)
    # Set by DELETE /v2/workers/{id}: out of every list and claim, its name free for a new worker.
    retired_at = models.DateTimeField(null=True, blank=True)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="workers")
    # Staff flags (moderation.services.worker_flag): 1 = no comparison work, 2+ = no work at all.
    flags = models.PositiveSmallIntegerField(default=0, editable=False)
    info = models.JSONField(default=dict, blank=True, help_text="Device, memory in use, versions (from heartbeats).")
    last_seen = models.DateTimeField(null=True, blank=True, db_index=True)
    jobs_done = models.PositiveIntegerField(default=0)
    kudos_earned = models.BigIntegerField(default=0)
    # Total megapixel-steps and seconds of finished jobs: the speed for wait estimates.
    mps_done = models.FloatField(default=0)
    seconds_busy = models.FloatField(default=0)
    # Uptime rewards (generation.services.uptime): the start of the current unbroken stretch
    # online and taking work, the last paid interval (its index since the epoch), the total paid.
    uptime_since = models.DateTimeField(null=True, blank=True)
    uptime_paid_interval = models.BigIntegerField(default=0)
    uptime_kudos = models.BigIntegerField(default=0)
    # Claims in a row that failed (a fault, a bad image, a vanished claim); a finished job resets it.
    fault_streak = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["name"], condition=Q(retired_at__isnull=True), name="worker_unique_live_name"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class WorkerMessage(models.Model):
    """A message from staff to a worker's owner (the AI Horde's worker messages), until it expires."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    worker = models.ForeignKey(Worker, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    message = models.CharField(max_length=2000)
    origin = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.message[:50]


class GenerationRequest(models.Model):
    class Status(models.TextChoices):
        WAITING = "waiting", "Waiting"
        PROCESSING = "processing", "Processing"
        DONE = "done", "Done"
        FAULTED = "faulted", "Faulted"
        CANCELLED = "cancelled", "Cancelled"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="generation_requests")
    # The shared key that paid, if one did: refunds go back to its allowance.
    shared_key = models.ForeignKey(
        "accounts.SharedKey", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    model = models.ForeignKey(ImageModel, on_delete=models.PROTECT, related_name="requests")
    prompt = models.TextField()
    # Validated, normalised AI Horde params (sampler_name, cfg_scale, karras, ...).
    params = models.JSONField(default=dict)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    steps = models.PositiveIntegerField()
    seed = models.BigIntegerField()
    n = models.PositiveSmallIntegerField()
    nsfw = models.BooleanField(default=False)
    censor_nsfw = models.BooleanField(default=False)
    shared = models.BooleanField(default=False)
    r2 = models.BooleanField(default=True)
    trusted_workers = models.BooleanField(default=False)
    slow_workers = models.BooleanField(default=True)
    workers = models.JSONField(default=list, blank=True)
    worker_blacklist = models.BooleanField(default=False)
    client_agent = models.CharField(max_length=200, blank=True)
    kudos = models.BigIntegerField(help_text="Price of the whole request (one pricing function).")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.WAITING, db_index=True)
    faults = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The arena's stored state (written by ratings.services.voting only), so that picking the
    # next pair is an index seek, never a count of votes: `arena_votes` is the pair's live
    # votes (owner and arena), moved in the same transaction as each vote and undo;
    # `arena_pool` says the request may still be served in the arena (submit clears it for a
    # request that is no comparison; a retired pair has it cleared for good, `arena_retired_at`).
    # db_default as well, so rows inserted in SQL (benches, data loads) start right too.
    arena_votes = models.PositiveIntegerField(default=0, db_default=0)
    arena_pool = models.BooleanField(default=True, db_default=True)
    arena_retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # ratings.arena_pool: fewest votes first, from a random point of the lowest
            # tier. The condition is the pool's own, so only servable pairs are in the index.
            models.Index(
                fields=["arena_votes", "id"],
                name="request_arena_seek",
                condition=Q(arena_pool=True, shared=True, status="done"),
            ),
            # Example pairs on the leaderboard come only from retired pairs.
            models.Index(
                fields=["arena_retired_at"], name="request_arena_retired", condition=Q(arena_retired_at__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return str(self.id)


class Job(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        CLAIMED = "claimed", "Claimed"
        DONE = "done", "Done"
        FAULTED = "faulted", "Faulted"
        CANCELLED = "cancelled", "Cancelled"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    request = models.ForeignKey(GenerationRequest, on_delete=models.CASCADE, related_name="jobs")
    index = models.PositiveSmallIntegerField()
    # Where its image is shown in the request (0 = left, 1 = right for a pair), drawn at random.
    position = models.PositiveSmallIntegerField()
    model = models.ForeignKey(ImageModel, on_delete=models.PROTECT, related_name="+")
    pipeline = models.ForeignKey(Pipeline, null=True, blank=True, on_delete=models.PROTECT, related_name="jobs")
    seed = models.BigIntegerField()
    kudos = models.BigIntegerField(help_text="This job's share of the request's price.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    # Claim order: higher first, then older. Set at submission from the requester's
    # kudos, with aging folded in (see generation.pricing / queue ordering).
    priority = models.FloatField(default=0)
    worker = models.ForeignKey(Worker, null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs")
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    pipeline_version = models.CharField(max_length=50, blank=True)
    inference_seconds = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["request", "index"], name="job_unique_index"),
            models.UniqueConstraint(fields=["request", "position"], name="job_unique_position"),
        ]
        indexes = [
            models.Index(
                fields=["model", "-priority", "created_at"],
                name="job_claim_order",
                condition=Q(status="queued"),
            ),
            models.Index(fields=["expires_at"], name="job_claimed_expiry", condition=Q(status="claimed")),
        ]

    def __str__(self) -> str:
        return f"{self.request_id}#{self.index}"


class Image(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    job = models.OneToOneField(Job, on_delete=models.CASCADE, related_name="image")
    request = models.ForeignKey(GenerationRequest, on_delete=models.CASCADE, related_name="images")
    file = models.FileField(upload_to="images/%Y/%m/%d/")
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    seed = models.BigIntegerField()
    censored = models.BooleanField(default=False)
    worker = models.ForeignKey(Worker, null=True, blank=True, on_delete=models.SET_NULL, related_name="images")
    created_at = models.DateTimeField(auto_now_add=True)
    hidden_at = models.DateTimeField(null=True, blank=True, editable=False, db_index=True)
    file_deleted_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["request", "job__position"]
        indexes = [
            # The arena and the counted votes leave out pairs with a censored image on every
            # call (ratings.selectors.censored_request_ids): a handful of rows among all images.
            models.Index(fields=["request"], condition=Q(censored=True), name="image_censored_request"),
        ]

    def __str__(self) -> str:
        return str(self.id)


def hidden_pair_requests() -> models.QuerySet:
    """Ids of requests holding a hidden image: for comparisons (arena, leaderboard, export,
    judging) a hidden image takes its whole pair with it."""
    return Image.objects.filter(hidden_at__isnull=False).values("request_id")


class Style(models.Model):
    """A named prompt template with params, staff-made in the admin (the AI Horde's image style).

    `prompt` holds `{p}` (where the requester's prompt goes) and `{np}` (their negative
    prompt); a request naming the style (by id or name) runs under the style's models and
    params, keeping only its own n, and width and height where the style sets none
    (generation.services.styles, called by the one submit service). The admin form checks
    the template, the params (the async body's own rules) and the model names.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=100, unique=True)
    info = models.CharField(max_length=1000, blank=True, help_text="What the style is for.")
    prompt = models.TextField(help_text="The template: {p} is the requester's prompt, {np} their negative prompt.")
    params = models.JSONField(default=dict, blank=True, help_text='Generation params, e.g. {"steps": 30}.')
    model_names = models.JSONField(default=list, help_text="The image models it runs on (1 to 5 names).")
    tags = models.JSONField(default=list, blank=True, help_text="Up to 10 words.")
    nsfw = models.BooleanField(default=False)
    public = models.BooleanField(default=True, help_text="Listed; a style that is not is found by id or name only.")
    use_count = models.PositiveIntegerField(default=0, editable=False)
    creator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["-use_count", "name"], name="style_popular")]

    def __str__(self) -> str:
        return self.name


class GenerationStat(models.Model):
    """Finished images and pixel-steps of one model in one period: counters, never recounted.

    A finished job adds to its model's minute row in the transaction that finishes it (one
    atomic add, generation.services.stats), so each job counts once. Housekeeping folds old rows
    into coarser ones (minutes past two hours into hours, hours past two days into days, days
    past 35 days into the model's total row), so a read sums at most ~200 rows per model.
    """

    class Span(models.TextChoices):
        MINUTE = "minute", "Minute"
        HOUR = "hour", "Hour"
        DAY = "day", "Day"
        TOTAL = "total", "Everything older"

    model = models.ForeignKey(ImageModel, on_delete=models.CASCADE, related_name="+")
    span = models.CharField(max_length=6, choices=Span.choices)
    # The period's start (the epoch for a total row).
    start = models.DateTimeField()
    images = models.BigIntegerField(default=0)
    pixelsteps = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["model", "span", "start"], name="generationstat_unique_period"),
            models.CheckConstraint(
                name="generationstat_counts_not_negative", condition=Q(images__gte=0, pixelsteps__gte=0)
            ),
        ]
        indexes = [models.Index(fields=["start"], name="generationstat_start")]

    def __str__(self) -> str:
        return f"{self.model_id} {self.span} {self.start:%Y-%m-%d %H:%M}"
