"""The generate form.

It only shapes the page's fields into the AI Horde async body: every rule
(model limits, SDXL beta rules, prompt length, kudos) is checked by
`generation.services.request_submit`, whose errors the view maps back onto
these fields, so the page and the API can never disagree.
"""

from __future__ import annotations

from typing import Any

from django import forms

from .models import ImageModel

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


class GenerateForm(forms.Form):
    model = forms.ModelChoiceField(queryset=ImageModel.objects.none(), to_field_name="name", empty_label=None)
    prompt = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "a lighthouse at dawn, oil painting"})
    )
    width = forms.TypedChoiceField(coerce=int)
    height = forms.TypedChoiceField(coerce=int)
    steps = forms.IntegerField(min_value=1)
    n = forms.TypedChoiceField(
        label="Images", coerce=int, choices=[(c, c) for c in IMAGE_COUNTS], initial=1, required=False
    )
    seed = forms.IntegerField(required=False, min_value=0, help_text="Leave empty for a random seed.")

    def __init__(self, *args: Any, models: list[ImageModel] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.models = models if models is not None else enabled_models()
        self.fields["model"].queryset = ImageModel.objects.filter(pk__in=[m.pk for m in self.models])
        chosen = self._chosen_model()
        if chosen is not None:
            self.fields["width"].choices = [(w, w) for w in size_choices(chosen.min_width, chosen.max_width)]
            self.fields["height"].choices = [(h, h) for h in size_choices(chosen.min_height, chosen.max_height)]
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
        if data.get("seed") is not None:
            params["seed"] = str(data["seed"])  # the AI Horde's seed is a string
        return {"prompt": data["prompt"], "params": params, "models": [data["model"].name]}

    # request_submit names fields as the API body does; these are the page's names for them.
    FIELD_ALIASES = {"models": "model", "params.n": "n", "seed": "seed"}

    def add_submit_error(self, field: str | None, message: str) -> None:
        name = (field or "").removeprefix("params.")
        name = self.FIELD_ALIASES.get(field or "", self.FIELD_ALIASES.get(name, name))
        self.add_error(name if name in self.fields else None, message)
