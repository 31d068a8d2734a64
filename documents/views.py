"""The documents as pages: /terms and /privacy (linked in every page's footer)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import mark_safe

from .models import Document
from .selectors import document_html


def _page(request: HttpRequest, kind: Document.Kind) -> HttpResponse:
    # documents.render escapes the whole source before it makes any markup: safe to mark so.
    body = mark_safe(document_html(kind=kind))  # noqa: S308
    return render(request, "documents/page.html", {"title": kind.label, "body": body})


def terms(request: HttpRequest) -> HttpResponse:
    return _page(request, Document.Kind.TERMS)


def privacy(request: HttpRequest) -> HttpResponse:
    return _page(request, Document.Kind.PRIVACY)
