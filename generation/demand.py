"""Which models a demand-following worker serves (`gpu_worker --dynamic-models N`).

Pure functions over the `status/models` figures (generation.selectors.model_stats):
per model, megapixel-steps queued (`queued`), jobs queued, the summed speed of the
workers serving it (`performance`, megapixel-steps per second) and their count.

Unmet demand is measured without this worker: for a model it serves now, its own
speed is taken out of `performance`, so serving a model does not by itself make
that model look covered (which would make the worker flip between models every
round). Ranking, most unmet first:
1. queued work that no other worker serves (the most megapixel-steps first);
2. the longest time the other workers would need to clear the queue;
3. on ties (no queue anywhere), the models it serves now, so an idle worker does not
   unload and load models for nothing; then by name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def unmet_demand(row: Mapping[str, Any], *, own_speed: float, serving: bool) -> tuple[bool, float, float]:
    """(nobody else serves queued work, seconds the others need, megapixel-steps queued)."""
    queued = float(row.get("queued") or 0.0)
    others = float(row.get("performance") or 0.0) - (own_speed if serving else 0.0)
    others_count = int(row.get("count") or 0) - (1 if serving else 0)
    if queued <= 0:
        return False, 0.0, 0.0
    if others_count <= 0 or others <= 1e-9:
        return True, float("inf"), queued
    return False, queued / others, queued


def models_by_demand(
    *,
    stats: Iterable[Mapping[str, Any]],
    candidates: Iterable[str],
    current: Iterable[str],
    own_speed: float,
    count: int,
) -> list[str]:
    """The `count` candidate models with the most unmet demand (see the module docstring)."""
    wanted = set(candidates)
    serving = set(current)
    rows = {row["name"]: row for row in stats if row["name"] in wanted}
    for name in wanted - set(rows):
        rows[name] = {"name": name}  # no figures (disabled or unknown): no demand

    def key(name: str) -> tuple:
        alone, seconds, queued = unmet_demand(rows[name], own_speed=own_speed, serving=name in serving)
        return (not alone, -seconds, -queued, name not in serving, name)

    return sorted(rows, key=key)[: max(0, count)]
