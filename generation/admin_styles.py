"""Staff make image styles here: the form checks what a request will later rely on."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin

from .models import ImageModel, Style
from .serializers import STYLE_NAME_MAX, style_params_problem

MAX_STYLE_MODELS = 5
MAX_STYLE_TAGS = 10


class StyleForm(forms.ModelForm):
    class Meta:
        model = Style
        fields = ("name", "info", "prompt", "params", "model_names", "tags", "nsfw", "public")

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name or len(name) > STYLE_NAME_MAX:
            raise forms.ValidationError(f"A name of 1 to {STYLE_NAME_MAX} characters.")
        return name

    def clean_prompt(self) -> str:
        prompt = self.cleaned_data["prompt"]
        # As the AI Horde (StylePromptMissingVars): where the prompt and negative prompt go.
        if "{p}" not in prompt or "{np}" not in prompt:
            raise forms.ValidationError("The template needs {p} (the prompt) and {np} (the negative prompt).")
        return prompt

    def clean_params(self) -> dict[str, Any]:
        params = self.cleaned_data.get("params") or {}
        problem = style_params_problem(params)
        if problem:
            raise forms.ValidationError(problem)
        return params

    def clean_model_names(self) -> list[str]:
        names = self.cleaned_data.get("model_names")
        if not isinstance(names, list) or not names or not all(isinstance(name, str) for name in names):
            raise forms.ValidationError('A list of 1 to 5 image model names, e.g. ["stable_diffusion"].')
        if len(names) > MAX_STYLE_MODELS:
            raise forms.ValidationError(f"At most {MAX_STYLE_MODELS} models.")
        known = set(ImageModel.objects.filter(name__in=names).values_list("name", flat=True))
        unknown = [name for name in names if name not in known]
        if unknown:
            raise forms.ValidationError(f"No such image model: {unknown[0][:100]}")
        return names

    def clean_tags(self) -> list[str]:
        tags = self.cleaned_data.get("tags") or []
        if not isinstance(tags, list) or not all(isinstance(tag, str) and 0 < len(tag.strip()) <= 50 for tag in tags):
            raise forms.ValidationError('A list of words of at most 50 characters, e.g. ["anime"].')
        if len(tags) > MAX_STYLE_TAGS:
            raise forms.ValidationError(f"At most {MAX_STYLE_TAGS} tags.")
        return [tag.strip() for tag in tags]


@admin.register(Style)
class StyleAdmin(admin.ModelAdmin):
    form = StyleForm
    list_display = ("name", "public", "nsfw", "use_count", "creator", "updated_at")
    list_filter = ("public", "nsfw")
    search_fields = ("name", "info", "prompt")
    readonly_fields = ("use_count", "creator", "created_at", "updated_at")

    def save_model(self, request, obj, form, change) -> None:
        if not change:
            obj.creator = request.user
        super().save_model(request, obj, form, change)
