"""Run one target in several threads at once, each with its own database connection."""

from __future__ import annotations

import threading

from django.db import connection


def run_in_threads(target, count: int = 2) -> list:
    """`target(index)` in `count` threads; returns each result, or the exception it raised
    (the test inspects what each thread met). Each thread closes its connection, so the test
    database can be dropped afterwards."""
    results: list = [None] * count

    def run(index: int) -> None:
        try:
            results[index] = target(index)
        except Exception as exc:
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results
