"""A small, safe Markdown: the subset staff need for terms and a privacy policy.

Every character of the source is HTML-escaped before any markup is made, so nothing a
document holds can become a tag or an attribute; links take http(s), mailto and
site-relative targets only. Blocks: `#`-headings, paragraphs, `-`/`*` and `1.` lists;
inline: **bold**, *italic*, `code`, [text](target).
"""

from __future__ import annotations

import re
from html import escape

HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
BULLET = re.compile(r"^[-*]\s+(.*)$")
NUMBERED = re.compile(r"^\d{1,9}[.)]\s+(.*)$")
CODE = re.compile(r"`([^`]+)`")
LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
BOLD = re.compile(r"\*\*(.+?)\*\*")
ITALIC = re.compile(r"(?<![*\w])\*([^*\s][^*]*?)\*(?![*\w])")
SAFE_TARGET = re.compile(r"^(https?://|mailto:|/(?!/)|#)", re.IGNORECASE)


def _inline(text: str) -> str:
    """Inline markup of one escaped line (code spans first: nothing inside them is markup)."""
    spans: list[str] = []

    def keep(match: re.Match[str]) -> str:
        spans.append(f"<code>{match.group(1)}</code>")
        return f"\x00{len(spans) - 1}\x00"

    out = CODE.sub(keep, escape(text, quote=True))

    def link(match: re.Match[str]) -> str:
        label, target = match.group(1), match.group(2)
        if not SAFE_TARGET.match(target):
            return match.group(0)
        return f'<a href="{target}">{label}</a>'

    out = LINK.sub(link, out)
    out = BOLD.sub(r"<strong>\1</strong>", out)
    out = ITALIC.sub(r"<em>\1</em>", out)
    return re.sub("\x00(\\d+)\x00", lambda match: spans[int(match.group(1))], out)


def markdown_to_html(source: str) -> str:
    blocks: list[str] = []
    paragraph: list[str] = []
    items: list[str] = []
    list_tag = ""

    def flush() -> None:
        nonlocal list_tag
        if paragraph:
            blocks.append(f"<p>{' '.join(_inline(line) for line in paragraph)}</p>")
            paragraph.clear()
        if items:
            blocks.append(f"<{list_tag}>" + "".join(f"<li>{_inline(item)}</li>" for item in items) + f"</{list_tag}>")
            items.clear()
            list_tag = ""

    for raw in source.replace("\r\n", "\n").split("\n"):
        line = raw.strip()
        heading, bullet, numbered = HEADING.match(line), BULLET.match(line), NUMBERED.match(line)
        if not line:
            flush()
        elif heading:
            flush()
            level = len(heading.group(1))
            blocks.append(f"<h{level}>{_inline(heading.group(2))}</h{level}>")
        elif bullet or numbered:
            tag = "ul" if bullet else "ol"
            if paragraph or (items and list_tag != tag):
                flush()
            list_tag = tag
            items.append((bullet or numbered).group(1))
        elif items:
            items[-1] += " " + line  # a list item's continued line
        else:
            paragraph.append(line)
    flush()
    return "\n".join(blocks)
