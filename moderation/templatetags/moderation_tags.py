"""`{% report_dialog %}`: the report dialog a page includes once (signed-in users only)."""

from __future__ import annotations

from typing import Any

from django import template

from moderation.models import Report

register = template.Library()


@register.inclusion_tag("moderation/_report_dialog.html", takes_context=True)
def report_dialog(context: Any) -> dict[str, Any]:
    return {"user": context.get("user"), "report_reasons": Report.Reason.choices}
