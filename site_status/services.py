"""Writes of the site status: staff switch modes (the admin calls modes_set)."""

from __future__ import annotations

import logging

from .models import HordeModes
from .selectors import Modes

logger = logging.getLogger(__name__)


def modes_set(*, maintenance: bool, invite_only: bool) -> Modes:
    """Switch the site's modes; every process reads them from the row, so it holds at once."""
    HordeModes.objects.update_or_create(pk=1, defaults={"maintenance": maintenance, "invite_only": invite_only})
    logger.warning("site modes set: maintenance=%s invite_only=%s", maintenance, invite_only)
    return Modes(maintenance=maintenance, invite_only=invite_only)
