"""The AI Horde v2 generation API (DRF): requests, worker pop/submit, status.

Views unpack the HTTP request and call one service or selector; a
GenerationError becomes the AI Horde's JSON error `{"message", "rc"}`.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from typing import Any

from django.core import signing
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.apikey_auth import require_user, shared_key_of
from generation import conf, selectors
from generation.models import GenerationRequest, Job
from generation.services import (
    GenerationError,
    WorkerActionRefused,
    job_complete,
    job_fail,
    jobs_claim,
    jobs_skipped,
    r2_staging_name,
    request_cancel,
    request_submit,
)
from generation.services.workers import worker_register_http
from horde_site.api_errors import HordeError, bad_request, not_found
from horde_site.api_input import is_ascii_number
from horde_site.api_schema import error_responses
from horde_site.limits import worker_limit_check

from .schema import (
    GenerationPopSerializer,
    PipelineRecipeSerializer,
    RequestAsyncSerializer,
    RequestDryRunSerializer,
    RequestStatusCheckSerializer,
    RequestStatusStableSerializer,
    SubmitRewardSerializer,
)
from .serializers import GenerationInputSerializer, PopInputSerializer, SubmitInputSerializer

# An async body is a prompt and a few numbers: anything bigger is refused unread.
MAX_ASYNC_BODY_BYTES = 64 * 1024
R2_SALT = "generation.r2-upload"


def as_horde_error(exc: GenerationError) -> HordeError:
    # As on the AI Horde, `errors` only on payload validation failures (rc BadRequest): a
    # client SDK reads `errors` as "the payload did not validate" and raises instead of
    # handing back a named refusal such as InvalidSize or TooManySteps.
    errors = {exc.field: exc.message} if exc.field and exc.rc == "BadRequest" else None
    return HordeError(exc.status_code, exc.rc, exc.message, errors)


def is_staff(request: Request) -> bool:
    return bool(request.user is not None and request.user.is_staff)


def status_of(request: Request, found: GenerationRequest) -> dict[str, Any]:
    """The status answer as this caller may see it (staff, or the apikey's user: who a
    comparison pair's workers are named to, see selectors.workers_named)."""
    viewer_id = request.user.pk if request.user is not None else None
    return selectors.request_status(
        request=found, base_url=base_url(request), staff=is_staff(request), viewer_id=viewer_id
    )


def base_url(request: Request) -> str:
    return request.build_absolute_uri("/").rstrip("/")


def request_or_404(request_id: Any) -> GenerationRequest:
    found = selectors.request_by_id(request_id=request_id)
    if found is None:
        raise not_found(f"Request {str(request_id)[:64]} not found. It may have expired.", rc="RequestNotFound")
    return found


class GenerateAsyncApi(APIView):
    """POST /api/v2/generate/async: the AI Horde body; validation lives in the service
    (request_validate, which runs GenerationInputSerializer), shared with the generate page."""

    @extend_schema(
        operation_id="generate_async",
        tags=["generate"],
        summary="Ask for images (AI Horde async body, txt2img)",
        request=GenerationInputSerializer,
        responses={
            202: RequestAsyncSerializer,
            200: OpenApiResponse(RequestDryRunSerializer, description="dry_run: the price; nothing is created"),
            **error_responses(
                400,
                401,
                403,
                404,
                415,
                429,
                e400="Invalid body (validation failures name the field in `errors`), one over 64 KiB, "
                "or maintenance mode (MaintenanceMode)",
                e403="The model is for registered users only (AnonForbidden, BetaAnonForbidden); the shared key "
                "has expired or has not enough kudos left (SharedKeyExpired, SharedKeyEmpty, "
                "SharedKeyInsufficientKudos)",
                e404="The style named is none (ThingNotFound)",
                e429="Too many calls (TooManyRequests, with Retry-After) or requests waiting (TooManyPrompts)",
            ),
        },
    )
    def post(self, request: Request) -> Response:
        length = request.META.get("CONTENT_LENGTH") or "0"
        # Digits only, and few enough for int() (it refuses texts of thousands of digits).
        if not is_ascii_number(length) or len(length) > 18 or int(length) > MAX_ASYNC_BODY_BYTES:
            raise bad_request(f"The request body may be at most {MAX_ASYNC_BODY_BYTES} bytes.")
        # A shared key generates for its owner, paid from its allowance (as on the AI Horde).
        user = require_user(request, allow_anonymous=True, allow_shared_key=True)
        data = request.data
        if not isinstance(data, dict):
            raise bad_request("The request body must be a JSON object.")
        try:
            result = request_submit(
                user=user,
                body=data,
                client_agent=request.headers.get("Client-Agent", ""),
                shared_key=shared_key_of(request),
            )
        except GenerationError as exc:
            raise as_horde_error(exc) from None
        if result.request is None:
            return Response({"kudos": float(result.kudos)}, status=status.HTTP_200_OK)
        body: dict[str, Any] = {"id": str(result.request.id), "kudos": float(result.kudos)}
        if result.warnings:
            body["warnings"] = result.warnings
        return Response(body, status=status.HTTP_202_ACCEPTED)


class GenerateCheckApi(APIView):
    """GET /api/v2/generate/check/{id}: progress only, no images (cheap, polled)."""

    authentication_classes: list = []

    @extend_schema(
        operation_id="generate_check",
        tags=["generate"],
        summary="A request's progress (no images)",
        responses={200: RequestStatusCheckSerializer, **error_responses(404, e404="No such request (RequestNotFound)")},
    )
    def get(self, request: Request, request_id: str) -> Response:
        progress = selectors.request_progress_by_id(request_id=request_id)
        if progress is None:
            raise not_found(f"Request {str(request_id)[:64]} not found. It may have expired.", rc="RequestNotFound")
        return Response(progress)


class GenerateStatusApi(APIView):
    """GET: progress and generations; DELETE: cancel what has not started."""

    @extend_schema(
        operation_id="generate_status",
        tags=["generate"],
        summary="A request's progress and images",
        responses={
            200: RequestStatusStableSerializer,
            **error_responses(401, 404, e404="No such request (RequestNotFound)"),
        },
    )
    def get(self, request: Request, request_id: str) -> Response:
        return Response(status_of(request, request_or_404(request_id)))

    @extend_schema(
        operation_id="generate_cancel",
        tags=["generate"],
        summary="Cancel the images that have not started (refunded); answers the status",
        responses={
            200: RequestStatusStableSerializer,
            **error_responses(
                401,
                403,
                404,
                e403="The apikey's user is not the requester (WrongCredentials)",
                e404="No such request (RequestNotFound)",
            ),
        },
    )
    def delete(self, request: Request, request_id: str) -> Response:
        found = request_or_404(request_id)
        # As on the AI Horde, the request id is the capability: without an apikey, the
        # id's holder may cancel; with one, it must be the requester's (or staff).
        user = request.user if request.user is not None else found.user
        try:
            cancellation = request_cancel(request=found, user=user)
        except GenerationError as exc:
            raise as_horde_error(exc) from None
        # The AI Horde's status answer, nothing added (strict clients refuse extra fields);
        # what the cancel refunded is in the ledger, on the kudos page and the request page.
        return Response(status_of(request, cancellation.request))


class GeneratePopApi(APIView):
    """POST /api/v2/generate/pop: an HTTP worker asks for work."""

    InputSerializer = PopInputSerializer

    @extend_schema(
        operation_id="generate_pop",
        tags=["workers"],
        summary="A worker asks for jobs",
        request=PopInputSerializer,
        responses={
            200: GenerationPopSerializer,
            **error_responses(
                400,
                401,
                403,
                413,
                415,
                429,
                e403="Anonymous workers are refused (AnonForbiddenWorker); the worker name is another user's "
                "(WrongCredentials); the worker is in maintenance (WorkerMaintenance)",
                e429="Too many pops from this worker, or from all of this key's workers (TooManyRequests, "
                "with Retry-After)",
            ),
        },
    )
    def post(self, request: Request) -> Response:
        user = require_user(request, allow_anonymous=False, anonymous_rc="AnonForbiddenWorker")
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        worker_limit_check(request=request, worker_name=data["name"])
        try:
            worker = worker_register_http(
                owner=user,
                name=data["name"],
                models=data["models"],
                max_pixels=data["max_pixels"],
                nsfw=bool(data.get("nsfw")),
                bridge_agent=data.get("bridge_agent") or "",
                threads=data.get("threads") or 1,
            )
        except GenerationError as exc:
            raise as_horde_error(exc) from None
        amount = data.get("amount") or 1
        jobs = jobs_claim(
            worker=worker,
            models=list(worker.model_names),
            max_pixels=worker.max_pixels,
            amount=amount,
        )
        if not jobs and worker.maintenance:
            # As on the AI Horde: a worker in maintenance is told so (with its owner's message).
            raise HordeError(403, "WorkerMaintenance", worker.maintenance_msg or "This worker is in maintenance mode.")
        # Why waiting jobs were not given, as the AI Horde says it: only when the pop came back
        # short (one cheap query), so a busy queue's pops stay at their few queries.
        skipped = (
            jobs_skipped(worker=worker, models=list(worker.model_names), max_pixels=worker.max_pixels)
            if len(jobs) < amount
            else {}
        )
        # Staff's messages, as the AI Horde's pop carries them: only when there are any (the
        # registration read whether there are, so a pop without messages costs no query).
        has_messages = getattr(worker, "has_messages", False)
        messages = {"messages": selectors.worker_pop_messages(worker=worker)} if has_messages else {}
        if not jobs:
            return Response(
                {
                    "id": None,
                    "ids": [],
                    "payload": {},
                    "skipped": skipped,
                    "model": None,
                    "r2_upload": None,
                    "ttl": None,
                    **messages,
                }
            )
        first = jobs[0]
        r2_uploads = [r2_upload_url(request, job) for job in jobs]
        return Response(
            {
                "id": str(first.pk),
                "ids": [str(job.pk) for job in jobs],
                "payload": pop_payload(jobs),
                "model": first.model.name,
                "skipped": skipped,
                "source_processing": "txt2img",
                "r2_upload": r2_uploads[0] if first.request.r2 else None,
                "r2_uploads": r2_uploads if first.request.r2 else None,
                "ttl": int(conf.job_ttl_seconds()),
                **messages,
            }
        )


def pop_payload(jobs: list[Job]) -> dict[str, Any]:
    """What a worker needs to draw the jobs of one pop, in the AI Horde's payload keys.

    The claim batches only jobs of one payload (same request, pipeline, size and seed), so
    the first job speaks for all of them. No pipeline here: horde-sdk's strict models refuse
    unknown keys, and a worker must not learn which side of a comparison it draws (the
    holder of a claim reads its recipe from GeneratePipelineApi).
    """
    job = jobs[0]
    request = job.request
    params = request.params or {}
    return {
        "prompt": request.prompt,
        "ddim_steps": request.steps,
        "n_iter": len(jobs),
        "seed": str(job.seed),
        "width": request.width,
        "height": request.height,
        "sampler_name": params.get("sampler_name", "k_euler"),
        "cfg_scale": params.get("cfg_scale", 7.5),
        "karras": params.get("karras", True),
        "tiling": params.get("tiling", False),
        "hires_fix": params.get("hires_fix", False),
        "clip_skip": params.get("clip_skip", 1),
        "post_processing": [],
        # As the AI Horde: a SFW request that asked for censorship has the worker censor NSFW output.
        "use_nsfw_censor": not request.nsfw and request.censor_nsfw,
    }


class GeneratePipelineApi(APIView):
    """GET /api/v2/generate/pipeline/{job_id}: the recipe of a claimed job (Horde's own addition).

    Only for the worker that holds the claim (its owner's apikey): the pop's payload does not
    name the pipeline, so nobody else (another worker, the requester) learns which pipeline
    drew which image of a comparison before the vote.
    """

    @extend_schema(
        operation_id="generate_pipeline",
        tags=["workers"],
        summary="The recipe of a job your worker holds",
        responses={
            200: PipelineRecipeSerializer,
            **error_responses(
                401,
                403,
                404,
                e403="Anonymous, or the job is not claimed by your worker (WrongCredentials)",
                e404="No such job (InvalidJobID)",
            ),
        },
    )
    def get(self, request: Request, job_id: str) -> Response:
        user = require_user(request, allow_anonymous=False)
        try:
            pk = uuid.UUID(str(job_id))
        except ValueError:
            pk = None
        job = Job.objects.select_related("pipeline", "worker").filter(pk=pk).first() if pk else None
        if job is None:
            raise not_found("Processing Job with ID not found.", rc="InvalidJobID")
        if job.status != Job.Status.CLAIMED or job.worker is None or job.worker.owner_id != user.pk:
            raise HordeError(403, "WrongCredentials", "This job is not claimed by your worker.")
        pipeline = job.pipeline
        return Response(
            {
                "name": pipeline.name if pipeline else "default",
                "version": pipeline.version if pipeline else "1",
                "recipe": pipeline.recipe if pipeline else {},
            }
        )


def r2_upload_url(request: Request, job: Job) -> str:
    """A signed URL on Horde itself accepting one PUT of this job's webp (this claim only)."""
    token = signing.dumps({"job": str(job.pk), "attempt": job.attempts}, salt=R2_SALT, compress=True)
    return f"{base_url(request)}/api/v2/generate/r2/{job.pk}?token={token}"


class GenerateR2UploadApi(APIView):
    """PUT /api/v2/generate/r2/{job_id}?token=...: the worker uploads its webp here
    (as it would to the AI Horde's R2 bucket), then submits generation="R2"."""

    authentication_classes: list = []

    @extend_schema(
        operation_id="generate_r2_upload",
        tags=["workers"],
        summary="Upload a job's image to the signed URL the pop gave (then submit generation=R2)",
        parameters=[OpenApiParameter("token", str, OpenApiParameter.QUERY, required=True)],
        request={"image/webp": OpenApiTypes.BINARY},
        responses={
            200: OpenApiResponse(description="Stored; an empty body"),
            **error_responses(
                400,
                403,
                404,
                413,
                e400="The job is no longer waiting for this upload (AbortedGen), or the image is too large",
                e403="The URL is invalid, expired or for another job (InvalidUploadToken)",
                e404="A path that is no text (ThingNotFound)",
            ),
        },
    )
    def put(self, request: Request, job_id: str) -> HttpResponse:
        try:
            claim = signing.loads(
                request.query_params.get("token", ""), salt=R2_SALT, max_age=conf.job_ttl_seconds() * 2
            )
        except signing.BadSignature:
            raise HordeError(403, "InvalidUploadToken", "The upload URL is invalid or expired.") from None
        if claim.get("job") != str(job_id):
            raise HordeError(403, "InvalidUploadToken", "The upload URL is for another job.")
        job = Job.objects.filter(pk=job_id).first()
        if job is None or job.status != Job.Status.CLAIMED or job.attempts != claim.get("attempt"):
            raise HordeError(400, "AbortedGen", "This job is no longer waiting for an upload.")
        data = request.body
        if len(data) > conf.max_image_bytes():
            raise bad_request(f"The image is larger than {conf.max_image_bytes()} bytes.", rc="InvalidImage")
        name = r2_staging_name(job)
        if default_storage.exists(name):
            default_storage.delete(name)
        default_storage.save(name, ContentFile(data))
        return HttpResponse(status=200)


class GenerateSubmitApi(APIView):
    """POST /api/v2/generate/submit: an HTTP worker hands in a finished job."""

    InputSerializer = SubmitInputSerializer

    @extend_schema(
        operation_id="generate_submit",
        tags=["workers"],
        summary="A worker hands in a finished job",
        request=SubmitInputSerializer,
        responses={
            200: SubmitRewardSerializer,
            **error_responses(
                400,
                401,
                403,
                404,
                413,
                415,
                429,
                e400="Invalid body or image, or the job is done (DuplicateGen) or no longer claimed (AbortedGen)",
                e403="Anonymous, or the job was claimed by another user's worker (WrongCredentials)",
                e404="No such job (InvalidJobID)",
                e429="Too many calls from this client (TooManyRequests, with Retry-After)",
            ),
        },
    )
    def post(self, request: Request) -> Response:
        user = require_user(request, allow_anonymous=False)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        # The request (size, price) and the worker; the owner is checked by id below and is
        # the apikey's user, already loaded (no join of the users table).
        job = Job.objects.select_related("request", "worker").filter(pk=data["id"]).first()
        if job is None:
            raise not_found("Processing Job with ID not found.", rc="InvalidJobID")
        if job.status == Job.Status.DONE:
            raise bad_request("This job was already submitted.", rc="DuplicateGen")
        worker = job.worker
        if worker is None or job.status != Job.Status.CLAIMED:
            raise bad_request("This job is not (or no longer) claimed.", rc="AbortedGen")
        if worker.owner_id != user.pk:
            raise HordeError(403, "WrongCredentials", "This job was claimed by another user's worker.")
        worker.owner = user
        seed = _seed(data.get("seed"))
        state = "censored" if data["state"] == "csam" else data["state"]
        try:
            image_bytes = None if state == "faulted" else self._image_bytes(job, data["generation"])
            completion = job_complete(
                job=job,
                worker=worker,
                image_bytes=image_bytes,
                seed=seed,
                state=state,
                censored=data["censored"],
            )
        except GenerationError as exc:
            raise as_horde_error(exc) from None
        return Response({"reward": float(completion.reward)})

    def _image_bytes(self, job: Job, generation: str) -> bytes:
        if generation == "R2":
            name = r2_staging_name(job)
            if not default_storage.exists(name):
                job_fail(job=job, worker=job.worker, reason="R2 upload missing")
                raise WorkerActionRefused(
                    400, "InvalidImage", "generation is R2 but nothing was uploaded.", "generation"
                )
            with default_storage.open(name, "rb") as handle:
                data = handle.read()
            default_storage.delete(name)
            return data
        if len(generation) > conf.max_image_bytes() * 4 // 3 + 4:
            job_fail(job=job, worker=job.worker, reason="image too large")
            raise WorkerActionRefused(400, "InvalidImage", "The image is too large.", "generation")
        try:
            return base64.b64decode(generation, validate=True)
        except (binascii.Error, ValueError):
            job_fail(job=job, worker=job.worker, reason="bad base64")
            raise WorkerActionRefused(400, "InvalidImage", "generation is not base64 (nor R2).", "generation") from None


def _seed(value: Any) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(str(value)) % (2**63)
    except ValueError:
        raise bad_request("seed must be a whole number.", errors={"seed": "not a number"}) from None
