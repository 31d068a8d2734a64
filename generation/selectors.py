"""Reads of the generation app: progress, generations, model and worker stats.

The check payload is the hottest read (clients poll it): one statement reads
the request row, its grouped job counts and (while it waits) the indexed count
of the queue ahead; plus a cached speed figure per model.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.core.cache import cache
from django.core.files.storage import default_storage
from django.db import connection
from django.db.models import Count, F, Q, QuerySet, Sum
from django.urls import reverse
from django.utils import timezone

from generation import conf
from generation.models import GenerationRequest, Image, ImageModel, Job, Style, Team, Worker, WorkerMessage
from generation.pricing import megapixelsteps
from kudos.models import Entry

# Megapixel-steps per second assumed for a model nobody has served yet.
DEFAULT_SPEED_MPS = 1.0
SPEED_CACHE_SECONDS = 10


def workers_online() -> QuerySet[Worker]:
    cutoff = timezone.now() - timedelta(seconds=conf.worker_stale_seconds())
    return Worker.objects.filter(last_seen__gte=cutoff, paused=False, maintenance=False, retired_at__isnull=True)


def _model_capacity() -> dict[str, dict[str, Any]]:
    """Per model name: live workers, their summed speed (megapixel-steps per second), and
    what each could take (`serving`: owner id, trusted for comparisons, max pixels, nsfw). Cached."""
    key = "generation:model-capacity"
    found = cache.get(key)
    if found is not None:
        return found
    capacity: dict[str, dict[str, Any]] = {}
    rows = workers_online().values_list(
        "model_names", "mps_done", "seconds_busy", "owner_id", "kind", "owner__trusted", "max_pixels", "nsfw", "flags"
    )
    for names, mps, seconds, owner_id, kind, owner_trusted, max_pixels, nsfw, flags in rows:
        if flags >= 2:
            continue  # flagged twice: no work at all (the claim's worker_may_work)
        speed = (mps / seconds) if seconds > 0 else DEFAULT_SPEED_MPS
        # The claim's trust rule (worker_serves_comparisons): platform Celery workers, or a
        # trusted owner, and not flagged.
        trusted = (kind == Worker.Kind.CELERY or bool(owner_trusted)) and flags < 1
        for name in names or []:
            entry = capacity.setdefault(name, {"workers": 0, "speed": 0.0, "serving": []})
            entry["workers"] += 1
            entry["speed"] += speed
            entry["serving"].append((owner_id, trusted, max_pixels, nsfw))
    cache.set(key, capacity, SPEED_CACHE_SECONDS)
    return capacity


def _possible(row: dict[str, Any], serving: list) -> bool:
    """Whether a live worker could take this request under the claim's rules (size, nsfw,
    trusted workers, comparisons never served by the requester's own worker)."""
    pixels = row["width"] * row["height"]
    for owner_id, trusted, max_pixels, nsfw in serving:
        if max_pixels < pixels or (row["nsfw"] and not nsfw):
            continue
        if (row["trusted_workers"] or row["compare_pipelines"]) and not trusted:
            continue
        if row["compare_pipelines"] and owner_id == row["user_id"]:
            continue
        return True
    return False


def request_by_id(*, request_id: Any) -> GenerationRequest | None:
    """The request, or None for a malformed or unknown id."""
    import uuid

    try:
        pk = uuid.UUID(str(request_id))
    except (ValueError, TypeError):
        return None
    return GenerationRequest.objects.select_related("model").filter(pk=pk).first()


# The whole check in one statement: the request, its job counts, and (while it waits)
# how many queued jobs of its model are ahead of its best one (the claim index's order).
_PROGRESS_SQL = """
SELECT p.*, CASE WHEN p.waiting > 0 THEN (
    SELECT COUNT(*) FROM generation_job q
    WHERE q.status = 'queued' AND q.model_id = p.model_id
        AND (q.priority > p.best_priority OR (q.priority = p.best_priority AND q.created_at < p.best_created_at))
) ELSE 0 END AS queue_position
FROM (
    SELECT r.status, r.n, r.kudos, r.faults, r.width, r.height, r.steps, r.model_id, m.name AS model_name,
        r.user_id, r.nsfw, r.trusted_workers, m.compare_pipelines,
        COUNT(j.id) AS total,
        SUM(CASE WHEN j.status = 'done' THEN 1 ELSE 0 END) AS finished,
        SUM(CASE WHEN j.status = 'claimed' THEN 1 ELSE 0 END) AS processing,
        SUM(CASE WHEN j.status = 'queued' THEN 1 ELSE 0 END) AS waiting,
        MAX(CASE WHEN j.status = 'queued' THEN j.priority END) AS best_priority,
        MIN(CASE WHEN j.status = 'queued' THEN j.created_at END) AS best_created_at
    FROM generation_generationrequest r
    JOIN generation_imagemodel m ON m.id = r.model_id
    LEFT JOIN generation_job j ON j.request_id = r.id
    WHERE r.id = %s
    GROUP BY r.id, r.status, r.n, r.kudos, r.faults, r.width, r.height, r.steps, r.model_id, m.name,
        r.user_id, r.nsfw, r.trusted_workers, m.compare_pipelines
) p
"""


