"""OpenAPI descriptions (drf-spectacular) of what the generation API answers, in AI Horde shapes.

The shapes are the selectors' (`request_progress_by_id`, `request_generations`,
`model_stats`, `worker_details`) and the views': these serializers only document
them, and tests/api_schema checks real answers against the schema they make.
"""

from __future__ import annotations

from rest_framework import serializers


class RequestWarningSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="OnlyFirstModel or FixedImageCount.")
    message = serializers.CharField()


class RequestAsyncSerializer(serializers.Serializer):
    """202: the request is queued."""

    id = serializers.UUIDField(help_text="The request id: poll /generate/check/{id}, fetch /generate/status/{id}.")
    kudos = serializers.FloatField(help_text="What the request was charged.")
    warnings = RequestWarningSerializer(many=True, required=False, help_text="Only when there are any.")


class RequestDryRunSerializer(serializers.Serializer):
    """200: a dry run's price; nothing was created or charged."""

    kudos = serializers.FloatField()


class RequestStatusCheckSerializer(serializers.Serializer):
    finished = serializers.IntegerField()
    processing = serializers.IntegerField()
    restarted = serializers.IntegerField(help_text="Claims of this request's jobs that timed out or failed.")
    waiting = serializers.IntegerField()
    done = serializers.BooleanField()
    faulted = serializers.BooleanField()
    wait_time = serializers.IntegerField(help_text="Estimated seconds until done.")
    queue_position = serializers.IntegerField()
    kudos = serializers.FloatField(help_text="Kudos of the images finished so far.")
    is_possible = serializers.BooleanField(help_text="Whether an online worker could serve it.")


class GenerationStableSerializer(serializers.Serializer):
    img = serializers.CharField(help_text="The image's URL, or the base64 webp when the request asked r2=false.")
    seed = serializers.CharField()
    id = serializers.CharField(
        help_text="The generation id: the job id the worker popped and submitted; for a comparison pair the "
        "image id (the rate endpoint takes either)."
    )
    censored = serializers.BooleanField()
    worker_id = serializers.CharField(
        help_text="The worker that made it. A comparison pair names its workers only to its requester after "
        "their verdict (and to staff); to anyone else both images say the nil UUID."
    )
    worker_name = serializers.CharField(help_text="Empty where worker_id is the nil UUID.")
    model = serializers.CharField()
    state = serializers.ChoiceField(choices=["ok", "censored"])
    gen_metadata = serializers.ListField(child=serializers.DictField(), max_length=0)


class RequestStatusStableSerializer(RequestStatusCheckSerializer):
    generations = GenerationStableSerializer(
        many=True, help_text="In the order shown; a comparison pair shows both images or none while it runs."
    )
    shared = serializers.BooleanField()


class PopPayloadSerializer(serializers.Serializer):
    """Every key is there when a job was given; the payload is `{}` when none was."""

    prompt = serializers.CharField(required=False)
    ddim_steps = serializers.IntegerField(required=False)
    n_iter = serializers.IntegerField(required=False, help_text="Images of this pop (one payload, one seed).")
    seed = serializers.CharField(required=False)
    width = serializers.IntegerField(required=False)
    height = serializers.IntegerField(required=False)
    sampler_name = serializers.CharField(required=False)
    cfg_scale = serializers.FloatField(required=False)
    karras = serializers.BooleanField(required=False)
    tiling = serializers.BooleanField(required=False)
    hires_fix = serializers.BooleanField(required=False)
    clip_skip = serializers.IntegerField(required=False)
    post_processing = serializers.ListField(child=serializers.CharField(), required=False, max_length=0)
    use_nsfw_censor = serializers.BooleanField(
        required=False, help_text="Censor NSFW output (a SFW request that asked for censor_nsfw)."
    )


class PopSkippedSerializer(serializers.Serializer):
    """Waiting jobs this worker may not take, by the first rule each fails; only reasons with jobs."""

    models = serializers.IntegerField(required=False)
    max_pixels = serializers.IntegerField(required=False)
    nsfw = serializers.IntegerField(required=False)
    untrusted = serializers.IntegerField(required=False)
    worker_id = serializers.IntegerField(required=False)


class PopMessageSerializer(serializers.Serializer):
    id = serializers.CharField()
    worker_id = serializers.CharField()
    message = serializers.CharField()
    origin = serializers.CharField()
    expiry = serializers.CharField(help_text="When it expires (ISO 8601).")


