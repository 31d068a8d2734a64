from __future__ import annotations


class RatingError(Exception):
    """A refused vote; `rc` is the AI Horde's return-code name (or ours, where it has none)."""

    def __init__(self, message: str, rc: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.rc = rc
        self.status = status