def request_progress_by_id(*, request_id: Any) -> dict[str, Any] | None:
    """The AI Horde check payload (RequestStatusCheck) in one query; None for a malformed
    or unknown id. The hottest read (clients poll it), hence raw SQL: no ORM compilation,
    no model instances."""
    import uuid

    try:
        pk = uuid.UUID(str(request_id))
    except (ValueError, TypeError):
        return None
    with connection.cursor() as cursor:
        cursor.execute(_PROGRESS_SQL, [GenerationRequest._meta.pk.get_db_prep_value(pk, connection)])
        columns = [column[0] for column in cursor.description]
        found = cursor.fetchone()
    if found is None:
        return None
    row = dict(zip(columns, found, strict=True))
    finished, processing, waiting = (int(row[key] or 0) for key in ("finished", "processing", "waiting"))
    total = int(row["total"]) or row["n"]
    per_job = megapixelsteps(width=row["width"], height=row["height"], steps=row["steps"])
    capacity = _model_capacity().get(row["model_name"], {"workers": 0, "speed": 0.0, "serving": []})
    queue_position = int(row["queue_position"] or 0)
    speed = capacity["speed"] or DEFAULT_SPEED_MPS
    one_worker = speed / max(int(capacity["workers"]), 1)
    # The jobs ahead are shared by every live worker; our own then take one worker's time.
    wait_time = 0
    if waiting or processing:
        wait_time = max(1, round(queue_position * per_job / speed + per_job / one_worker))
    done = row["status"] in (GenerationRequest.Status.DONE, GenerationRequest.Status.CANCELLED) or (
        finished == total and total > 0
    )
    each = row["kudos"] // max(row["n"], 1)
    return {
        "finished": finished,
        "processing": processing,
        "restarted": row["faults"],
        "waiting": waiting,
        "done": done,
        "faulted": row["status"] == GenerationRequest.Status.FAULTED,
        "wait_time": wait_time,
        "queue_position": queue_position,
        "kudos": float(each * finished),
        "is_possible": _possible(row, capacity["serving"]),
    }


def request_progress(*, request: GenerationRequest) -> dict[str, Any]:
    """The AI Horde check payload (RequestStatusCheck) of a request, read fresh."""
    progress = request_progress_by_id(request_id=request.pk)
    if progress is None:
        raise GenerationRequest.DoesNotExist(str(request.pk))
    return progress


def image_url(*, image: Image, base_url: str = "") -> str:
    url = default_storage.url(image.file.name)
    if url.startswith("/") and base_url:
        return base_url.rstrip("/") + url
    return url


def request_images(*, request: GenerationRequest) -> QuerySet[Image]:
    """The request's images in the order shown (Job.position)."""
    return (
        Image.objects.filter(request=request)
        .select_related("job__model", "job__pipeline", "worker")
        .order_by("job__position")
    )


# Apps above generation (imports point down) register here, in AppConfig.ready(), a function
# returning a Q on GenerationRequest that holds once its requester has judged the pair (ratings:
# their live verdict). With none registered no pair counts as judged: blindness fails closed.
judged_conditions: list[Callable[[], Q]] = []

# What a comparison pair's generations say of their worker while it must be judged blind: the
# same for both images, and nobody's (the nil UUID is no worker's id, uuid4 never draws it; no
# worker can register an empty name), so which worker served which image tells no pipeline.
UNNAMED_WORKER_ID = "00000000-0000-0000-0000-000000000000"
UNNAMED_WORKER_NAME = ""


def pair_judged_by_requester(*, request: GenerationRequest) -> bool:
    if not judged_conditions:
        return False
    rule = Q()
    for condition in judged_conditions:
        rule &= condition()
    return GenerationRequest.objects.filter(pk=request.pk).filter(rule).exists()