class GenerationPopSerializer(serializers.Serializer):
    """The pop's answer (GenerationPayloadStable); `id` is null when no job was given."""

    id = serializers.UUIDField(allow_null=True)
    ids = serializers.ListField(child=serializers.UUIDField())
    payload = PopPayloadSerializer()
    skipped = PopSkippedSerializer()
    model = serializers.CharField(allow_null=True)
    source_processing = serializers.ChoiceField(choices=["txt2img"], required=False, help_text="With a job.")
    r2_upload = serializers.URLField(allow_null=True, help_text="Where to PUT the webp (r2 requests).")
    r2_uploads = serializers.ListField(
        child=serializers.URLField(), allow_null=True, required=False, help_text="With a job: one URL per job."
    )
    ttl = serializers.IntegerField(allow_null=True, help_text="Seconds the claim lasts.")
    messages = PopMessageSerializer(many=True, required=False, help_text="Staff's running messages, when any.")


class SubmitRewardSerializer(serializers.Serializer):
    reward = serializers.FloatField(help_text="Kudos paid to the worker's owner (0 for serving your own request).")


class PipelineRecipeSerializer(serializers.Serializer):
    name = serializers.CharField()
    version = serializers.CharField()
    recipe = serializers.DictField(help_text="The backend's recipe as in the admin (checkpoints, scheduler...).")


class HeartbeatSerializer(serializers.Serializer):
    message = serializers.CharField()
    version = serializers.CharField()


class ActiveModelSerializer(serializers.Serializer):
    name = serializers.CharField()
    count = serializers.IntegerField(help_text="Workers online serving it.")
    queued = serializers.FloatField(help_text="Megapixel-steps waiting.")
    jobs = serializers.IntegerField(help_text="Jobs waiting.")
    performance = serializers.FloatField(help_text="Megapixel-steps per second of its workers.")
    eta = serializers.IntegerField(help_text="Seconds to clear the queue.")
    type = serializers.ChoiceField(choices=["image"])


class WorkerKudosDetailsSerializer(serializers.Serializer):
    generated = serializers.FloatField()
    uptime = serializers.IntegerField()


class TeamDetailsLiteSerializer(serializers.Serializer):
    name = serializers.CharField(allow_null=True)
    id = serializers.CharField(allow_null=True)


_WORKER_FLAGS = ("img2img", "painting", "post-processing", "lora", "controlnet", "sdxl_controlnet")

# Built from a dict, not a class body: "post-processing" is the AI Horde's key.
WorkerDetailsSerializer = type(
    "WorkerDetailsSerializer",
    (serializers.Serializer,),
    {
        "__doc__": "As /api/v2/workers/{id} (WorkerDetails), with Horde's extensions kind, backend and device.",
        "type": serializers.ChoiceField(choices=["image"]),
        "name": serializers.CharField(),
        "id": serializers.UUIDField(),
        "online": serializers.BooleanField(),
        "requests_fulfilled": serializers.IntegerField(),
        "kudos_rewards": serializers.FloatField(),
        "kudos_details": WorkerKudosDetailsSerializer(),
        "performance": serializers.CharField(help_text='"N megapixelsteps per second"'),
        "threads": serializers.IntegerField(),
        "uptime": serializers.IntegerField(),
        "maintenance_mode": serializers.BooleanField(),
        "paused": serializers.BooleanField(),
        "info": serializers.CharField(),
        "nsfw": serializers.BooleanField(),
        "owner": serializers.CharField(help_text="name#id"),
        "trusted": serializers.BooleanField(),
        "flagged": serializers.BooleanField(),
        "uncompleted_jobs": serializers.IntegerField(),
        "models": serializers.ListField(child=serializers.CharField()),
        "team": TeamDetailsLiteSerializer(),
        "bridge_agent": serializers.CharField(),
        "max_pixels": serializers.IntegerField(),
        "megapixelsteps_generated": serializers.IntegerField(),
        **{flag: serializers.BooleanField() for flag in _WORKER_FLAGS},
    },
)


class HordePerformanceSerializer(serializers.Serializer):
    """As /api/v2/status/performance (HordePerformance); Horde makes images only, so the text
    and interrogation figures are always zero."""

    queued_requests = serializers.IntegerField(help_text="Image requests waiting or running.")
    queued_text_requests = serializers.IntegerField()
    worker_count = serializers.IntegerField(help_text="Workers online (seen recently, not paused or in maintenance).")
    text_worker_count = serializers.IntegerField()
    thread_count = serializers.IntegerField(help_text="Their threads.")
    text_thread_count = serializers.IntegerField()
    queued_megapixelsteps = serializers.FloatField(help_text="Megapixel-steps of the images waiting or running.")
    past_minute_megapixelsteps = serializers.FloatField(help_text="Megapixel-steps finished in the past minute.")
    queued_forms = serializers.FloatField()
    interrogator_count = serializers.IntegerField()
    interrogator_thread_count = serializers.IntegerField()
    queued_tokens = serializers.FloatField()
    past_minute_tokens = serializers.FloatField()


