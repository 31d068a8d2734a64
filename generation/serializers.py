"""The input serializers of the generation API: one rule set for each body, in AI Horde shapes.

`GenerationInputSerializer` is the async body (`POST /api/v2/generate/async`): its type,
shape and range rules are the first half of `services.submit.request_validate`, which the
generate page calls too, so the API, the page and the OpenAPI schema read one rule set.
The rules that need the chosen model (its sizes, steps, who may use it) follow in
`request_validate`. A refusal's DRF error code is the AI Horde's rc name where it has one
(`InvalidSize`, `MissingPrompt`...); DRF's own codes (`invalid`, `max_value`...) mean
`BadRequest`. Keys the AI Horde knows and Horde ignores are accepted unread, as there.

No imports from generation.services: request_validate imports this module.
"""

from __future__ import annotations

import hashlib
from typing import Any

from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers
from rest_framework.fields import empty

from generation import conf
from horde_site.api_input import is_ascii_number
from horde_site.api_schema import (
    QueryIntegerField,
    StrictBooleanField,
    StrictCharField,
    StrictFloatField,
    StrictIntegerField,
)

# The AI Horde's sampler names (KNOWN_SAMPLERS).
SAMPLERS = frozenset(
    {
        "k_lms",
        "k_heun",
        "k_euler",
        "k_euler_a",
        "k_dpm_2",
        "k_dpm_2_a",
        "k_dpm_fast",
        "k_dpm_adaptive",
        "k_dpmpp_2s_a",
        "k_dpmpp_2m",
        "dpmsolver",
        "k_dpmpp_sde",
        "lcm",
        "DDIM",
    }
)
MAX_SEED = 2**32 - 1
STYLE_NAME_MAX = 100
# The params a style may set: the async params less n (the request's own) and seed.
STYLE_PARAM_KEYS = frozenset(
    {"sampler_name", "cfg_scale", "width", "height", "steps", "clip_skip"}
    | {"karras", "tiling", "hires_fix", "transparent"}
)
MAX_WORKERS_LISTED = 5
MAX_MODELS_LISTED = 20
# The rc names the rules below raise; any other error code is a plain BadRequest.
RC_NAMES = frozenset({"MissingPrompt", "TooLong", "InvalidSize", "UnsupportedSampler"})


def error_rc(code: str | None) -> str:
    return code if code in RC_NAMES else "BadRequest"


def first_error(errors: Any, path: str = "") -> tuple[str, str, str | None]:
    """The first failure of a serializer's `errors`: (dotted field, message, code).

    A list item's failure is named by its list (`workers`, not `workers.0`), and a nested
    object's own failure (`params` is no object) by the object.
    """
    if isinstance(errors, dict):
        key, value = next(iter(errors.items()))
        if isinstance(key, int) or key == serializers.api_settings.NON_FIELD_ERRORS_KEY:
            return first_error(value, path)
        return first_error(value, f"{path}.{key}" if path else str(key))
    if isinstance(errors, list):
        return first_error(errors[0], path)
    return path or "body", str(errors), getattr(errors, "code", None)


def _bool(name: str) -> StrictBooleanField:
    return StrictBooleanField(
        required=False, allow_null=True, error_messages={"invalid": f"{name} must be true or false."}
    )


def _int(name: str, **kwargs: Any) -> StrictIntegerField:
    return StrictIntegerField(
        required=False,
        allow_null=True,
        error_messages={"invalid": f"{name} must be a whole number.", **kwargs.pop("error_messages", {})},
        **kwargs,
    )


class NotSupportedField(serializers.Field):
    """An AI Horde feature Horde does not offer: absent, null or empty passes, anything else is refused."""

    def __init__(self, *, message: str, **kwargs: Any) -> None:
        self.message = message
        super().__init__(required=False, allow_null=True, **kwargs)

    def to_internal_value(self, data: Any) -> None:
        if data:
            raise serializers.ValidationError(self.message, code="invalid")
        return None

    def to_representation(self, value: Any) -> Any:
        return value