def workers_named(*, request: GenerationRequest, viewer_id: int | None, staff: bool = False) -> bool:
    """Whether this viewer may be told which worker made each image of the request.

    Always for a plain request. For a comparison pair only to staff, and to its requester once
    they judged it (their reveal names the pipelines then). Nobody else, even after that
    verdict: the pair stays in the arena, and a rater who found its request id would learn
    which image each worker made (a worker that loaded one pipeline names it)."""
    if not request.model.compare_pipelines or staff:
        return True
    return viewer_id is not None and viewer_id == request.user_id and pair_judged_by_requester(request=request)


def request_generations(
    *, request: GenerationRequest, base_url: str = "", staff: bool = False, viewer_id: int | None = None
) -> list[dict[str, Any]]:
    """The AI Horde status `generations[]`, in the order shown (Job.position).

    `img` is a URL (absolute when `base_url` is given) unless the request
    asked for r2=false, when it is the base64 webp, as on the AI Horde.
    A comparison pair shows both images or none while it runs: the image done first
    came from the faster pipeline, which would tell the judge which is which.
    A comparison pair's images are named by their image ids (as in the arena and on the
    judge page; rate takes them), never the job ids the worker popped, and name their
    worker only where `workers_named` allows (`viewer_id`: the apikey's user, if any).
    An image a moderator hid answers no image (`img` "", censored) except to staff, who get
    its admin URL: its public URL no longer works.
    """
    out: list[dict[str, Any]] = []
    running = (GenerationRequest.Status.WAITING, GenerationRequest.Status.PROCESSING)
    pair = request.model.compare_pipelines
    if pair and request.status in running:
        return out
    named = workers_named(request=request, viewer_id=viewer_id, staff=staff)
    for image in request_images(request=request):
        hidden = image.hidden_at is not None
        if hidden:
            img = staff_image_url(image=image, base_url=base_url) if staff else ""
        elif request.r2:
            img = image_url(image=image, base_url=base_url)
        else:
            with default_storage.open(image.file.name, "rb") as handle:
                img = base64.b64encode(handle.read()).decode()
        if named:
            worker_id = str(image.worker_id) if image.worker_id else ""
            worker_name = image.worker.name if image.worker else ""
        else:
            worker_id, worker_name = UNNAMED_WORKER_ID, UNNAMED_WORKER_NAME
        out.append(
            {
                "img": img,
                "seed": str(image.seed),
                # Elsewhere the job's id: the one a worker popped and submitted, as on the AI Horde,
                # where one id follows a generation from pop to status to rate (rate takes either).
                # A pair's image id instead: a job id is known to the worker that served it.
                "id": str(image.id) if pair else str(image.job_id),
                "censored": image.censored or hidden,
                "worker_id": worker_id,
                "worker_name": worker_name,
                "model": image.job.model.name,
                "state": "censored" if image.censored or hidden else "ok",
                "gen_metadata": [],
            }
        )
    return out


def staff_image_url(*, image: Image, base_url: str = "") -> str:
    # The moderation queue's staff-only file view: a hidden image's file is in private storage.
    url = reverse("admin:moderation_reportedimage_file", args=[image.pk])
    return base_url.rstrip("/") + url if base_url else url


def request_status(
    *, request: GenerationRequest, base_url: str = "", staff: bool = False, viewer_id: int | None = None
) -> dict[str, Any]:
    """The AI Horde status payload (RequestStatusStable): progress plus generations."""
    return {
        **request_progress(request=request),
        "generations": request_generations(request=request, base_url=base_url, staff=staff, viewer_id=viewer_id),
        "shared": request.shared,
    }


def model_stats() -> list[dict[str, Any]]:
    """As /api/v2/status/models: workers, queue (megapixel-steps and jobs), speed, eta."""
    capacity = _model_capacity()
    queued = {
        row["model_id"]: row
        for row in Job.objects.filter(status=Job.Status.QUEUED)
        .values("model_id")
        .annotate(jobs=Count("id"), pixelsteps=Sum(F("request__width") * F("request__height") * F("request__steps")))
    }
    out = []
    for model in ImageModel.objects.filter(enabled=True).order_by("name"):
        row = queued.get(model.pk, {"jobs": 0, "pixelsteps": 0})
        entry = capacity.get(model.name, {"workers": 0, "speed": 0.0})
        mps = (row["pixelsteps"] or 0) / 1_000_000
        speed = entry["speed"]
        out.append(
            {
                "name": model.name,
                "count": int(entry["workers"]),
                "queued": round(mps, 2),
                "jobs": row["jobs"],
                "performance": round(speed, 2),
                "eta": int(mps / speed) if speed else (0 if not mps else 10_000),
                "type": "image",
            }
        )
    return out


