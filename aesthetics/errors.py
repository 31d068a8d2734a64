from __future__ import annotations


class RatingRefused(Exception):
    """A refused single-image rating; `rc` names the reason as the ratings API answers it."""

    def __init__(self, message: str, rc: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.rc = rc
        self.status = status
