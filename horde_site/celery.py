"""The Celery app: configured from Django settings (CELERY_*), tasks autodiscovered.

Workers log through the project's LOGGING (JSON lines in production, each with the id of
the task that wrote it), not Celery's own handlers: one log format for every process.
"""

from __future__ import annotations

import logging
import logging.config
import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "horde_site.settings")

app = Celery("horde")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.celeryd_init.connect
def _log_from_the_start(**kwargs: object) -> None:
    """Before the worker's first words (its privilege warnings come before Celery's own
    logging set-up)."""
    _use_the_project_logging()


@signals.setup_logging.connect
def _leave_logging_to_the_project(loglevel: int | str | None = None, **kwargs: object) -> None:
    """A receiver here tells Celery to leave logging alone (no root hijack, no handlers of
    its own, no stdout redirection); the worker's --loglevel still sets the level."""
    _use_the_project_logging()
    if loglevel:
        logging.getLogger().setLevel(loglevel)


def _use_the_project_logging() -> None:
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
    # Python warnings (Celery's security and deprecation notices) become log lines too.
    logging.captureWarnings(True)