def worker_is_online(*, worker: Worker) -> bool:
    if worker.last_seen is None:
        return False
    return timezone.now() - worker.last_seen <= timedelta(seconds=conf.worker_stale_seconds())


def worker_details(*, worker: Worker) -> dict[str, Any]:
    """As /api/v2/workers/{id} (WorkerDetails)."""
    speed = worker.mps_done / worker.seconds_busy if worker.seconds_busy else 0.0
    uptime = int((timezone.now() - worker.created_at).total_seconds()) if worker.created_at else 0
    info = worker.info or {}
    return {
        "type": "image",
        "name": worker.name,
        "id": str(worker.id),
        "online": worker_is_online(worker=worker),
        "requests_fulfilled": worker.jobs_done,
        "kudos_rewards": float(worker.kudos_earned),
        "kudos_details": {"generated": float(worker.kudos_earned), "uptime": 0},
        "performance": f"{speed:.2f} megapixelsteps per second",
        "threads": int(info.get("threads", 1) or 1),
        "uptime": uptime,
        "maintenance_mode": worker.maintenance,
        "paused": worker.paused,
        # The owner's note when there is one (the AI Horde's info), else what the heartbeats report.
        "info": worker.note
        or ", ".join(f"{key}: {value}" for key, value in sorted(info.items()) if key != "bridge_agent")[:1000],
        "nsfw": worker.nsfw,
        "owner": worker.owner.horde_name,
        "trusted": worker.owner.trusted,
        "flagged": False,
        "uncompleted_jobs": 0,
        "models": list(worker.model_names or []),
        "team": {"name": worker.team.name, "id": str(worker.team_id)} if worker.team_id else {"name": None, "id": None},
        "bridge_agent": str(info.get("bridge_agent") or f"horde:{worker.kind}:{worker.backend or 'unknown'}")[:1000],
        "max_pixels": worker.max_pixels,
        "megapixelsteps_generated": int(worker.mps_done),
        "img2img": False,
        "painting": False,
        "post-processing": False,
        "lora": False,
        "controlnet": False,
        "sdxl_controlnet": False,
    }


def workers_list() -> QuerySet[Worker]:
    """Every live worker (retired ones are out of every list, as deleted ones on the AI Horde)."""
    return Worker.objects.filter(retired_at__isnull=True).select_related("owner", "team").order_by("name")


def worker_by_id(*, worker_id: Any) -> Worker | None:
    """A live worker, or None for a malformed, unknown or retired id."""
    import uuid

    try:
        pk = uuid.UUID(str(worker_id))
    except (ValueError, TypeError):
        return None
    return workers_list().filter(pk=pk).first()


@dataclass(frozen=True)
class RequestLedger:
    """A request's money as its requester's ledger entries show it (positive kudos)."""

    charged: int  # its jobs' charges (`job-charge:<job id>`)
    refunded: int  # refunds of those charges (`job-refund:<job id>`)
    refunded_jobs: int  # how many jobs were refunded
    # Worker rewards the requester was paid for these jobs (`job-reward:<job id>`): a job
    # served by the requester's own worker pays none now; older ones may have.
    rewarded_to_requester: int

    @property
    def net(self) -> int:
        """What the request cost its requester after everything paid back for its jobs."""
        return self.charged - self.refunded - self.rewarded_to_requester


def request_ledger(*, request: GenerationRequest, job_ids: list | None = None) -> RequestLedger:
    """What the request's jobs were charged, refunded and paid back to the requester,
    read from the ledger: one query for their entries on the requester's account (and
    one for the job ids unless the caller has them)."""
    if job_ids is None:
        job_ids = list(Job.objects.filter(request_id=request.pk).values_list("id", flat=True))
    keys = [f"job-{kind}:{job_id}" for job_id in job_ids for kind in ("charge", "refund", "reward")]
    totals = {"charge": 0, "refund": 0, "reward": 0}
    refunded_jobs = 0
    rows = Entry.objects.filter(account__user_id=request.user_id, transaction__event_key__in=keys).values_list(
        "transaction__event_key", "amount"
    )
    for key, amount in rows:
        kind = key.split(":", 1)[0].removeprefix("job-")
        totals[kind] += int(amount)
        refunded_jobs += kind == "refund"
    # Charges are negative entries on the requester's account; refunds and rewards positive.
    return RequestLedger(
        charged=-totals["charge"],
        refunded=totals["refund"],
        refunded_jobs=refunded_jobs,
        rewarded_to_requester=totals["reward"],
    )


