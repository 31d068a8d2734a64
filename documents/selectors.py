"""Reads of the documents."""

from __future__ import annotations

from . import defaults
from .models import Document
from .render import markdown_to_html

DEFAULTS = {Document.Kind.TERMS: defaults.TERMS, Document.Kind.PRIVACY: defaults.PRIVACY}


def document_markdown(*, kind: Document.Kind) -> str:
    """The document staff wrote, or the built-in one until they have."""
    stored = Document.objects.filter(kind=kind).values_list("markdown", flat=True).first()
    return stored if stored is not None else DEFAULTS[kind]


def document_html(*, kind: Document.Kind) -> str:
    return markdown_to_html(document_markdown(kind=kind))