@extend_schema_field({"type": "array", "items": {"type": "object"}, "maxItems": 0})
class NotSupportedListField(NotSupportedField):
    pass


@extend_schema_field({"type": "string", "maxLength": 0})
class NotSupportedTextField(NotSupportedField):
    pass


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string", "maxLength": 256},
            {"type": "integer", "minimum": 0, "maximum": MAX_SEED},
        ],
        "description": "A whole number 0-4294967295 (also as digits in a string); a word is hashed to one.",
    }
)
class SeedField(serializers.Field):
    """The AI Horde takes a seed as a string or number; a non-numeric string is hashed."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(required=False, allow_null=True, **kwargs)

    def to_internal_value(self, data: Any) -> int | None:
        if data == "":
            return None
        if isinstance(data, bool) or not isinstance(data, (int, str)):
            raise serializers.ValidationError("params.seed must be a string or a whole number.")
        value: int
        if isinstance(data, str):
            if len(data) > 256:
                raise serializers.ValidationError("params.seed is too long.")
            text = data.strip()
            if is_ascii_number(text):
                value = int(text)
            elif any(char.isdigit() for char in text) and not text.isascii():
                # "²" or "٣٤" look like numbers but are none: say so rather than hash them.
                raise serializers.ValidationError("params.seed may only use the digits 0-9.")
            else:
                # A word seed: the same word always gives the same seed.
                return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big")
        else:
            value = data
        if not 0 <= value <= MAX_SEED:
            raise serializers.ValidationError(f"params.seed must be between 0 and {MAX_SEED}.")
        return value

    def to_representation(self, value: Any) -> Any:
        return value


class SamplerField(serializers.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=sorted(SAMPLERS), required=False, allow_null=True, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str) or data not in SAMPLERS:
            raise serializers.ValidationError(f"Unknown sampler {str(data)[:50]!r}.", code="UnsupportedSampler")
        return data


class PromptField(serializers.CharField):
    """Required, not blank, at most HORDE_MAX_PROMPT_CHARS; kept exactly as sent (no trimming)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(trim_whitespace=False, **kwargs)

    def run_validation(self, data: Any = empty) -> str:
        if data is empty or data is None or (isinstance(data, str) and not data.strip()):
            raise serializers.ValidationError("A prompt is required.", code="MissingPrompt")
        if not isinstance(data, str):
            raise serializers.ValidationError("prompt must be a string.", code="invalid")
        if len(data) > conf.max_prompt_chars():
            raise serializers.ValidationError(
                f"The prompt may be at most {conf.max_prompt_chars()} characters.", code="TooLong"
            )
        return data


def _size(name: str) -> StrictIntegerField:
    return _int(f"params.{name}", help_text="Pixels, a multiple of 64 within the model's range.")


@extend_schema_serializer(component_name="ModelGenerationInputStable")
class GenerationParamsSerializer(serializers.Serializer):
    """`params` of the async body. Omitted values take the model's defaults."""

    sampler_name = SamplerField()
    cfg_scale = StrictFloatField(
        required=False,
        allow_null=True,
        min_value=0,
        max_value=100,
        error_messages=dict.fromkeys(
            ("invalid", "min_value", "max_value"), "params.cfg_scale must be a number between 0 and 100."
        ),
    )
    seed = SeedField()
    width = _size("width")
    height = _size("height")
    steps = _int("params.steps", min_value=1, error_messages={"min_value": "params.steps must be at least 1."})
    ddim_steps = _int(
        "params.ddim_steps",
        min_value=1,
        help_text="The older name of steps (steps wins).",
        error_messages={"min_value": "params.ddim_steps must be at least 1."},
    )
    n = _int("params.n", help_text="Images to make, 1 to HORDE_MAX_N (the SDXL beta always makes 2).")
    n_iter = _int("params.n_iter", help_text="The older name of n (n wins).")
    clip_skip = _int(
        "params.clip_skip",
        min_value=1,
        max_value=12,
        error_messages=dict.fromkeys(("min_value", "max_value"), "params.clip_skip must be between 1 and 12."),
    )
    karras = _bool("params.karras")
    tiling = _bool("params.tiling")
    hires_fix = _bool("params.hires_fix")
    transparent = _bool("params.transparent")
    post_processing = NotSupportedListField(message="Post-processing is not supported here.")
    loras = NotSupportedListField(message="params.loras is not supported here.")
    tis = NotSupportedListField(message="params.tis is not supported here.")
    extra_texts = NotSupportedListField(message="params.extra_texts is not supported here.")
    control_type = NotSupportedTextField(message="ControlNet is not supported here.")

    def validate_width(self, value: int | None) -> int | None:
        return _multiple_of_64("width", value)

    def validate_height(self, value: int | None) -> int | None:
        return _multiple_of_64("height", value)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        n = attrs.get("n") if attrs.get("n") is not None else attrs.get("n_iter")
        if n is not None and not 1 <= n <= conf.max_n():
            raise serializers.ValidationError({"n": f"params.n must be between 1 and {conf.max_n()}."})
        return attrs


