"""The diffusers backend: real SDXL inference (base, and the refiner where a recipe asks).

Weights come only from local folders, ``HORDE_MODELS_DIR/<checkpoint>`` in the
diffusers layout (``model_index.json`` plus one folder per component); nothing is
downloaded. A checkpoint that is missing is a ``ModelNotFound`` naming the folder it
looked in, raised by ``prepare()`` when the worker starts, or by ``generate()`` for a
recipe that was not prepared.

Loaded checkpoints stay in memory across jobs. Several stay resident while they fit
(``max_resident``, an optional ``memory_budget_mb``, and on CUDA the free memory the
driver reports); past that the least recently used one is swapped out.

fp16 on CUDA, fp32 on the CPU. The same seed with the same recipe gives the same
image: the noise comes from a CPU ``torch.Generator`` seeded with the job's seed, and
cuDNN autotuning (which may pick different kernels run to run) is off.

Needs the optional install (requirements-gpu.txt): torch, diffusers, transformers.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Before diffusers/transformers/huggingface_hub are imported: they read these once.
# A worker never reaches the network for weights; local_files_only below says so again.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import diffusers
import torch
import transformers
from diffusers import (
    DDIMScheduler,
    DPMSolverMultistepScheduler,
    EulerAncestralDiscreteScheduler,
    EulerDiscreteScheduler,
    HeunDiscreteScheduler,
    LMSDiscreteScheduler,
    StableDiffusionXLImg2ImgPipeline,
    StableDiffusionXLPipeline,
    UniPCMultistepScheduler,
)
from PIL import Image

from .base import JobSpec
from .recipes import RecipeError, recipe_validate, scheduler_for

log = logging.getLogger(__name__)
# Progress bars belong to a terminal, not to a worker's log.
diffusers.utils.logging.disable_progress_bar()
transformers.utils.logging.disable_progress_bar()

__all__ = ["BackendError", "DiffusersBackend", "ModelNotFound", "RecipeError", "recipe_validate"]

# Recipe scheduler name -> (scheduler class, options on top of the checkpoint's scheduler config).
SCHEDULER_CLASSES: dict[str, tuple[type, dict[str, Any]]] = {
    "euler": (EulerDiscreteScheduler, {}),
    "euler_a": (EulerAncestralDiscreteScheduler, {}),
    "ddim": (DDIMScheduler, {}),
    "dpmpp_2m": (DPMSolverMultistepScheduler, {"algorithm_type": "dpmsolver++", "solver_order": 2}),
    "dpmpp_2m_karras": (
        DPMSolverMultistepScheduler,
        {"algorithm_type": "dpmsolver++", "solver_order": 2, "use_karras_sigmas": True},
    ),
    "heun": (HeunDiscreteScheduler, {}),
    "lms": (LMSDiscreteScheduler, {}),
    "unipc": (UniPCMultistepScheduler, {}),
}

_WEIGHT_SUFFIXES = (".safetensors", ".bin")
_MIB = 1024 * 1024
# Room left on the GPU besides the weights: activations of one 1024x1024 SDXL call.
_CUDA_HEADROOM_BYTES = 3 * 1024 * _MIB


class BackendError(RuntimeError):
    """The diffusers backend cannot run (bad set-up, not a bad job)."""


class ModelNotFound(BackendError):
    """A recipe names a checkpoint folder that is not in HORDE_MODELS_DIR."""


@dataclass
class _Resident:
    pipe: Any  # StableDiffusionXLPipeline or StableDiffusionXLImg2ImgPipeline
    estimate_bytes: int
    # The checkpoint's own scheduler config: every recipe's scheduler starts from it, so one
    # job's scheduler options (karras sigmas...) never leak into the next job's.
    scheduler_config: Any


def _setting(name: str, default: Any) -> Any:
    """A Django setting when Django is configured (the worker), else the default (scripts)."""
    try:
        from django.conf import settings

        if settings.configured:
            return getattr(settings, name, default)
    except ImportError:  # pragma: no cover - Django is always installed with Horde
        pass
    return default


def _snap(value: int, multiple: int) -> int:
    """Round up to a multiple the VAE and UNet accept; the image is resized back after."""
    return max(multiple, -(-value // multiple) * multiple)


class DiffusersBackend:
    name = "diffusers"

    def __init__(
        self,
        *,
        models_dir: str | os.PathLike[str] | None = None,
        device: str | None = None,
        max_resident: int | None = None,
        memory_budget_mb: int | None = None,
        dtype: str | None = None,
        compile_unet: bool = False,
        recipes: list[dict[str, Any]] | None = None,
    ) -> None:
        self.models_dir = Path(models_dir or _setting("HORDE_MODELS_DIR", "var/models")).resolve()
        device = device or _setting("HORDE_DIFFUSERS_DEVICE", "") or ("cuda" if torch.cuda.is_available() else "cpu")
        self.device = torch.device(device)
        if self.device.type == "cuda" and not torch.cuda.is_available():
            raise BackendError(f"Device {device!r} was asked for but torch sees no CUDA GPU.")
        if dtype is None:
            self.dtype = torch.float16 if self.device.type == "cuda" else torch.float32
        else:
            try:
                self.dtype = {"float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32}[dtype]
            except KeyError:
                raise BackendError(f"dtype must be float16, bfloat16 or float32, not {dtype!r}.") from None
        self.max_resident = max_resident if max_resident is not None else _setting("HORDE_DIFFUSERS_MAX_RESIDENT", 3)
        if self.max_resident < 1:
            raise BackendError("max_resident must be at least 1.")
        budget_mb = (
            memory_budget_mb if memory_budget_mb is not None else _setting("HORDE_DIFFUSERS_MEMORY_BUDGET_MB", 0)
        )
        self.memory_budget_bytes = budget_mb * _MIB if budget_mb else None
        self.compile_unet = compile_unet
        if self.device.type == "cuda":
            # Autotuning may choose other kernels from one run to the next: same seed, other pixels.
            torch.backends.cudnn.benchmark = False
            torch.backends.cudnn.deterministic = True
        # One GPU, one job at a time: loading and drawing are serialised.
        self._lock = threading.RLock()
        # Guards the bookkeeping below only, so the heartbeat thread's device_info()
        # answers at once instead of waiting for the job in progress.
        self._state_lock = threading.Lock()
        # (role, checkpoint) -> loaded pipeline, least recently used first.
        self._resident: OrderedDict[tuple[str, str], _Resident] = OrderedDict()
        # Pipelines seen (label -> normalised recipe), for device_info's "loaded_pipelines".
        self._pipelines: dict[str, dict[str, Any]] = {}
        self._unnamed: set[str] = set()
        self.last_inference_seconds: float | None = None
        self.last_load_seconds: float = 0.0
        if recipes:
            self.prepare(recipes)

    # --- start-up -------------------------------------------------------------------------

    def prepare(self, recipes: list[dict[str, Any]], *, preload: bool = True) -> list[dict[str, Any]]:
        """Validate the recipes a worker will serve and check every checkpoint is on disk.

        Call it when the worker starts so a bad recipe or a missing folder stops the worker
        there, not at its first job. Then loads them (while they fit), so the first job does
        not pay the load. Safe to call again: what is loaded stays loaded.

        Each item is a recipe, or a pipeline as data: {"name", "version", "recipe"} (the name
        then labels it in device_info). Returns the normalised recipes.
        """
        labelled: list[tuple[str | None, dict[str, Any]]] = []
        for item in recipes:
            if isinstance(item, dict) and "recipe" in item:
                label = f"{item.get('name', '?')} v{item.get('version', '1')}"
                labelled.append((label, recipe_validate(item["recipe"])))
            else:
                labelled.append((None, recipe_validate(item)))
        normalised = [recipe for _label, recipe in labelled]
        for recipe in normalised:
            for _role, checkpoint in self._checkpoints_of(recipe):
                self._checkpoint_path(checkpoint)
        with self._lock:
            for label, recipe in labelled:
                self._pipeline_seen(label, recipe)
            if preload:
                for recipe in normalised:
                    needed = self._checkpoints_of(recipe)
                    if len(self._resident) + len([n for n in needed if n not in self._resident]) > self.max_resident:
                        break  # the rest load on demand, swapping the least recently used
                    for role, checkpoint in needed:
                        self._load(role, checkpoint, keep=set(needed))
        return normalised

    # --- the interface ----------------------------------------------------------------------

    def generate(self, spec: JobSpec) -> Image.Image:
        recipe = recipe_validate(spec.recipe)
        steps = recipe["steps"] or spec.steps
        guidance = recipe["guidance"] if recipe["guidance"] is not None else spec.cfg_scale
        with self._lock:
            self._pipeline_seen(f"{spec.pipeline_name} v{spec.pipeline_version}", recipe)
            needed = self._checkpoints_of(recipe)
            load_started = time.perf_counter()
            base = self._load("base", recipe["base"], keep=set(needed))
            refiner = self._load("refiner", recipe["refiner"], keep=set(needed)) if recipe["refiner"] else None
            self.last_load_seconds = time.perf_counter() - load_started

            multiple = base.vae_scale_factor * 8  # the UNet halves the latents a few times
            width, height = _snap(spec.width, multiple), _snap(spec.height, multiple)
            # A CPU generator gives the same noise whatever the device: same seed, same image.
            generator = torch.Generator("cpu").manual_seed(spec.seed % 2**63)
            scheduler = scheduler_for(recipe, sampler_name=spec.sampler_name, karras=bool(spec.extra.get("karras")))
            base.scheduler = self._scheduler(scheduler, ("base", recipe["base"]))
            common = {
                "prompt": spec.prompt,
                "negative_prompt": spec.negative_prompt or None,
                "num_inference_steps": steps,
                "guidance_scale": guidance,
                "generator": generator,
            }
            started = time.perf_counter()
            if refiner is None:
                image = base(width=width, height=height, **common).images[0]
            else:
                refiner.scheduler = self._scheduler(scheduler, ("refiner", recipe["refiner"]))
                # The base denoises the first part of the schedule and hands over its latents;
                # the refiner takes the same schedule from that point (the SDXL ensemble of experts).
                latents = base(
                    width=width,
                    height=height,
                    denoising_end=recipe["refiner_switch"],
                    output_type="latent",
                    **common,
                ).images
                image = refiner(image=latents, denoising_start=recipe["refiner_switch"], **common).images[0]
            if self.device.type == "cuda":
                torch.cuda.synchronize(self.device)
            self.last_inference_seconds = time.perf_counter() - started

        if image.size != (spec.width, spec.height):
            image = image.resize((spec.width, spec.height), Image.Resampling.LANCZOS)
        image.info["inference_seconds"] = self.last_inference_seconds
        return image

    def device_info(self) -> dict[str, Any]:
        with self._state_lock:
            resident = list(self._resident)
            loaded_pipelines = sorted(
                label
                for label, recipe in self._pipelines.items()
                if all(key in self._resident for key in self._checkpoints_of(recipe))
            )
        if self.device.type == "cuda":
            index = self.device.index if self.device.index is not None else torch.cuda.current_device()
            free, total = torch.cuda.mem_get_info(index)
            device_name = torch.cuda.get_device_name(index)
            used = torch.cuda.memory_allocated(index)
            memory = {
                "memory_kind": "cuda_allocated",
                "memory_used_mb": round(used / _MIB),
                "memory_total_mb": round(total / _MIB),
                "memory_free_mb": round(free / _MIB),
                "memory": f"{used / _MIB:,.0f} of {total / _MIB:,.0f} MB GPU memory",
            }
        else:
            device_name = f"CPU ({torch.get_num_threads()} threads)"
            used = _process_rss()
            memory = {"memory_kind": "process_rss", "memory_used_mb": round(used / _MIB)}
            total = _system_memory()
            if total:
                memory["memory_total_mb"] = round(total / _MIB)
            memory["memory"] = f"{used / _MIB:,.0f} MB (process RSS)"
        return {
            "backend": self.name,
            # What the workers page shows: the card's name, then the torch device.
            "device": f"{device_name}, {self.device}",
            "device_type": self.device.type,
            "device_name": device_name,
            "dtype": str(self.dtype).removeprefix("torch."),
            **memory,
            "loaded_checkpoints": [f"{checkpoint} ({role})" for role, checkpoint in resident],
            "loaded_pipelines": loaded_pipelines,
            "max_resident": self.max_resident,
            "torch": torch.__version__,
            "diffusers": diffusers.__version__,
        }

    # --- loading and swapping ---------------------------------------------------------------

    @staticmethod
    def _checkpoints_of(recipe: dict[str, Any]) -> list[tuple[str, str]]:
        needed = [("base", recipe["base"])]
        if recipe["refiner"]:
            needed.append(("refiner", recipe["refiner"]))
        return needed

    def _pipeline_seen(self, label: str | None, recipe: dict[str, Any]) -> None:
        """Remember a served pipeline for device_info, by name where known, else by its checkpoints."""
        unnamed = recipe["base"] + (f" + {recipe['refiner']}" if recipe["refiner"] else "")
        if label is None and recipe in self._pipelines.values():
            return
        with self._state_lock:
            if label is None:
                self._unnamed.add(unnamed)
            else:
                # A recipe first prepared without a name is now known by its pipeline's name.
                for old_label in [old for old in self._unnamed if self._pipelines.get(old) == recipe]:
                    del self._pipelines[old_label]
                    self._unnamed.discard(old_label)
            self._pipelines[label or unnamed] = recipe

    def _checkpoint_path(self, checkpoint: str) -> Path:
        path = self.models_dir / checkpoint
        index = path / "model_index.json"
        if not index.is_file():
            raise ModelNotFound(
                f"Checkpoint {checkpoint!r} not found: looked for the diffusers folder {path} "
                f"(with model_index.json) in HORDE_MODELS_DIR={self.models_dir}. "
                "Put the weights there in diffusers format (pipeline.save_pretrained); "
                "nothing is downloaded at run time."
            )
        try:
            class_name = json.loads(index.read_text()).get("_class_name", "")
        except (OSError, ValueError) as exc:
            raise BackendError(f"Checkpoint folder {path} has an unreadable model_index.json: {exc}") from exc
        if not str(class_name).startswith("StableDiffusionXL"):
            raise BackendError(
                f"Checkpoint folder {path} holds a {class_name or 'unknown'} pipeline; "
                "the diffusers backend runs SDXL checkpoints (StableDiffusionXL*)."
            )
        return path

    def _variant(self, path: Path) -> str | None:
        if self.dtype == torch.float16 and any(path.glob("unet/*.fp16.safetensors")):
            return "fp16"
        return None

    def _estimate_bytes(self, path: Path, variant: str | None) -> int:
        files = [f for f in path.rglob("*") if f.suffix in _WEIGHT_SUFFIXES and ((".fp16." in f.name) == bool(variant))]
        size = sum(f.stat().st_size for f in files)
        if self.dtype != torch.float32 and not variant:
            size //= 2  # fp32 files loaded as half precision
        return size

    def _load(self, role: str, checkpoint: str, *, keep: set[tuple[str, str]]) -> Any:
        """The loaded pipeline for (role, checkpoint), loading it (and swapping others out) if needed."""
        key = (role, checkpoint)
        if key in self._resident:
            with self._state_lock:
                self._resident.move_to_end(key)
            return self._resident[key].pipe
        path = self._checkpoint_path(checkpoint)
        variant = self._variant(path)
        estimate = self._estimate_bytes(path, variant)
        self._make_room(estimate, keep=keep)
        pipeline_class = StableDiffusionXLPipeline if role == "base" else StableDiffusionXLImg2ImgPipeline
        started = time.perf_counter()
        try:
            pipe = pipeline_class.from_pretrained(
                path,
                local_files_only=True,
                dtype=self.dtype,
                variant=variant,
                use_safetensors=True,
                add_watermarker=False,
            )
        except (OSError, ValueError, TypeError) as exc:
            raise BackendError(f"Could not load the {role} checkpoint from {path}: {exc}") from exc
        pipe = pipe.to(self.device)
        pipe.set_progress_bar_config(disable=True)
        if self.compile_unet:
            pipe.unet = torch.compile(pipe.unet, mode="max-autotune", fullgraph=True)
        with self._state_lock:
            self._resident[key] = _Resident(pipe=pipe, estimate_bytes=estimate, scheduler_config=pipe.scheduler.config)
        log.info("loaded %s checkpoint %s on %s in %.1fs", role, path, self.device, time.perf_counter() - started)
        return pipe

    def _make_room(self, incoming_bytes: int, *, keep: set[tuple[str, str]]) -> None:
        """Swap out least recently used checkpoints (never those in `keep`) until the next one fits."""
        while True:
            victims = [key for key in self._resident if key not in keep]
            if not victims:
                return  # what the current job needs stays, even past the limits
            resident_bytes = sum(r.estimate_bytes for r in self._resident.values())
            too_many = len(self._resident) >= self.max_resident
            over_budget = self.memory_budget_bytes is not None and (
                resident_bytes + incoming_bytes > self.memory_budget_bytes
            )
            short_on_gpu = False
            if self.device.type == "cuda":
                free, _total = torch.cuda.mem_get_info(self.device)
                short_on_gpu = free < incoming_bytes + _CUDA_HEADROOM_BYTES
            if not (too_many or over_budget or short_on_gpu):
                return
            self._evict(victims[0])

    def _evict(self, key: tuple[str, str]) -> None:
        with self._state_lock:
            del self._resident[key]
        gc.collect()
        if self.device.type == "cuda":
            torch.cuda.empty_cache()
        log.info("swapped out %s checkpoint %s", *key)

    def _scheduler(self, name: str, key: tuple[str, str]) -> Any:
        # A fresh scheduler per call: schedulers keep per-run state (timesteps, step index).
        scheduler_class, options = SCHEDULER_CLASSES[name]
        return scheduler_class.from_config(self._resident[key].scheduler_config, **options)


def _process_rss() -> int:
    try:
        import psutil

        return psutil.Process().memory_info().rss
    except ImportError:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _system_memory() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None
