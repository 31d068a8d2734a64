"""The one error type generation services raise for refused input or actions."""

from __future__ import annotations


class SubmitError(Exception):
    """A refused request or worker action, with the AI Horde's status code and rc name.

    `field` names the offending input (dotted, e.g. "params.width") so the page
    form can put the message next to the right field; None for the whole body.
    """

    def __init__(self, status_code: int, rc: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.rc = rc
        self.message = message
        self.field = field

    def __repr__(self) -> str:
        return f"SubmitError({self.status_code}, {self.rc!r}, {self.message!r}, field={self.field!r})"


def bad(rc: str, message: str, field: str | None = None) -> SubmitError:
    return SubmitError(400, rc, message, field)
