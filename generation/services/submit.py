"""Submitting and cancelling generation requests.

`request_submit` is shared by the API (`POST /api/v2/generate/async`) and the
generate page: it validates the AI Horde body against the model's rules and the
staff's prompt filters (`request_validate`, no writes but the record of a prompt the
filters refused), prices it with generation.pricing, and
creates the request, charges the requester for each job (`job-charge:<job id>`)
and creates one job per image, all in one transaction; after commit, one
Celery task per job goes to the model's queue. The jobs' queue priority comes
from the balance left after that charge (`priority.job_priority`), and follows the
balance from then on (`priority.jobs_reprioritize`). Cancelling is in cancel.py.
"""

from __future__ import annotations

import logging
import random
import secrets
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import SharedKey, User
from accounts.services import SharedKeyRefused, shared_key_check, shared_key_spend
from generation import conf
from generation.models import GenerationRequest, ImageModel, Job, Pipeline, Style
from generation.pricing import job_kudos, request_kudos
from generation.serializers import MAX_SEED, GenerationInputSerializer, error_rc, first_error
from horde_site.api_input import header_text, json_text_problem
from kudos.services import Movement, kudos_charge_many
from moderation.prompt_check import prompt_check
from moderation.roles import is_moderator
from moderation.services import prompt_refusal_record
from site_status.selectors import modes_current

from .dispatch import jobs_dispatch
from .errors import RequestRefused, bad
from .priority import job_priority
from .request_state import charge_memo
from .styles import style_apply

CLIENT_AGENT_MAX = GenerationRequest._meta.get_field("client_agent").max_length or 200

logger = logging.getLogger(__name__)

DEFAULT_SAMPLER = "k_euler"

TOP_LEVEL_BOOLS = {
    "nsfw": False,
    "censor_nsfw": False,
    "shared": False,
    "r2": True,
    "dry_run": False,
    "trusted_workers": False,
    "slow_workers": True,
    "worker_blacklist": False,
    "replacement_filter": True,
    "allow_downgrade": False,
    "disable_batching": False,
    "proxied_account": None,
}
PARAM_BOOLS = {"karras": True, "tiling": False, "hires_fix": False, "transparent": False}


@dataclass
class SubmitResult:
    """What a submission made: the request (None for a dry run), its price, and warnings
    in the AI Horde form `{"code", "message"}`."""

    request: GenerationRequest | None
    kudos: int
    warnings: list[dict[str, str]] = field(default_factory=list)


@dataclass
class ValidSubmission:
    """A body that passed validation: everything needed to create the rows."""

    model: ImageModel
    prompt: str
    params: dict[str, Any]
    width: int
    height: int
    steps: int
    seed: int | None
    n: int
    images: int
    flags: dict[str, Any]
    workers: list[str]
    dry_run: bool
    kudos: int
    warnings: list[dict[str, str]]
    style_id: Any = None


def _model_from(names: list[str], warnings: list[dict[str, str]]) -> ImageModel:
    if not names:
        # No model named: the AI Horde picks any; here the first open model that is not the beta.
        model = ImageModel.objects.filter(enabled=True, compare_pipelines=False).order_by("name").first()
        if model is None:
            raise bad("UnsupportedModel", "No image model is available.", "models")
        return model
    models = {model.name: model for model in ImageModel.objects.filter(name__in=names, enabled=True)}
    unknown = [name for name in names if name not in models]
    if unknown:
        raise bad("UnsupportedModel", f"Unknown or disabled model: {unknown[0][:100]}.", "models")
    if len(set(names)) > 1:
        warnings.append(
            {
                "code": "OnlyFirstModel",
                "message": f"A request is served by one model here; using {names[0]}.",
            }
        )
    return models[names[0]]


def _given(data: dict[str, Any], key: str, default: Any) -> Any:
    value = data.get(key)
    return default if value is None else value


