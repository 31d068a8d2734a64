"""API key format and hashing (AI Horde format: 22 url-safe characters)."""

from __future__ import annotations

import hashlib
import secrets


def apikey_generate() -> str:
    return secrets.token_urlsafe(16)  # 16 bytes -> 22 characters


def apikey_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()
