"""The site's documents (terms of service, privacy policy), written by staff in the admin.

Invariants:
- One document per kind (a unique kind): the API and the pages show that one.
- The text is Markdown, kept as staff wrote it; HTML is made from it on read by
  documents.render, which escapes everything first (no raw HTML gets through).
"""

from __future__ import annotations

from django.db import models


class Document(models.Model):
    class Kind(models.TextChoices):
        TERMS = "terms", "Terms of service"
        PRIVACY = "privacy", "Privacy policy"

    kind = models.CharField(max_length=20, choices=Kind.choices, unique=True)
    markdown = models.TextField(
        help_text="Markdown: # headings, paragraphs, - lists, 1. lists, **bold**, *italic*, `code`, [links](https://...)."
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.get_kind_display()
