"""API key format and hashing: user keys (22 url-safe characters) and shared keys (UUIDs), as on the AI Horde."""

from __future__ import annotations

import hashlib
import secrets
import uuid


def apikey_generate() -> str:
    return secrets.token_urlsafe(16)  # 16 bytes -> 22 characters


def apikey_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def sharedkey_generate() -> str:
    """A fresh shared key: a random UUID, the form horde-sdk takes for a shared key's id."""
    return str(uuid.uuid4())


def sharedkey_canonical(text: str) -> str | None:
    """The key's one spelling (lower-case, hyphenated) when `text` is a UUID, else None.

    The AI Horde reads a shared key as a UUID, so any spelling of it opens the key; the
    hash is taken of this one."""
    if not isinstance(text, str) or len(text) > 45 or not text.isascii():
        return None
    try:
        return str(uuid.UUID(text))
    except ValueError:
        return None
