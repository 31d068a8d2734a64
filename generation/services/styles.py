"""Styles applied to a submission: the AI Horde's semantics, inside the one submit service.

`style_apply` is called by `request_validate` (submit.py) on the validated async body, so
the page, the API and a dry run all apply a style the same way, and the model rules that
follow check the styled request. As on the AI Horde: the style is found by id, else by name;
its template's `{p}` and `{np}` take the requester's prompt and negative prompt (the part
after "###"), every other brace is kept as written; the style's params replace the
request's, all but n (and width and height where the style sets none); its models and nsfw
flag replace the request's.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from generation import conf
from generation.models import Style
from generation.prompt import NEGATIVE_SEPARATOR
from generation.serializers import GenerationParamsSerializer, error_rc, first_error

from .errors import RequestRefused, bad

_PLACEHOLDER = re.compile(r"\{(p|np)\}")


def style_find(*, ref: str) -> Style | None:
    """The style with this id, else with this name (public or not: knowing it is enough)."""
    try:
        found = Style.objects.filter(pk=uuid.UUID(ref)).first()
    except ValueError:
        found = None
    return found or Style.objects.filter(name=ref).first()


def style_prompt(*, template: str, prompt: str) -> str:
    """The template with the requester's prompt and negative prompt in (one pass, so text the
    requester wrote is never read as a placeholder)."""
    positive, separator, negative = prompt.partition(NEGATIVE_SEPARATOR)
    if separator and negative and NEGATIVE_SEPARATOR not in template:
        # The template has no negative part of its own: the requester's stays negative.
        negative = NEGATIVE_SEPARATOR + negative
    values = {"p": positive, "np": negative}
    return _PLACEHOLDER.sub(lambda match: values[match.group(1)], template)


def style_apply(*, ref: str, data: dict[str, Any]) -> tuple[Style, dict[str, Any]]:
    """The validated async body as the style makes it. Raises RequestRefused: 404
    ThingNotFound for an unknown style (the AI Horde's), 400 for a styled prompt or params
    that break the body's rules."""
    style = style_find(ref=ref)
    if style is None:
        raise RequestRefused(404, "ThingNotFound", f"Style {ref[:100]!r} not found.", "style")
    asked = dict(data.get("params") or {})
    params: dict[str, Any] = dict(style.params or {})
    for key in ("n", "n_iter"):
        if asked.get(key) is not None:
            params[key] = asked[key]
    for key in ("width", "height"):
        if key not in params and asked.get(key) is not None:
            params[key] = asked[key]
    checked = GenerationParamsSerializer(data=params)
    if not checked.is_valid():
        field, message, code = first_error(checked.errors)
        raise bad(error_rc(code), f"Style {style.name}: {message}", f"params.{field}")
    prompt = style_prompt(template=style.prompt, prompt=data["prompt"])
    if len(prompt) > conf.max_prompt_chars():
        raise bad("TooLong", f"The prompt in style {style.name} may be at most {conf.max_prompt_chars()} characters.")
    styled = {
        **data,
        "prompt": prompt,
        "params": checked.validated_data,
        "models": list(style.model_names or []),
        "nsfw": style.nsfw,
    }
    return style, styled