def _multiple_of_64(name: str, value: int | None) -> int | None:
    if value is not None and value % 64:
        raise serializers.ValidationError(f"params.{name} must be a multiple of 64.", code="InvalidSize")
    return value


class WorkerIdField(serializers.UUIDField):
    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str):
            self.fail("invalid", value=data)
        return super().to_internal_value(data)


@extend_schema_serializer(component_name="GenerationInputStable")
class GenerationInputSerializer(serializers.Serializer):
    """The AI Horde async body: txt2img only (no source images, LoRAs, ControlNet or post-processing)."""

    prompt = PromptField(help_text='The prompt; "###" starts the negative prompt. At most HORDE_MAX_PROMPT_CHARS.')
    params = GenerationParamsSerializer(
        required=False, allow_null=True, error_messages={"invalid": "params must be an object."}
    )
    nsfw = _bool("nsfw")
    censor_nsfw = _bool("censor_nsfw")
    trusted_workers = _bool("trusted_workers")
    slow_workers = _bool("slow_workers")
    worker_blacklist = _bool("worker_blacklist")
    shared = _bool("shared")
    r2 = _bool("r2")
    dry_run = _bool("dry_run")
    replacement_filter = _bool("replacement_filter")
    allow_downgrade = _bool("allow_downgrade")
    disable_batching = _bool("disable_batching")
    workers = serializers.ListField(
        child=WorkerIdField(error_messages={"invalid": "workers must list worker ids (UUIDs)."}),
        required=False,
        allow_null=True,
        max_length=MAX_WORKERS_LISTED,
        error_messages=dict.fromkeys(
            ("not_a_list", "max_length"), f"workers must be a list of at most {MAX_WORKERS_LISTED} worker ids."
        ),
    )
    models = serializers.ListField(
        child=StrictCharField(error_messages={"invalid": "models must be a list of model names."}),
        required=False,
        allow_null=True,
        max_length=MAX_MODELS_LISTED,
        help_text="The first is used; none: the first open model that is not the SDXL beta.",
        error_messages={
            "not_a_list": "models must be a list of model names.",
            "max_length": f"models may list at most {MAX_MODELS_LISTED} names.",
        },
    )
    style = StrictCharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        max_length=STYLE_NAME_MAX,
        help_text="A style's id or name: its prompt template, models and params apply (StyleNotFound: ThingNotFound).",
        error_messages={
            "invalid": "style must be a style's id or name.",
            "max_length": f"style may be at most {STYLE_NAME_MAX} characters.",
        },
    )
    source_image = NotSupportedTextField(message="Source images (img2img, inpainting) are not supported here.")
    source_mask = NotSupportedTextField(message="Source images (img2img, inpainting) are not supported here.")
    extra_source_images = NotSupportedListField(message="Source images (img2img, inpainting) are not supported here.")
    source_processing = serializers.ChoiceField(
        choices=["txt2img"],
        required=False,
        allow_null=True,
        error_messages={"invalid_choice": "Only txt2img is supported here."},
    )