STYLES_PER_PAGE = 25


def styles_page(*, sort: str, page: int, tag: str | None = None, model: str | None = None) -> list[Style]:
    """One page (25, as the AI Horde) of the public styles: most used first, or newest first.

    A tag or model filter is applied in Python over the public styles (staff make them, so
    they are few): JSON containment is PostgreSQL's, and SQLite runs the development site.
    """
    order = ("-use_count", "name") if sort == "popular" else ("-created_at", "name")
    styles = Style.objects.filter(public=True).select_related("creator").order_by(*order)
    start = (page - 1) * STYLES_PER_PAGE
    if not tag and not model:
        return list(styles[start : start + STYLES_PER_PAGE])
    wanted = [
        style
        for style in styles
        if (not tag or tag in (style.tags or [])) and (not model or model in (style.model_names or []))
    ]
    return wanted[start : start + STYLES_PER_PAGE]


def style_details(*, style: Style) -> dict[str, Any]:
    """As the AI Horde's StyleStable (no shared key, examples or template fields here)."""
    return {
        "id": str(style.id),
        "name": style.name,
        "info": style.info,
        "prompt": style.prompt,
        "params": dict(style.params or {}),
        "public": style.public,
        "nsfw": style.nsfw,
        "tags": list(style.tags or []),
        "models": list(style.model_names or []),
        "creator": style.creator.horde_name if style.creator else None,
        "use_count": style.use_count,
        "updated": style.updated_at.isoformat(),
        "examples": [],
    }


def team_details(*, team: Team) -> dict[str, Any]:
    """As /api/v2/teams/{id} (TeamDetails): its live workers, the models they serve, its totals."""
    workers = list(workers_list().filter(team=team))
    models: dict[str, int] = {}
    for worker in workers:
        for name in worker.model_names or []:
            models[name] = models.get(name, 0) + 1
    return {
        "name": team.name,
        "id": str(team.pk),
        "info": team.info,
        "creator": team.owner.horde_name,
        "kudos": float(team.kudos),
        "requests_fulfilled": team.requests_fulfilled,
        "uptime": int(team.uptime_seconds),
        "worker_count": len(workers),
        "workers": [
            {"type": "image", "name": worker.name, "id": str(worker.pk), "online": worker_is_online(worker=worker)}
            for worker in workers
        ],
        "models": [{"name": name, "count": count} for name, count in sorted(models.items())],
    }


def teams_list() -> QuerySet[Team]:
    return Team.objects.select_related("owner").order_by("name")


def worker_messages(
    *, owner_id: int | None, worker_id: Any | None, validity: str, now: Any | None = None
) -> QuerySet[WorkerMessage]:
    """Messages to workers (of `owner_id`, of one worker), newest first; validity active|expired|all."""
    now = now or timezone.now()
    found = WorkerMessage.objects.select_related("worker").order_by("-created_at", "pk")
    if owner_id is not None:
        found = found.filter(worker__owner_id=owner_id)
    if worker_id is not None:
        found = found.filter(worker_id=worker_id)
    if validity == "active":
        found = found.filter(expires_at__gt=now)
    elif validity == "expired":
        found = found.filter(expires_at__lte=now)
    return found


def worker_message_json(*, message: WorkerMessage) -> dict[str, Any]:
    """horde-sdk's ResponseModelMessage; expiry in hours left, rounded up."""
    import math

    left = (message.expires_at - timezone.now()).total_seconds()
    return {
        "worker_id": str(message.worker_id),
        "message": message.message,
        "origin": message.origin,
        "expiry": max(0, math.ceil(left / 3600)),
    }


def worker_pop_messages(*, worker: Worker) -> list[dict[str, Any]]:
    """Staff's running messages to this worker, as the AI Horde's pop shows them (with their id)."""
    found = worker_messages(owner_id=None, worker_id=worker.pk, validity="active")
    return [
        {
            "id": str(message.pk),
            "worker_id": str(message.worker_id),
            "message": message.message,
            "origin": message.origin,
            "expiry": message.expires_at.isoformat(),
        }
        for message in found[:20]
    ]
