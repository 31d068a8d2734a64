"""The errors generation services raise for refused input or actions.

Two kinds, named for who was refused: a requester (`RequestRefused`: submit,
cancel) or a worker (`WorkerActionRefused`: register, pop, submit of an image).
Both carry the AI Horde's status code and rc name, so the API turns either into
`{"message", "rc"}` the same way (catch `GenerationError` for both).
"""

from __future__ import annotations


class GenerationError(Exception):
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
        return f"{type(self).__name__}({self.status_code}, {self.rc!r}, {self.message!r}, field={self.field!r})"


class RequestRefused(GenerationError):
    """A requester's submission or cancellation was refused (bad input, model rules, ownership)."""


class WorkerActionRefused(GenerationError):
    """A worker's registration, pop or image submit was refused (bad image, job no longer theirs)."""


def bad(rc: str, message: str, field: str | None = None) -> RequestRefused:
    """A 400 refusal of a requester's input."""
    return RequestRefused(400, rc, message, field)


def worker_bad(rc: str, message: str, field: str | None = None) -> WorkerActionRefused:
    """A 400 refusal of a worker's action."""
    return WorkerActionRefused(400, rc, message, field)


class ControlRefused(GenerationError):
    """An owner's or staff's change to a worker, team or worker message was refused
    (not theirs, staff only, a name taken, nothing to change)."""