class PopInputSerializer(serializers.Serializer):
    """The worker's pop body (PopInputStable); keys Horde does not use are accepted unread."""

    name = serializers.CharField(max_length=100, min_length=1, help_text="The worker's name (one per owner and name).")
    models = serializers.ListField(child=serializers.CharField(max_length=100), max_length=100, default=list)
    max_pixels = serializers.IntegerField(min_value=64 * 64, max_value=4096 * 4096, default=512 * 512)
    nsfw = serializers.BooleanField(default=False, allow_null=True)
    amount = serializers.IntegerField(min_value=1, max_value=20, default=1, allow_null=True)
    bridge_agent = serializers.CharField(max_length=1000, required=False, allow_blank=True, allow_null=True)
    threads = serializers.IntegerField(min_value=1, max_value=100, required=False, allow_null=True)


class GenMetadataSerializer(serializers.Serializer):
    """One `gen_metadata` entry (GenerationMetadataStable): type `censorship` marks it censored."""

    type = serializers.CharField(max_length=100)
    value = serializers.CharField(max_length=100)
    ref = serializers.CharField(max_length=255, required=False, allow_null=True, allow_blank=True)


class SubmitInputSerializer(serializers.Serializer):
    """The worker's submit body (SubmitInput). Censored: `state` censored (or csam), the legacy
    `censored` flag, or a `gen_metadata` entry of type censorship (reGen's way)."""

    id = serializers.UUIDField(help_text="The job id the pop answered.")
    generation = serializers.CharField(
        allow_blank=True,
        default="",
        trim_whitespace=False,
        help_text='The image as base64 (webp, png or jpeg), or "R2" after a PUT to the pop\'s r2_upload URL.',
    )
    state = serializers.ChoiceField(choices=["ok", "censored", "faulted", "csam"], default="ok")
    seed = serializers.CharField(max_length=40, required=False, allow_blank=True, allow_null=True)
    censored = serializers.BooleanField(default=False)
    gen_metadata = serializers.ListField(child=GenMetadataSerializer(), required=False, allow_null=True, max_length=50)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        metadata = attrs.pop("gen_metadata", None) or []
        if any(entry["type"] == "censorship" for entry in metadata):
            attrs["censored"] = True
        return attrs


# Bounds of the price endpoint's numbers: a price, not a request, so only sanity bounds.
PRICE_MAX_SIDE = 8192
PRICE_MAX_STEPS = 1000


def _price_number(name: str, high: int, **kwargs: Any) -> QueryIntegerField:
    return QueryIntegerField(
        min_value=1,
        max_value=high,
        error_messages={
            "required": f"{name} is required.",
            "invalid": f"{name} must be a whole number.",
            "max_string_length": f"{name} must be a whole number.",
            "min_value": f"{name} must be between 1 and {high}.",
            "max_value": f"{name} must be between 1 and {high}.",
        },
        **kwargs,
    )


class PriceQuerySerializer(serializers.Serializer):
    """The generate page's price query (`GET /generate/price`): the form's numbers, as text."""

    # No model, or an unknown one, is the view's 404 (ModelNotFound).
    model = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    width = _price_number("width", PRICE_MAX_SIDE)
    height = _price_number("height", PRICE_MAX_SIDE)
    steps = _price_number("steps", PRICE_MAX_STEPS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The image count's bound is a setting, read when the query is.
        self.fields["n"] = _price_number("n", conf.max_n(), required=False, default=1)


def style_params_problem(params: Any) -> str | None:
    """Why a style's params are refused (the async params' own rules, STYLE_PARAM_KEYS only), or None."""
    if not isinstance(params, dict):
        return "params must be an object."
    unknown = sorted(set(params) - STYLE_PARAM_KEYS)
    if unknown:
        return f"A style may not set params.{unknown[0][:50]} (it may set {', '.join(sorted(STYLE_PARAM_KEYS))})."
    serializer = GenerationParamsSerializer(data=params)
    if not serializer.is_valid():
        field, message, _code = first_error(serializer.errors)
        return message if message.startswith("params.") else f"params.{field}: {message}"
    return None
