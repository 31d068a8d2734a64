"""The AI Horde's prompt format: one string, the positive prompt, then optionally the
negative prompt after a separator. Dependency-free, so every layer (the services, the
forms, the worker tasks, moderation's filters) can split prompts the same way."""

from __future__ import annotations

NEGATIVE_SEPARATOR = "###"