class ImgModelStatsSerializer(serializers.Serializer):
    """As /api/v2/stats/img/models (ImgModelStats): images finished per model name."""

    day = serializers.DictField(child=serializers.IntegerField(), help_text="The last 24 hours.")
    month = serializers.DictField(child=serializers.IntegerField(), help_text="The last 30 days.")
    total = serializers.DictField(child=serializers.IntegerField(), help_text="All time.")


class SinglePeriodImgStatSerializer(serializers.Serializer):
    images = serializers.IntegerField(help_text="Images finished.")
    ps = serializers.IntegerField(help_text="Their pixel-steps (width x height x steps).")


class StatsImgTotalsSerializer(serializers.Serializer):
    """As /api/v2/stats/img/totals (StatsImgTotals)."""

    minute = SinglePeriodImgStatSerializer(help_text="The past 60 seconds (a sliding estimate from minute counters).")
    hour = SinglePeriodImgStatSerializer(help_text="The last 60 minutes.")
    day = SinglePeriodImgStatSerializer(help_text="The last 24 hours.")
    month = SinglePeriodImgStatSerializer(help_text="The last 30 days.")
    total = SinglePeriodImgStatSerializer(help_text="All time.")


class StyleParamsSerializer(serializers.Serializer):
    """The params a style sets (ModelStyleInputParamsStable); only those it sets are listed."""

    sampler_name = serializers.CharField(required=False)
    cfg_scale = serializers.FloatField(required=False)
    width = serializers.IntegerField(required=False)
    height = serializers.IntegerField(required=False)
    steps = serializers.IntegerField(required=False)
    clip_skip = serializers.IntegerField(required=False)
    karras = serializers.BooleanField(required=False)
    tiling = serializers.BooleanField(required=False)
    hires_fix = serializers.BooleanField(required=False)
    transparent = serializers.BooleanField(required=False)


class StyleStableSerializer(serializers.Serializer):
    """As the AI Horde's StyleStable."""

    id = serializers.UUIDField()
    name = serializers.CharField()
    info = serializers.CharField()
    prompt = serializers.CharField(help_text="The template: {p} takes the request's prompt, {np} its negative prompt.")
    params = StyleParamsSerializer()
    public = serializers.BooleanField()
    nsfw = serializers.BooleanField()
    tags = serializers.ListField(child=serializers.CharField())
    models = serializers.ListField(child=serializers.CharField())
    creator = serializers.CharField(allow_null=True, help_text="name#id of the staff member who made it.")
    use_count = serializers.IntegerField(help_text="Requests made with it.")
    updated = serializers.DateTimeField()
    examples = serializers.ListField(child=serializers.DictField(), max_length=0)


# --- Worker control, worker messages, teams (generation.api_workers, generation.api_teams) ---
class ModifyWorkerSerializer(serializers.Serializer):
    """The AI Horde's ModifyWorker: only the fields the PUT set."""

    maintenance = serializers.BooleanField(required=False)
    paused = serializers.BooleanField(required=False)
    info = serializers.CharField(required=False)
    name = serializers.CharField(required=False)
    team = serializers.CharField(required=False, help_text='The team\'s name, or "None" when it left its team.')


class DeletedWorkerSerializer(serializers.Serializer):
    deleted_id = serializers.CharField()
    deleted_name = serializers.CharField()


class WorkerMessageSerializer(serializers.Serializer):
    """horde-sdk's ResponseModelMessage (its id is in the worker's pops' `messages` and POST's Location header)."""

    worker_id = serializers.CharField()
    message = serializers.CharField()
    origin = serializers.CharField()
    expiry = serializers.IntegerField(help_text="Hours until it expires (0 once expired).")


class WorkerDetailLiteSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["image"])
    name = serializers.CharField()
    id = serializers.CharField()
    online = serializers.BooleanField()


class ActiveModelLiteSerializer(serializers.Serializer):
    name = serializers.CharField()
    count = serializers.IntegerField(help_text="Workers of the team serving it.")


class TeamDetailsSerializer(serializers.Serializer):
    """The AI Horde's TeamDetails: totals of what its workers did while in the team."""

    name = serializers.CharField()
    id = serializers.CharField()
    info = serializers.CharField()
    creator = serializers.CharField(help_text="name#id")
    kudos = serializers.FloatField(help_text="Kudos its workers earned while in the team (jobs and uptime).")
    requests_fulfilled = serializers.IntegerField()
    uptime = serializers.IntegerField(help_text="Seconds its workers were up (paid uptime) while in the team.")
    worker_count = serializers.IntegerField()
    workers = WorkerDetailLiteSerializer(many=True)
    models = ActiveModelLiteSerializer(many=True)


class ModifyTeamSerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    info = serializers.CharField()


class DeletedTeamSerializer(serializers.Serializer):
    deleted_id = serializers.CharField()
    deleted_name = serializers.CharField()
