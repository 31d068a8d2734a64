"""The generate form.

It only shapes the page's fields into the AI Horde async body: every rule
(model limits, SDXL beta rules, prompt length, kudos) is checked by
`generation.services.request_submit`, whose errors the view maps back onto
these fields, so the page and the API can never disagree.
"""

from __future__ import annotations

from typing import Any

from django import forms

from . import conf
from .models import GenerationRequest, ImageModel
from .prompt import NEGATIVE_SEPARATOR
from .serializers import SAMPLERS
from .services.submit import DEFAULT_SAMPLER

SIZE_STEP = 64  # sizes are multiples of 64, as on the AI Horde
IMAGE_COUNTS = [1, 2, 3, 4]


def size_choices(low: int, high: int) -> list[int]:
    """Multiples of 64 within [low, high]."""
    first = -(-low // SIZE_STEP) * SIZE_STEP
    return list(range(max(first, SIZE_STEP), high + 1, SIZE_STEP))


def model_limits(model: ImageModel) -> dict[str, Any]:
    """What the page's script needs to rebuild the size selects and the price for a model."""
    return {
        "widths": size_choices(model.min_width, model.max_width),
        "heights": size_choices(model.min_height, model.max_height),
        "default_width": model.default_width,
        "default_height": model.default_height,
        "default_steps": model.default_steps,
        "max_steps": model.max_steps,
        "images_per_request": model.images_per_request,
        "anonymous_allowed": model.anonymous_allowed,
        "always_shared": model.always_shared,
        "compare_pipelines": model.compare_pipelines,
    }


def enabled_models() -> list[ImageModel]:
    return list(ImageModel.objects.filter(enabled=True).order_by("name"))


class GenerateQueryForm(forms.Form):
    """What a link may fill the generate form with: `?model=` (a name) and `?again=` (one of
    the user's requests, "same seed again"). A value that does not fit is ignored."""

    model = forms.CharField(required=False, max_length=200)
    again = forms.UUIDField(required=False)

    def values(self) -> dict[str, Any]:
        """The fields that fit (Django drops the others from cleaned_data)."""
        self.is_valid()
        return self.cleaned_data


class GenerateForm(forms.Form):
    model = forms.ModelChoiceField(queryset=ImageModel.objects.none(), to_field_name="name", empty_label=None)
    prompt = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "a lighthouse at dawn, oil painting"})
    )
    negative_prompt = forms.CharField(
        label="Negative prompt",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "blurry, text, watermark"}),
        help_text="What the image should not show (sent as the AI Horde's “prompt ### negative”).",
    )
    width = forms.TypedChoiceField(coerce=int)
    height = forms.TypedChoiceField(coerce=int)
    steps = forms.IntegerField(min_value=1)
    n = forms.TypedChoiceField(
        label="Images", coerce=int, choices=[(c, c) for c in IMAGE_COUNTS], initial=1, required=False
    )
    sampler_name = forms.ChoiceField(
        label="Sampler",
        choices=[(name, name) for name in sorted(SAMPLERS, key=str.lower)],
        initial=DEFAULT_SAMPLER,
        required=False,
    )
    cfg_scale = forms.FloatField(
        label="CFG scale",
        min_value=0,
        max_value=100,
        initial=7.5,
        required=False,
        widget=forms.NumberInput(attrs={"step": "0.5"}),
    )
    seed = forms.IntegerField(required=False, min_value=0, help_text="Leave empty for a random seed.")

    def __init__(self, *args: Any, models: list[ImageModel] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.models = models if models is not None else enabled_models()
        self.fields["model"].queryset = ImageModel.objects.filter(pk__in=[m.pk for m in self.models])
        self.max_prompt_chars = conf.max_prompt_chars()
        self.fields["prompt"].widget.attrs["data-max-chars"] = self.max_prompt_chars
        chosen = self._chosen_model()
        if chosen is not None:
            self.fields["width"].choices = [(w, w) for w in size_choices(chosen.min_width, chosen.max_width)]
            self.fields["height"].choices = [(h, h) for h in size_choices(chosen.min_height, chosen.max_height)]
            # The API's own rule, in words, instead of a generic "Select a valid choice".
            for name, low, high in (
                ("width", chosen.min_width, chosen.max_width),
                ("height", chosen.min_height, chosen.max_height),
            ):
                self.fields[name].error_messages["invalid_choice"] = (
                    f"{name.capitalize()} must be a multiple of 64 between {low} and {high} for {chosen.name}."
                )
            self.fields["steps"].widget.attrs["max"] = chosen.max_steps
            if not self.is_bound:
                self.initial.setdefault("model", chosen.name)
                self.initial.setdefault("width", chosen.default_width)
                self.initial.setdefault("height", chosen.default_height)
                self.initial.setdefault("steps", chosen.default_steps)

    def _chosen_model(self) -> ImageModel | None:
        """The model the sizes are offered for: the one posted, else the initial one, else the first."""
        name = self.data.get("model") if self.is_bound else self.initial.get("model")
        for model in self.models:
            if model.name == name:
                return model
        return self.models[0] if self.models else None

    def full_prompt(self) -> str:
        """The prompt as the AI Horde takes it: "prompt ### negative" when there is a negative."""
        prompt = self.cleaned_data.get("prompt", "")
        negative = (self.cleaned_data.get("negative_prompt") or "").strip()
        return f"{prompt} {NEGATIVE_SEPARATOR} {negative}" if negative else prompt

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        # The length the API checks is the whole string, negative included; same message.
        if "prompt" in data and len(self.full_prompt()) > self.max_prompt_chars:
            self.add_error("prompt", f"The prompt may be at most {self.max_prompt_chars} characters.")
        return data

    def images(self) -> int:
        """How many images the request gets: the model's fixed count (the SDXL beta: 2), else n."""
        model: ImageModel = self.cleaned_data["model"]
        return model.images_per_request or self.cleaned_data.get("n") or 1

    def horde_body(self) -> dict[str, Any]:
        """The AI Horde async body for request_submit."""
        data = self.cleaned_data
        params: dict[str, Any] = {
            "width": data["width"],
            "height": data["height"],
            "steps": data["steps"],
            "n": self.images(),
        }
        # Left out when empty: request_submit then applies the API's own defaults.
        if data.get("sampler_name"):
            params["sampler_name"] = data["sampler_name"]
        if data.get("cfg_scale") is not None:
            params["cfg_scale"] = data["cfg_scale"]
        if data.get("seed") is not None:
            params["seed"] = str(data["seed"])  # the AI Horde's seed is a string
        return {"prompt": self.full_prompt(), "params": params, "models": [data["model"].name]}

    # request_submit names fields as the API body does; these are the page's names for them.
    FIELD_ALIASES = {"models": "model", "params.n": "n", "seed": "seed"}

    def add_submit_error(self, field: str | None, message: str) -> None:
        name = (field or "").removeprefix("params.")
        name = self.FIELD_ALIASES.get(field or "", self.FIELD_ALIASES.get(name, name))
        self.add_error(name if name in self.fields else None, message)


def initial_from(request: GenerationRequest) -> dict[str, Any]:
    """The form filled in as an earlier request was made, seed included ("same seed again")."""
    prompt, _, negative = request.prompt.partition(NEGATIVE_SEPARATOR)
    params = request.params or {}
    return {
        "model": request.model.name,
        "prompt": prompt.strip(),
        "negative_prompt": negative.strip(),
        "width": request.width,
        "height": request.height,
        "steps": request.steps,
        "n": min(request.n, max(IMAGE_COUNTS)),
        "sampler_name": params.get("sampler_name", DEFAULT_SAMPLER),
        "cfg_scale": params.get("cfg_scale", 7.5),
        "seed": request.seed,
    }
