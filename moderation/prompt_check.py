"""The prompt filters, compiled once and cached: what every request's prompt is checked against.

`prompt_check` is called by generation.services.submit.request_validate (the one submit
path, API and pages alike). Semantics, as the AI Horde's prompt checker:
- Only the prompt is checked, not the negative prompt (after "###"), and it is normalised
  first (accents, case, punctuation and s p a c e d letters removed), so trivial tricks do
  not slip past a filter.
- Each suspicion type (10, 11) the prompt matches adds one (a type counts once, however many
  of its filters match). At REFUSE_AT (2) the request is refused with CorruptPrompt unless the
  replacement filters (type 20) rescue it: their matches are rewritten and, if what is left is
  not blank and no longer suspicious, the request goes on with the rewritten prompt.
- An NSFW term (type 21) marks the request nsfw.

Cache: every process keeps its compiled filters, tagged with the version token stored in the
shared cache (Redis). A filter change sets a new token after commit (and drops this process's
copy at once); every other process reads the token at most every VERSION_CHECK_SECONDS, so
it recompiles within that time, and a check costs no cache round trip in between. An
evicted token just makes everyone recompile once; the token is random, not a counter, so an
eviction can never bring back a version already seen.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
import unicodedata
from dataclasses import dataclass, field

from django.core.cache import cache

from generation.prompt import NEGATIVE_SEPARATOR

from .models import PromptFilter

VERSION_KEY = "moderation:prompt-filters:version"
REFUSE_AT = 2
# How stale another process's filters may be after a change (seconds).
VERSION_CHECK_SECONDS = 1.0
SUSPICION_TYPES = (PromptFilter.Type.SUSPICION_A, PromptFilter.Type.SUSPICION_B)

_NON_WORD = re.compile(r"[\W_]+")
# Three or more single letters with spaces between ("l o l i"): the spaces are dropped.
_SPACED_LETTERS = re.compile(r"\b(?:\w ){2,}\w\b")
# An uppercase letter outside an escape (`\W`, `\S` are escapes, not letters).
_UPPER_LITERAL = re.compile(r"(?<!\\)[A-Z]")


@dataclass(frozen=True)
class CompiledFilters:
    version: str
    # One alternation per suspicion type: a type counts once, so one search answers it.
    suspicion: tuple[tuple[int, re.Pattern[str]], ...]
    replacements: tuple[tuple[re.Pattern[str], str], ...]
    nsfw: re.Pattern[str] | None
    count: int = 0


@dataclass
class PromptVerdict:
    """What the filters made of a prompt: its suspicion (before any rewrite) and the matched
    words, the prompt to use (rewritten when replacements rescued it), and whether it is NSFW."""

    prompt: str
    suspicion: int
    matches: list[str] = field(default_factory=list)
    replaced: bool = False
    nsfw: bool = False

    @property
    def refused(self) -> bool:
        return self.suspicion >= REFUSE_AT and not self.replaced


def normalize_prompt(text: str) -> str:
    """Lower case, accents and punctuation gone, spaced-out letters joined, single spaces."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(char for char in text if not unicodedata.combining(char)).casefold()
    text = _NON_WORD.sub(" ", text)
    text = _SPACED_LETTERS.sub(lambda match: match.group(0).replace(" ", ""), text)
    return " ".join(text.split())


def _compile_any(regexes: list[str]) -> re.Pattern[str] | None:
    """One pattern matching where any of `regexes` does, case-insensitively, on normalised text.

    The text is already case-folded, so patterns without an uppercase literal are compiled
    without IGNORECASE (several times faster in `re`); the others keep it."""
    if not regexes:
        return None
    lower = [regex for regex in regexes if not _UPPER_LITERAL.search(regex)]
    upper = [regex for regex in regexes if _UPPER_LITERAL.search(regex)]
    parts = [f"(?:{regex})" for regex in lower] + [f"(?i:{regex})" for regex in upper]
    try:
        return re.compile("|".join(parts))
    except re.error:
        # A filter that compiles alone but not inside an alternation (a backreference by
        # number, an inline global flag): fall back to each filter on its own.
        return _AnyOf([re.compile(regex, re.IGNORECASE) for regex in regexes])  # type: ignore[return-value]


