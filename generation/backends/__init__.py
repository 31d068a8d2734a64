"""Inference backends behind one interface.

A backend turns a JobSpec into a PIL image of the requested size; the
platform (not the backend) encodes webp, stores it and does the bookkeeping.
Backends are looked up by name (`gpu_worker --backend NAME`).
"""

from __future__ import annotations

import importlib

from .base import InferenceBackend, JobSpec

BACKENDS = {
    "procedural": "generation.backends.procedural:ProceduralBackend",
    "diffusers": "generation.backends.diffusers_backend:DiffusersBackend",
}


def get_backend(name: str, **options: object) -> InferenceBackend:
    try:
        target = BACKENDS[name]
    except KeyError:
        raise ValueError(f"Unknown backend {name!r}; choose from {', '.join(sorted(BACKENDS))}.") from None
    module_name, _, class_name = target.partition(":")
    backend_class = getattr(importlib.import_module(module_name), class_name)
    return backend_class(**options)


__all__ = ["BACKENDS", "InferenceBackend", "JobSpec", "get_backend"]