def request_validate(*, user: User, body: Any) -> ValidSubmission:
    """Check an AI Horde async body against the model's rules and the prompt filters; no writes
    but the record of a refused prompt (moderation.services.prompt_refusal_record).

    Types, shapes and ranges are `GenerationInputSerializer`'s (the API's documented
    body); what depends on the model (sizes, steps, who may use it) is checked here.
    Raises RequestRefused (400 with an rc name, 403 for the beta's anonymous rule).
    """
    # First, as on the AI Horde: in maintenance mode nothing new is taken (dry runs included).
    if modes_current().maintenance:
        raise bad("MaintenanceMode", "Horde is in maintenance mode: no new requests for now. Please try again later.")
    if not isinstance(body, dict):
        raise bad("BadRequest", "The request body must be a JSON object.")
    # The API's parser refuses these already; pages and other callers get the same rule here.
    problem = json_text_problem(body)
    if problem:
        raise bad("BadRequest", problem)
    serializer = GenerationInputSerializer(data=body)
    if not serializer.is_valid():
        field, message, code = first_error(serializer.errors)
        raise bad(error_rc(code), message, field)
    data = serializer.validated_data
    style_id = None
    if data.get("style"):
        # The style's template, models and params, before the model's rules are checked.
        style, data = style_apply(ref=data["style"], data=data)
        style_id = style.pk
    params = data.get("params") or {}
    warnings: list[dict[str, str]] = []

    flags = {key: _given(data, key, default) for key, default in TOP_LEVEL_BOOLS.items() if key != "proxied_account"}
    dry_run = flags.pop("dry_run")
    for key in ("replacement_filter", "allow_downgrade", "disable_batching"):
        flags.pop(key)
    workers = [str(worker) for worker in data.get("workers") or []]

    if user.is_suspended:
        # The AI Horde's rc for an account staff flagged; the reason is staff's, not shown.
        raise RequestRefused(
            403, "SourceAccountFlagged", "Your account is suspended: it cannot make new requests.", "apikey"
        )
    model = _model_from(data.get("models") or [], warnings)
    if user.is_anonymous_horde_user and not model.anonymous_allowed:
        rc = "BetaAnonForbidden" if model.compare_pipelines else "AnonForbidden"
        raise RequestRefused(
            403, rc, f"{model.name} is for registered users only; log in or use your API key.", "models"
        )

    width = _given(params, "width", model.default_width)
    height = _given(params, "height", model.default_height)
    for name, value, low, high in (
        ("width", width, model.min_width, model.max_width),
        ("height", height, model.min_height, model.max_height),
    ):
        if not low <= value <= high:
            raise bad(
                "InvalidSize", f"params.{name} must be between {low} and {high} for {model.name}.", f"params.{name}"
            )

    steps = _given(params, "steps", _given(params, "ddim_steps", model.default_steps))
    if steps > model.max_steps:
        raise bad("TooManySteps", f"params.steps may be at most {model.max_steps} for {model.name}.", "params.steps")
    n = _given(params, "n", _given(params, "n_iter", 1))
    normal_params: dict[str, Any] = {
        "sampler_name": _given(params, "sampler_name", DEFAULT_SAMPLER),
        "cfg_scale": float(_given(params, "cfg_scale", 7.5)),
        "clip_skip": _given(params, "clip_skip", 1),
        **{key: _given(params, key, default) for key, default in PARAM_BOOLS.items()},
    }

    images = n
    if model.images_per_request:
        images = model.images_per_request
        if n != images:
            warnings.append(
                {
                    "code": "FixedImageCount",
                    "message": f"{model.name} always makes exactly {images} images; n={n} was ignored.",
                }
            )
    if model.always_shared:
        flags["shared"] = True
    prompt = _prompt_filtered(user=user, prompt=data["prompt"], replacement_filter=data.get("replacement_filter"))
    if prompt.nsfw and not flags["nsfw"]:
        flags["nsfw"] = True
        warnings.append(
            {
                "code": "MarkedNSFW",
                "message": "The prompt asks for NSFW content: the request is marked nsfw, served only by "
                "workers that accept NSFW and shown only to people who opted in.",
            }
        )

    return ValidSubmission(
        model=model,
        prompt=prompt.prompt,
        params=normal_params,
        width=width,
        height=height,
        steps=steps,
        seed=params.get("seed"),
        n=n,
        images=images,
        flags=flags,
        workers=workers,
        dry_run=dry_run,
        kudos=request_kudos(width=width, height=height, steps=steps, images=images),
        warnings=warnings,
        style_id=style_id,
    )


def _prompt_filtered(*, user: User, prompt: str, replacement_filter: bool | None):
    """The staff prompt filters (moderation.prompt_check) on this prompt: refused with
    CorruptPrompt at a suspicion of 2 (counted against the user, moderators excepted, as on
    the AI Horde: they test the filters), else the prompt to use and whether it is NSFW."""
    verdict = prompt_check(prompt, replacement_filter=replacement_filter is not False)
    if verdict.refused:
        if not is_moderator(user):
            prompt_refusal_record(user=user, prompt=prompt, matches=verdict.matches)
        raise bad(
            "CorruptPrompt",
            "This prompt appears to violate our terms of service and will be reported. "
            "Please contact us if you think this is an error.",
        )
    return verdict


def _pipelines_for(model: ImageModel, images: int) -> list[Pipeline | None]:
    active = list(Pipeline.objects.filter(model=model, active=True).order_by("name", "version"))
    if model.compare_pipelines:
        if len(active) < images:
            raise bad(
                "UnsupportedModel",
                f"{model.name} needs {images} active pipelines to compare and has {len(active)}.",
                "models",
            )
        # Any two different active pipelines, so a newly switched-on one joins at once.
        return random.sample(active, k=images)
    first = active[0] if active else None
    return [first] * images