class _AnyOf:
    """The slow path of _compile_any: the first filter that matches, one by one."""

    def __init__(self, patterns: list[re.Pattern[str]]) -> None:
        self.patterns = patterns

    def search(self, text: str) -> re.Match[str] | None:
        for pattern in self.patterns:
            found = pattern.search(text)
            if found:
                return found
        return None


def _compile(version: str) -> CompiledFilters:
    by_type: dict[int, list[str]] = {}
    replacements = []
    rows = list(PromptFilter.objects.order_by("id").values_list("filter_type", "regex", "replacement"))
    for filter_type, regex, replacement in rows:
        if filter_type == PromptFilter.Type.REPLACEMENT:
            replacements.append((re.compile(regex, re.IGNORECASE), replacement))
        else:
            by_type.setdefault(filter_type, []).append(regex)
    suspicion = tuple(
        (filter_type, pattern)
        for filter_type in SUSPICION_TYPES
        if (pattern := _compile_any(by_type.get(filter_type, []))) is not None
    )
    return CompiledFilters(
        version=version,
        suspicion=suspicion,
        replacements=tuple(replacements),
        nsfw=_compile_any(by_type.get(PromptFilter.Type.NSFW, [])),
        count=len(rows),
    )


_compiled: CompiledFilters | None = None
_checked_at = 0.0
_lock = threading.Lock()


def filters_version() -> str:
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, secrets.token_hex(8), timeout=None)
        version = cache.get(VERSION_KEY) or "unknown"
    return version


def filters_changed() -> None:
    """This process recompiles on its next check, every other one within VERSION_CHECK_SECONDS.
    Call after the change committed."""
    global _compiled
    cache.set(VERSION_KEY, secrets.token_hex(8), timeout=None)
    _compiled = None


def compiled_filters() -> CompiledFilters:
    """This process's compiled filters, recompiled when the shared version moved."""
    global _compiled, _checked_at
    current = _compiled
    if current is not None and time.monotonic() - _checked_at < VERSION_CHECK_SECONDS:
        return current
    # The version is read before the rows: a change committed in between bumps the version
    # after its commit, so a later check recompiles (never a stale set kept for good).
    version = filters_version()
    with _lock:
        if _compiled is None or _compiled.version != version:
            _compiled = _compile(version)
        _checked_at = time.monotonic()
        return _compiled


def _suspicion(filters: CompiledFilters, text: str, only_type: int | None = None) -> tuple[int, list[str]]:
    score, matches = 0, []
    for filter_type, pattern in filters.suspicion:
        if only_type is not None and filter_type != only_type:
            continue
        found = pattern.search(text)
        if found:
            score += 1
            matches.append(found.group(0))
    return score, matches


def prompt_suspicion(prompt: str, *, filter_type: int | None = None) -> tuple[int, list[str]]:
    """(suspicion, matched words) of a prompt: the moderators' check endpoint."""
    positive = prompt.split(NEGATIVE_SEPARATOR, 1)[0]
    filters = compiled_filters()
    text = normalize_prompt(positive)
    if filter_type is not None and filter_type not in SUSPICION_TYPES:
        if filter_type == PromptFilter.Type.NSFW and filters.nsfw is not None:
            found = filters.nsfw.search(text)
            return (0, [found.group(0)]) if found else (0, [])
        return 0, []
    return _suspicion(filters, text, filter_type)


def prompt_check(prompt: str, *, replacement_filter: bool = True) -> PromptVerdict:
    """Check a request's prompt against every filter (see the module docstring)."""
    filters = compiled_filters()
    if not filters.count:
        return PromptVerdict(prompt=prompt, suspicion=0)
    positive, separator, negative = prompt.partition(NEGATIVE_SEPARATOR)
    text = normalize_prompt(positive)
    score, matches = _suspicion(filters, text)
    verdict = PromptVerdict(prompt=prompt, suspicion=score, matches=matches)
    if score >= REFUSE_AT and replacement_filter and filters.replacements:
        rewritten = text
        for pattern, replacement in filters.replacements:
            rewritten = pattern.sub(replacement, rewritten)
        rewritten_text = normalize_prompt(rewritten)
        if rewritten_text and _suspicion(filters, rewritten_text)[0] < REFUSE_AT:
            verdict.prompt = rewritten.strip() + (f" {separator}{negative}" if separator else "")
            verdict.replaced = True
            text = rewritten_text
    if filters.nsfw is not None and filters.nsfw.search(text):
        verdict.nsfw = True
    return verdict