def request_submit(
    *, user: User, body: dict, client_agent: str = "", shared_key: SharedKey | None = None
) -> SubmitResult:
    """Validate, price and create a request with its jobs; dispatch them after commit.

    With a `shared_key` (its owner is `user`), the key must allow the request (expiry,
    allowance, per-job limits; a dry run too) and pays for it from its allowance, in the
    transaction that charges the owner."""
    valid = request_validate(user=user, body=body)
    if shared_key is not None:
        try:
            shared_key_check(
                shared_key=shared_key, width=valid.width, height=valid.height, steps=valid.steps, price=valid.kudos
            )
        except SharedKeyRefused as exc:
            raise RequestRefused(exc.status_code, exc.rc, exc.message) from None
    if valid.dry_run:
        return SubmitResult(request=None, kudos=valid.kudos, warnings=valid.warnings)
    model = valid.model
    pipelines = _pipelines_for(model, valid.images)
    seed = valid.seed if valid.seed is not None else secrets.randbelow(MAX_SEED + 1)
    if model.compare_pipelines:
        seeds = [seed] * valid.images  # the comparison only means something with one seed
    elif valid.seed is not None:
        seeds = [(seed + index) % (MAX_SEED + 1) for index in range(valid.images)]
    else:
        seeds = [seed] + [secrets.randbelow(MAX_SEED + 1) for _ in range(valid.images - 1)]
    positions = list(range(valid.images))
    if model.compare_pipelines:
        random.shuffle(positions)  # shown in random order; the order is stored on the job

    now = timezone.now()
    each = job_kudos(width=valid.width, height=valid.height, steps=valid.steps)
    with transaction.atomic():
        request = GenerationRequest.objects.create(
            user=user,
            model=model,
            prompt=valid.prompt,
            params=valid.params,
            width=valid.width,
            height=valid.height,
            steps=valid.steps,
            seed=seed,
            n=valid.images,
            client_agent=header_text(client_agent, CLIENT_AGENT_MAX),
            kudos=valid.kudos,
            shared_key=shared_key,
            workers=valid.workers,
            # Only comparisons are arena pairs: the others stay out of its index from the start.
            arena_pool=model.compare_pipelines,
            **valid.flags,
        )
        jobs = [
            Job(
                request=request,
                index=index,
                position=positions[index],
                model=model,
                pipeline=pipelines[index],
                pipeline_version=pipelines[index].version if pipelines[index] else "",
                seed=seeds[index],
                kudos=each,
                created_at=now,
                dispatched_at=now if conf.celery_dispatch() else None,
            )
            for index in range(valid.images)
        ]
        # Charged now, in the transaction that creates the jobs (their ids are drawn
        # in Python, so the event keys exist before the rows): a request is never
        # queued unpaid, and a failed insert undoes the charge. May go below zero.
        # Before the jobs' insert so the requester's balance row is locked only for
        # that one statement and the commit; its new balance sets the priority.
        if shared_key is not None:
            try:
                shared_key_spend(shared_key=shared_key, amount=valid.kudos)
            except SharedKeyRefused as exc:  # spent or expired since the check: nothing is kept
                raise RequestRefused(exc.status_code, exc.rc, exc.message) from None
        charged = kudos_charge_many(
            user=user,
            charges=[Movement(f"job-charge:{job.pk}", each, charge_memo(request=request, job=job)) for job in jobs],
        )
        if not user.is_anonymous_horde_user:
            # Counted after the charge locked the requester's balance row: two submits at
            # once are counted one after the other, so neither slips past the cap.
            active = GenerationRequest.objects.filter(
                user=user, status__in=(GenerationRequest.Status.WAITING, GenerationRequest.Status.PROCESSING)
            ).exclude(pk=request.pk)
            if active.count() >= conf.max_waiting_requests():
                raise RequestRefused(
                    429,
                    "TooManyPrompts",
                    f"You have {conf.max_waiting_requests()} requests waiting or running: wait for one to finish.",
                )
        if valid.style_id is not None:
            Style.objects.filter(pk=valid.style_id).update(use_count=F("use_count") + 1)
        priority = job_priority(user=user, balance=charged.balance_after, created_epoch=now.timestamp())
        for job in jobs:
            job.priority = priority
        Job.objects.bulk_create(jobs)
        if conf.celery_dispatch():
            job_ids = [str(job.id) for job in jobs]
            transaction.on_commit(lambda: jobs_dispatch(job_ids=job_ids, queue=model.queue))
    return SubmitResult(request=request, kudos=valid.kudos, warnings=valid.warnings)
